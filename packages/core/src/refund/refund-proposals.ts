/** A confirmed payment that could be refunded automatically. Amounts are minor units. */
export interface RefundCandidate {
  paymentId: string;
  /** Payment amount minus its created, transit and done refunds. */
  available: number;
  /** The payment's whole amount (a refund of exactly this is a full refund). */
  amount: number;
  /** provider.paymentRefundSupported */
  full: boolean;
  /** provider.paymentPartialRefundSupported */
  partial: boolean;
}

export interface RefundProposal {
  paymentId: string;
  amount: number;
}

/**
 * pretix's `propose_auto_refunds` (reference/pretix.md §1.5), a pure function: repeatedly take
 *   1. a payment whose available amount equals what is left, refunded in full;
 *   2. else the smallest payment with more available that can refund partially, for what is left;
 *   3. else the largest payment with less available, refunded for all it has;
 * until the amount is covered or no payment can help. Returns the proposals and what stays uncovered.
 */
export function proposeRefundAmounts(amount: number, candidates: readonly RefundCandidate[]): { proposals: RefundProposal[]; uncovered: number } {
  const canRefund = (c: RefundCandidate, x: number) => (x === c.amount ? c.full || c.partial : c.partial);
  let pool = candidates.filter((c) => c.available > 0);
  const proposals: RefundProposal[] = [];
  let left = amount;
  while (left > 0) {
    const exact = pool.find((c) => c.available === left && canRefund(c, left));
    const bigger = pool.filter((c) => c.available > left && c.partial).sort((a, b) => a.available - b.available)[0];
    const smaller = pool.filter((c) => c.available < left && canRefund(c, c.available)).sort((a, b) => b.available - a.available)[0];
    const pick = exact ? { c: exact, x: left } : bigger ? { c: bigger, x: left } : smaller ? { c: smaller, x: smaller.available } : null;
    if (!pick) break;
    proposals.push({ paymentId: pick.c.paymentId, amount: pick.x });
    left -= pick.x;
    pool = pool.filter((c) => c !== pick.c);
  }
  return { proposals, uncovered: left };
}
