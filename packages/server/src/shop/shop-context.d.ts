import { type BasePaymentProvider, type Clock, type DataSource, type Event, type KassaCore, type Money, type ProviderContext, type ProviderContextFactory } from '@kassa/core';
import { CatalogReader, type PricedCart } from './catalog';
import { ProviderViews, type ResolvedView } from './provider-views';
import { SubmissionStore } from './submission-store';
/** The provider registry as the shop sees it. */
export interface ShopProviders {
    get(identifier: string): BasePaymentProvider;
    has(identifier: string): boolean;
    list(): BasePaymentProvider[];
}
export interface ShopDeps {
    dataSource: DataSource;
    clock: Clock;
    core: KassaCore;
    providers: ShopProviders;
    providerContext: ProviderContextFactory;
    /** Per-address limit on placing orders (bench/ lifts it; a real shop keeps the default). */
    placeOrderRateLimit?: {
        max: number;
        timeWindow: string | number;
    };
}
/** A payment method as offered to the buyer. */
export interface OfferedMethod {
    identifier: string;
    name: string;
    implicit: boolean;
    fee: Money;
    /** The provider's checkout form, resolved for include(). */
    form: ResolvedView | null;
    provider: BasePaymentProvider;
    ctx: ProviderContext;
}
/**
 * Everything the shop routes share for one app: the core services, the cached catalog reader,
 * the idempotency ledger and the provider view resolver. Built once in shopRoutes.
 */
export declare class ShopContext {
    readonly deps: ShopDeps;
    readonly catalog: CatalogReader;
    readonly submissions: SubmissionStore;
    readonly views: ProviderViews;
    readonly placeOrderRateLimit: {
        max: number;
        timeWindow: string | number;
    };
    constructor(deps: ShopDeps);
    /** The buyer's order page of an order, by id (for a duplicate submission that only knows the id). */
    orderPageById(orderId: string | null): Promise<string>;
    /**
     * The methods a buyer may choose for `total` (which excludes any payment fee): enabled and allowed
     * by core's availability check, with the fee each would add. Ordered as the registry orders them.
     */
    offeredMethods(event: Event, total: Money): Promise<OfferedMethod[]>;
    /** One offered method by identifier, or SHOP_PAYMENT_METHOD_UNAVAILABLE (also for an unknown one). */
    offeredMethod(event: Event, total: Money, identifier: string): Promise<OfferedMethod>;
    private offer;
}
/** The buyer-facing name: the organizer's label when the provider has one (manual), else its own. */
export declare function publicNameOf(provider: BasePaymentProvider, ctx: ProviderContext): string;
/** Amounts for the templates, formatted once on the server in the buyer's locale. */
export declare function cartView(cart: PricedCart, locale: string, fee?: {
    label: string;
    amount: Money;
}): {
    lines: {
        name: string;
        quantity: number;
        price: string;
        sum: string;
    }[];
    fee: {
        label: string;
        amount: string;
    } | null;
    total: string;
};
/** A provider's fee on `total` (which excludes it), from the framework settings (_feeAbs, _feePercent, _feeReverseCalc). */
export declare function feeOf(provider: BasePaymentProvider, ctx: ProviderContext, total: Money): Money;
