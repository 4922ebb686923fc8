/** Where the server's own templates live (layouts/, shop/, control/, partials/). */
export declare const viewsDir: string;
export interface ViewsOptions {
    /** Plugin name → absolute folder of that plugin's Eta partials, included as "@<plugin>/<partial>". */
    pluginViews?: Readonly<Record<string, string>>;
    /** Recompile on every render (development); otherwise compiled templates are cached. */
    devTemplates?: boolean;
}
/**
 * Where a provider's ViewModel.partial ("<plugin>/<name>") lives: in that plugin's views folder
 * when the plugin declared one, otherwise among the server's shared partials (the built-in
 * providers' "kassa/manual-pending" is views/partials/kassa/manual-pending.eta).
 * Templates use it as `include(it.providerPartial(vm.partial), { ...vm.data, fmt: it.fmt })`.
 */
export declare function providerPartialPath(pluginViews: Readonly<Record<string, string>>): (partial: string) => string;
/** Registers reply.view() with Eta and the helpers every template may use (`it.fmt`). */
export declare const viewsPlugin: import("fastify").FastifyPluginCallback<ViewsOptions, import("fastify").RawServerDefault, import("fastify").FastifyTypeProviderDefault, import("fastify").FastifyBaseLogger>;
