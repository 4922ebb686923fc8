import type { ViewModel } from '@kassa/core';
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
export declare class ProviderViews {
    private readonly found;
    resolve(vm: ViewModel | null | undefined): ResolvedView | null;
    private lookup;
}
