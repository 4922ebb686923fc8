import { existsSync } from 'node:fs';
import path from 'node:path';
import { Eta } from 'eta';
import type { ViewModel } from '@kassa/core/host';
import { formatDateTime, formatMoney, toDecimalInput } from '../infra/format';
import { viewsDir } from '../infra/views';

const helpers = { money: formatMoney, date: formatDateTime, decimal: toDecimalInput };

/**
 * Renders a provider's ViewModel (checkout form, confirm summary, pending instructions) to HTML
 * that the shop's templates embed. A partial named "<plugin>/<name>" (a leading "@" is tolerated) comes
 * from that plugin's views folder; any other name ("kassa/manual-pending") from the server's
 * views/partials. Each folder gets its own Eta (autoescaping, compiled templates cached), so a
 * plugin partial can never reach outside its folder. Partials receive their data plus `it.fmt`.
 *
 * A partial nobody ships falls back to a plain rendering of its text fields, so a missing
 * template degrades the page instead of breaking the checkout.
 */
export class ProviderViews {
  private readonly engines = new Map<string, Eta>();

  constructor(private readonly pluginViews: Readonly<Record<string, string>> = {}) {}

  render(vm: ViewModel | null | undefined): string | null {
    if (!vm) return null;
    const found = this.locate(vm.partial);
    const data = { ...vm.data, fmt: helpers };
    if (found) return this.engine(found.dir).render(found.name, data);
    return this.engine(viewsDir).render('/shop/partials/provider-fallback', { fields: textFields(vm.data) });
  }

  /** Where each partial was found (or not): the templates are part of the installation, so asked once per partial. */
  private readonly located = new Map<string, { dir: string; name: string } | null>();

  private locate(partial: string): { dir: string; name: string } | null {
    let found = this.located.get(partial);
    if (found === undefined) {
      found = this.find(partial);
      if (this.located.size >= 1000) this.located.clear();
      this.located.set(partial, found);
    }
    return found;
  }

  private find(partial: string): { dir: string; name: string } | null {
    const clean = partial.replace(/^@/, '').replace(/\.eta$/, '');
    const [first, ...rest] = clean.split('/');
    if (!first || rest.length === 0 || clean.split('/').includes('..')) return null;
    const pluginDir = this.pluginViews[first];
    const candidates = pluginDir
      ? [{ dir: pluginDir, name: `/${rest.join('/')}` }]
      : [{ dir: viewsDir, name: `/partials/${clean}` }, { dir: viewsDir, name: `/${clean}` }];
    return candidates.find((c) => existsSync(path.join(c.dir, `${c.name}.eta`))) ?? null;
  }

  private engine(dir: string): Eta {
    let eta = this.engines.get(dir);
    if (!eta) {
      eta = new Eta({ views: dir, autoEscape: true, cache: true });
      this.engines.set(dir, eta);
    }
    return eta;
  }
}

function textFields(data: Record<string, unknown>): { key: string; value: string }[] {
  return Object.entries(data)
    .filter(([, v]) => typeof v === 'string' && v.length > 0)
    .map(([key, value]) => ({ key, value: value as string }));
}
