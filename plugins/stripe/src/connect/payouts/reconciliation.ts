import { minorUnitsToDecimalString } from '@kassa/core';
import type Stripe from 'stripe';
import { fromStripeAmount } from '../../amount';
import { stripeCall } from '../../intents';
import type { StripeRuntime } from '../../stripe-state';
import type { PayoutRow } from './payout-store';

/*
 * What one payout of a connected account contains (reference/stripe-spec.md §9.6): its balance
 * transactions (`GET /v1/balance_transactions?payout=po_…` on the account, every page), each
 * sorted into payment, refund, application fee, dispute or payout, and matched to Kassa's payment
 * (and refund) where the source leads to one of this organizer's payments. The source is followed
 * as Stripe links it: a direct charge, refund or dispute lives on the account; a destination or
 * separate charge reaches the account as a transfer's payment (`py_…`), whose reversal is the
 * refund; application fees live on the platform. A payment of another organizer is never shown
 * (the line stays unmatched), whatever a charge's metadata says.
 */

export type LineKind = 'payment' | 'refund' | 'application_fee' | 'application_fee_refund' | 'dispute' | 'payout' | 'other';

/** One balance transaction, in our minor units, with the Kassa payment it belongs to when known. */
export interface ReconciliationLine {
  readonly transactionId: string;
  readonly kind: LineKind;
  readonly type: string;
  readonly source: string | null;
  readonly created: Date;
  readonly currency: string;
  readonly amount: number;
  readonly fee: number;
  readonly net: number;
  readonly paymentId: string | null;
  readonly orderCode: string | null;
  readonly orderId: string | null;
  readonly eventSlug: string | null;
  readonly refundId: string | null;
}

export interface Reconciliation {
  readonly lines: ReconciliationLine[];
  /** Why there are no lines: Stripe links balance transactions to automatic payouts only. */
  readonly unavailable: string | null;
  readonly totals: { currency: string; amount: number; fee: number; net: number } | null;
}

const KIND: Record<string, LineKind> = {
  charge: 'payment', payment: 'payment', refund: 'refund', payment_refund: 'refund', refund_failure: 'refund', payment_failure_refund: 'refund',
  application_fee: 'application_fee', application_fee_refund: 'application_fee_refund',
  payout: 'payout', payout_failure: 'payout', payout_cancel: 'payout',
};

function kindOf(t: Stripe.BalanceTransaction): LineKind {
  if (t.type === 'adjustment' && /dispute/.test(t.reporting_category ?? '')) return 'dispute';
  return KIND[t.type] ?? 'other';
}

const idOf = (v: unknown): string | null => (typeof v === 'string' ? v : v && typeof v === 'object' && 'id' in v ? String((v as { id: unknown }).id) : null);

/** Follows sources to Kassa's ids; every lookup is cached for the one reconciliation. */
class SourceResolver {
  private readonly charges = new Map<string, Promise<{ paymentId: string | null; feeId: string | null }>>();
  private transfers: Promise<Map<string, { charge: string | null; refundId: string | null }>> | null = null;

  constructor(private readonly platform: Stripe, private readonly accountId: string) {}

  private get onAccount(): { stripeAccount: string } {
    return { stripeAccount: this.accountId };
  }

  /** A charge's Kassa payment (the intent's metadata is copied to the charge). */
  charge(chargeId: string, onAccount: boolean): Promise<{ paymentId: string | null; feeId: string | null }> {
    const key = `${onAccount ? 'a' : 'p'}:${chargeId}`;
    let found = this.charges.get(key);
    if (!found) {
      found = stripeCall('read a charge', () => this.platform.charges.retrieve(chargeId, {}, onAccount ? this.onAccount : {}))
        .then((ch) => ({ paymentId: ch.metadata?.kassa_payment_id ?? null, feeId: idOf(ch.application_fee) }));
      this.charges.set(key, found);
    }
    return found;
  }

  /**
   * Application fee refunds (`fr_…`) name only their fee: they are found among the refunds of the
   * fees of the charges met so far (a fee refunded in a later payout than its charge stays unmatched).
   */
  async feeRefunds(): Promise<Map<string, string>> {
    const out = new Map<string, string>();
    for (const pending of this.charges.values()) {
      const c = await pending.catch(() => null);
      if (!c?.feeId || !c.paymentId) continue;
      const fee = await stripeCall('read an application fee', () => this.platform.applicationFees.retrieve(c.feeId as string));
      for (const r of fee.refunds?.data ?? []) out.set(r.id, c.paymentId);
    }
    return out;
  }

  /** The platform's transfers to this account: the payment (py_) and each reversal (trr_) → the platform's source charge. */
  private transferMap(): Promise<Map<string, { charge: string | null; refundId: string | null }>> {
    this.transfers ??= (async () => {
      const map = new Map<string, { charge: string | null; refundId: string | null }>();
      for await (const tr of this.platform.transfers.list({ destination: this.accountId, limit: 100 })) {
        const charge = idOf(tr.source_transaction);
        const py = idOf(tr.destination_payment);
        if (py) map.set(py, { charge, refundId: null });
        // A transfer carries its first reversals only: the rest are listed when there are more.
        const reversals = tr.reversals?.has_more ? this.platform.transfers.listReversals(tr.id, { limit: 100 }) : tr.reversals?.data ?? [];
        for await (const rev of reversals) map.set(rev.id, { charge, refundId: rev.metadata?.kassa_refund_id ?? null });
      }
      return map;
    })();
    return this.transfers;
  }

