import path from 'node:path';
import fp from 'fastify-plugin';
import type { FastifyReply } from 'fastify';
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

declare module 'fastify' {
  interface FastifyInstance {
    /** The page `page` (a template name under views/, without .eta) rendered with `data`. */
    view(page: string, data?: object): Promise<string>;
  }
  interface FastifyReply {
    /** Renders `page` with `data` and sends it as HTML (text/html unless a type was set); a render error goes to the error handler. */
    view(page: string, data?: object): FastifyReply;
    /** The page rendered, not sent. */
    viewAsync(page: string, data?: object): Promise<string>;
  }
}

/**
 * Registers reply.view(), reply.viewAsync() and app.view() with Eta and the helpers every template
 * may use (`it.fmt`). Rendered here directly, synchronously, with the compiled templates Eta caches:
 * a generic view plugin (@fastify/view, used before) reconfigured the engine, merged three option
 * objects, and went through two promises on every render, for pages that need none of it.
 */
export const viewsPlugin = fp<ViewsOptions>(async (app, opts) => {
  const pluginViews = opts.pluginViews ?? {};
  const eta = new KassaEta(pluginViews);
  // Compiled templates are kept unless templates are edited live (development).
  eta.configure({ cache: !opts.devTemplates });
  const defaultContext = { fmt: { money: formatMoney, date: formatDateTime, decimal: toDecimalInput }, providerPartial: providerPartialPath(pluginViews) };
  const render = (page: string, data?: object): string => eta.render(page, { ...defaultContext, ...data });

  app.decorate('view', async (page: string, data?: object) => render(page, data));
  app.decorateReply('viewAsync', async function viewAsync(this: FastifyReply, page: string, data?: object) {
    const html = render(page, data);
    if (!this.hasHeader('content-type')) this.type(htmlType);
    return html;
  });
  app.decorateReply('view', function view(this: FastifyReply, page: string, data?: object) {
    let html: string;
    try {
      html = render(page, data);
    } catch (err) {
      return this.send(err);
    }
    if (!this.hasHeader('content-type')) this.type(htmlType);
    return this.send(html);
  });
}, { name: 'kassa-views' });

const htmlType = 'text/html; charset=utf-8';
