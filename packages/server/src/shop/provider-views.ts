import { existsSync } from 'node:fs';
import path from 'node:path';
import type { ViewModel } from '@kassa/core';
import { viewsDir } from '../infra/views';

/** A provider view model ready for `include()`: the template path the shop's templates can pass on. */
export interface ResolvedView {
  partial: string;
  data: Record<string, unknown>;
}

/**
 * Turns a provider's ViewModel into something the templates can include. Plugin partials
 * ("@stripe/checkout") are resolved by the views plugin; the built-in providers name theirs
 * relative to the server's views ("kassa/manual-pending", looked up in views/ and views/partials/).
 * A partial nobody ships falls back to a plain rendering of its text fields, so a missing template
 * degrades the page instead of breaking the checkout.
 */
export class ProviderViews {
  private readonly found = new Map<string, string | null>();

  resolve(vm: ViewModel | null | undefined): ResolvedView | null {
    if (!vm) return null;
    if (vm.partial.startsWith('@')) return { partial: vm.partial, data: vm.data };
    const partial = this.lookup(vm.partial);
    if (partial) return { partial, data: vm.data };
    return { partial: '/shop/partials/provider-fallback', data: { fields: textFields(vm.data) } };
  }

  private lookup(name: string): string | null {
    const cached = this.found.get(name);
    if (cached !== undefined) return cached;
    const clean = name.replace(/^\/+/, '').replace(/\.eta$/, '');
    let result: string | null = null;
    if (!clean.split('/').includes('..')) {
      for (const candidate of [clean, `partials/${clean}`]) {
        if (existsSync(path.join(viewsDir, `${candidate}.eta`))) {
          result = `/${candidate}`;
          break;
        }
      }
    }
    this.found.set(name, result);
    return result;
  }
}

function textFields(data: Record<string, unknown>): { key: string; value: string }[] {
  return Object.entries(data)
    .filter(([, v]) => typeof v === 'string' && v.length > 0)
    .map(([key, value]) => ({ key, value: value as string }));
}