  /** The Kassa payment (and refund) a balance transaction's source leads to, as far as Stripe links it. */
  async resolve(t: Stripe.BalanceTransaction): Promise<{ paymentId: string | null; refundId: string | null }> {
    const source = idOf(t.source);
    if (!source) return { paymentId: null, refundId: null };
    const none = { paymentId: null, refundId: null };
    if (source.startsWith('ch_')) return { paymentId: (await this.charge(source, true)).paymentId, refundId: null };
    if (source.startsWith('py_') || source.startsWith('trr_')) {
      const hit = (await this.transferMap()).get(source);
      if (!hit?.charge) return none;
      return { paymentId: (await this.charge(hit.charge, false)).paymentId, refundId: hit.refundId };
    }
    if (source.startsWith('re_') || source.startsWith('pyr_')) {
      const re = await stripeCall('read a refund', () => this.platform.refunds.retrieve(source, {}, this.onAccount));
      const charge = idOf(re.charge);
      const paymentId = re.metadata?.kassa_payment_id ?? (charge ? (await this.charge(charge, true)).paymentId : null);
      return { paymentId, refundId: re.metadata?.kassa_refund_id ?? null };
    }
    if (source.startsWith('dp_') || source.startsWith('du_')) {
      const dp = await stripeCall('read a dispute', () => this.platform.disputes.retrieve(source, {}, this.onAccount));
      const charge = idOf(dp.charge);
      return charge ? { paymentId: (await this.charge(charge, true)).paymentId, refundId: null } : none;
    }
    if (source.startsWith('fee_')) {
      const fee = await stripeCall('read an application fee', () => this.platform.applicationFees.retrieve(source));
      const charge = idOf(fee.charge);
      return charge ? { paymentId: (await this.chargeAnywhere(charge)).paymentId, refundId: null } : none;
    }
    return none;
  }

  /** A fee's charge: the platform's (destination and separate charges) or the account's (direct charges). */
  private async chargeAnywhere(chargeId: string): Promise<{ paymentId: string | null; feeId: string | null }> {
    try {
      return await this.charge(chargeId, false);
    } catch {
      return this.charge(chargeId, true);
    }
  }
}

/**
 * The lines of one of the organizer's payouts. `platform` is a client with the platform's key;
 * calls on the account carry its Stripe-Account header. Manual payouts have no lines at Stripe.
 */
export async function reconcilePayout(rt: Pick<StripeRuntime, 'payments'>, platform: Stripe, payout: PayoutRow): Promise<Reconciliation> {
  if (!payout.payoutId) return { lines: [], unavailable: 'Stripe has not created this payout.', totals: null };
  if (!payout.automatic) {
    return { lines: [], unavailable: 'Stripe links balance transactions to automatic payouts only; a payout requested by hand (manual) has no list of what it contains.', totals: null };
  }
  const resolver = new SourceResolver(platform, payout.accountId);
  const lines: ReconciliationLine[] = [];
  const payments = new Map<string, Promise<{ orderCode: string; orderId: string; eventSlug: string } | null>>();
  const ownPayment = (id: string) => {
    let p = payments.get(id);
    if (!p) {
      p = rt.payments.get(id).then((found) => (found && found.order.organizerId === payout.organizerId
        ? { orderCode: found.order.code, orderId: found.order.id, eventSlug: found.event.slug } : null)).catch(() => null);
      payments.set(id, p);
    }
    return p;
  };
  const found: { t: Stripe.BalanceTransaction; paymentId: string | null; refundId: string | null }[] = [];
  for await (const t of platform.balanceTransactions.list({ payout: payout.payoutId, limit: 100 }, { stripeAccount: payout.accountId })) {
    found.push({ t, ...(await resolver.resolve(t)) });
  }
  const unresolvedFeeRefunds = found.filter((f) => !f.paymentId && idOf(f.t.source)?.startsWith('fr_'));
  if (unresolvedFeeRefunds.length > 0) {
    const byRefund = await resolver.feeRefunds();
    for (const f of unresolvedFeeRefunds) f.paymentId = byRefund.get(idOf(f.t.source) as string) ?? null;
  }
  for (const { t, paymentId, refundId } of found) {
    const m = (n: number) => fromStripeAmount(n, t.currency).amount;
    const own = paymentId && /^[0-9a-f-]{36}$/i.test(paymentId) ? await ownPayment(paymentId) : null;
    lines.push({
      transactionId: t.id, kind: kindOf(t), type: t.type, source: idOf(t.source), created: new Date(t.created * 1000), currency: t.currency.toUpperCase(),
      amount: m(t.amount), fee: m(t.fee), net: m(t.net),
      paymentId: own ? paymentId : null, orderCode: own?.orderCode ?? null, orderId: own?.orderId ?? null, eventSlug: own?.eventSlug ?? null, refundId: own ? refundId : null,
    });
  }
  // The payout's own line is the money leaving: what the payout contains is everything else.
  const contents = lines.filter((l) => l.kind !== 'payout');
  const currency = payout.currency;
  const sum = (k: 'amount' | 'fee' | 'net') => contents.reduce((s, l) => s + l[k], 0);
  return { lines, unavailable: null, totals: { currency, amount: sum('amount'), fee: sum('fee'), net: sum('net') } };
}

/** Our minor units as decimal text in the currency's exponent ("12.50", "1234" for JPY). */
export const decimal = (amount: number, currency: string): string => minorUnitsToDecimalString({ amount, currency });
