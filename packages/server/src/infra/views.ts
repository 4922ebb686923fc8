import path from 'node:path';
import fp from 'fastify-plugin';
import fastifyView from '@fastify/view';
import { Eta } from 'eta';
import { formatDateTime, formatMoney, toDecimalInput } from './format';

/** Where the server's own templates live (layouts/, shop/, control/, partials/). */
export const viewsDir = path.join(__dirname, '..', 'views');

export interface ViewsOptions {
  /** Plugin name → absolute folder of that plugin's Eta partials, included as "plugin:<plugin>/<partial>". */
  pluginViews?: Readonly<Record<string, string>>;
  /** Recompile on every render (development); otherwise compiled templates are cached. */
  devTemplates?: boolean;
}

/**
 * Eta that also resolves "plugin:stripe/checkout" into the stripe plugin's own views folder, so a
 * provider's ViewModel.partial can name its partial without the server knowing the plugin's path.
 * Not "@…": Eta 4 treats names starting with "@" as named templates and never calls resolvePath.
 */
class KassaEta extends Eta {
  constructor(pluginViews: Readonly<Record<string, string>>) {
    super({ autoEscape: true, views: viewsDir });
    const base = this.resolvePath;
    // A template's path depends only on its name and the including file's: found once, not per render and include.
    const resolved = new Map<string, string>();
    this.resolvePath = function resolveKnown(template, options) {
      const key = `${template}\0${options?.filepath ?? ''}`;
      let file = resolved.get(key);
      if (file === undefined) {
        file = resolvePluginAware.call(this, template, options);
        if (resolved.size >= 1000) resolved.clear();
        resolved.set(key, file);
      }
      return file;
    };
    function resolvePluginAware(this: ThisParameterType<Eta['resolvePath']>, template: string, options?: Parameters<Eta['resolvePath']>[1]): string {
      const m = /^plugin:([a-z0-9-]+)\/(.+)$/.exec(template);
      const dir = m ? pluginViews[m[1]!] : undefined;
      if (m && dir) {
        const file = path.resolve(dir, m[2]!.endsWith('.eta') ? m[2]! : `${m[2]!}.eta`);
        if (!file.startsWith(path.resolve(dir) + path.sep)) throw new Error(`Partial ${template} escapes its plugin folder`);
        return file;
      }
      // "./name" inside a plugin's partial: a sibling in that plugin's folder (Eta's own check would
      // refuse any file outside the server's views folder).
      const from = options?.filepath;
      const home = from && template.startsWith('./') ? Object.values(pluginViews).find((d) => from.startsWith(path.resolve(d) + path.sep)) : undefined;
      if (home) {
        const file = path.resolve(path.dirname(from as string), template.endsWith('.eta') ? template : `${template}.eta`);
        if (!file.startsWith(path.resolve(home) + path.sep)) throw new Error(`Partial ${template} escapes its plugin folder`);
        return file;
      }
      return base.call(this, template, options);
    }
  }
}

/**
 * Where a provider's ViewModel.partial ("<plugin>/<name>") lives: in that plugin's views folder
 * when the plugin declared one, otherwise among the server's shared partials (the built-in
 * providers' "kassa/manual-pending" is views/partials/kassa/manual-pending.eta).
 * Templates use it as `include(it.providerPartial(vm.partial), { ...vm.data, fmt: it.fmt })`.
 */
export function providerPartialPath(pluginViews: Readonly<Record<string, string>>): (partial: string) => string {
  return (partial) => {
    // Providers name partials "<plugin>/<name>"; a leading "@" is accepted for compatibility.
    const [plugin, ...rest] = partial.replace(/^@/, '').split('/');
    if (plugin && rest.length > 0 && pluginViews[plugin]) return `plugin:${plugin}/${rest.join('/')}`;
    return `/partials/${partial}`;
  };
}

/** Registers reply.view() with Eta and the helpers every template may use (`it.fmt`). */
export const viewsPlugin = fp<ViewsOptions>(async (app, opts) => {
  const pluginViews = opts.pluginViews ?? {};
  // @fastify/view gives every reply an empty `reply.locals` in an onRequest hook of its own unless the
  // decorator exists; no template of ours reads locals (their data is passed to reply.view), so
  // every request, a bodiless redirect or a webhook included, is spared that hook.
  app.decorateReply('locals', null);
  await app.register(fastifyView, {
    engine: { eta: new KassaEta(pluginViews) },
    templates: viewsDir,
    production: !opts.devTemplates,
    defaultContext: { fmt: { money: formatMoney, date: formatDateTime, decimal: toDecimalInput }, providerPartial: providerPartialPath(pluginViews) },
  });
}, { name: 'kassa-views' });
