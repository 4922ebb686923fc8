import {
  calculateFee, checkAvailability, exactSum, formatMoney, KassaError, money, OrderReadStore, toCommonSettings, type BasePaymentProvider, type Clock,
  type DataSource, type Event, type KassaCore, type Money, type ProviderContext, type ProviderContextFactory,
} from '@kassa/core/host';
import { CatalogReader, type PricedCart } from './catalog';
import { ProviderViews } from './provider-views';
import { SubmissionStore } from './submission-store';
import { rateLimits } from '../infra/rate-limits';

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
  placeOrderRateLimit?: { max: number; timeWindow: string | number };
  /** Plugin name → folder of its Eta partials. */
  pluginViews?: Readonly<Record<string, string>>;
}

/** A payment method as offered to the buyer. */
export interface OfferedMethod {
  identifier: string;
  name: string;
  implicit: boolean;
  fee: Money;
  /** Renders the provider's checkout form panel (only the pages that show it need it). */
  renderForm(): string | null;
  provider: BasePaymentProvider;
  ctx: ProviderContext;
}

/**
 * Everything the shop routes share for one app: the core services, the cached catalog reader,
 * the idempotency ledger and the provider view resolver. Built once in shopRoutes.
 */
export class ShopContext {
  readonly catalog: CatalogReader;
  readonly submissions: SubmissionStore;
  readonly views: ProviderViews;
  /** Core's reads of orders (the order page, the confirm form's idempotency check). */
  readonly orders: OrderReadStore;

  readonly placeOrderRateLimit: { max: number; timeWindow: string | number };

  constructor(readonly deps: ShopDeps) {
    this.catalog = new CatalogReader(deps.dataSource, deps.clock);
    this.views = new ProviderViews(deps.pluginViews);
    this.submissions = new SubmissionStore(deps.dataSource);
    this.orders = new OrderReadStore(deps.dataSource);
    this.placeOrderRateLimit = deps.placeOrderRateLimit ?? rateLimits.placeOrder;
  }

  /** Whether an order of the event carries this idempotency key (the shop's confirm-form key). */
  placedWithKey(eventId: string, key: string): Promise<boolean> {
    return this.orders.placedWithKey(eventId, key);
  }

  /**
   * The methods a buyer may choose for `total` (which excludes any payment fee): enabled and allowed
   * by core's availability check, with the fee each would add. Ordered as the registry orders them.
   */
  async offeredMethods(event: Event, total: Money, country?: string | null): Promise<OfferedMethod[]> {
    const offered: OfferedMethod[] = [];
    let tooLarge = false;
    for (const provider of this.deps.providers.list()) {
      const method = await this.offer(provider, event, total, country);
      if (method === 'too-large') tooLarge = true;
      else if (method) offered.push(method);
    }
    // Only fees kept every method away: the cart is what is wrong, so say that (not "contact the organizer").
    if (offered.length === 0 && tooLarge) throw new KassaError('SHOP_TOTAL_TOO_LARGE');
    return offered;
  }

  /** One offered method by identifier, or SHOP_PAYMENT_METHOD_UNAVAILABLE (also for an unknown one). */
  async offeredMethod(event: Event, total: Money, identifier: string, country?: string | null): Promise<OfferedMethod> {
    const provider = this.deps.providers.has(identifier) ? this.deps.providers.get(identifier) : null;
    const found = provider ? await this.offer(provider, event, total, country) : null;
    if (found === 'too-large') throw new KassaError('SHOP_TOTAL_TOO_LARGE');
    if (!found) throw new KassaError('SHOP_PAYMENT_METHOD_UNAVAILABLE', { provider: identifier });
    return found;
  }

  /**
   * Whether the buyer's country must be asked for this event: some enabled method of it is
   * restricted to some countries (pretix's `_restricted_countries`). Without the question such a
   * method could never be offered to anyone; with no such method the buyer is not bothered.
   */
  async needsCountry(event: Event): Promise<boolean> {
    for (const provider of this.deps.providers.list()) {
      const ctx = await this.deps.providerContext(event, provider.identifier);
      const common = ctx.common ?? toCommonSettings({}, provider.enabledByDefault);
      if (common.enabled && common.restrictedCountries.length > 0) return true;
    }
    return false;
  }

  /** The method as offered for `total`; 'too-large' when its fee would take the total past what Kassa stores exactly. */
  private async offer(provider: BasePaymentProvider, event: Event, total: Money, country?: string | null): Promise<OfferedMethod | null | 'too-large'> {
    const ctx = await this.deps.providerContext(event, provider.identifier);
    if (!checkAvailability(provider, ctx, { total, now: this.deps.clock.now(), country: country ?? undefined }).allowed) return null;
    const fee = total.amount === 0 ? money(0, total.currency) : feeOf(provider, ctx, total);
    const exact = Number.isSafeInteger(fee.amount) ? exactSum(total.amount, fee.amount) : null;
    if (exact === null) return 'too-large';
    const withFee = money(exact, total.currency);
    return {
      identifier: provider.identifier,
      name: publicNameOf(provider, ctx),
      implicit: provider.isImplicit,
      fee,
      renderForm: formRenderer(this.views, provider, ctx, withFee),
      provider,
      ctx,
    };
  }
}

/**
 * The method's form, rendered when asked. Made here rather than as a named arrow in `offer`: the
 * runtime's TypeScript transform (tsx) keeps function names by defining `name` on every named
 * closure as it is created, which costs more than the closure on a path run per method per request.
 */
function formRenderer(views: ProviderViews, provider: BasePaymentProvider, ctx: ProviderContext, withFee: Money): () => string | null {
  return () => views.render(provider.paymentFormRender(ctx, withFee));
}

/** The buyer-facing name: the organizer's label when the provider has one (manual), else its own. */
export function publicNameOf(provider: BasePaymentProvider, ctx: ProviderContext): string {
  const label = (ctx.settings as Record<string, unknown>).publicName;
  return typeof label === 'string' && label.trim() !== '' ? label : provider.publicName;
}

/** Amounts for the templates, formatted once on the server in the buyer's locale. */
export function cartView(cart: PricedCart, locale: string, fee?: { label: string; amount: Money }) {
  const total = fee ? money(cart.subtotal.amount + fee.amount.amount, cart.currency) : cart.subtotal;
  return {
    lines: cart.lines.map((l) => ({ name: l.product.name, quantity: l.quantity, price: formatMoney(l.unitPrice, locale), sum: formatMoney(l.sum, locale) })),
    fee: fee && fee.amount.amount > 0 ? { label: fee.label, amount: formatMoney(fee.amount, locale) } : null,
    total: formatMoney(total, locale),
  };
}

/** A provider's fee on `total` (which excludes it), from the framework settings (_feeAbs, _feePercent, _feeReverseCalc). */
export function feeOf(provider: BasePaymentProvider, ctx: ProviderContext, total: Money): Money {
  const common = ctx.common ?? toCommonSettings({}, provider.enabledByDefault);
  return calculateFee(total, { absolute: common.feeAbs, percent: common.feePercent, reverse: common.feeReverseCalc });
}
