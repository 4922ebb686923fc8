import Stripe from 'stripe';

/** Stripe's default tolerance; 0 would silently become 300 inside stripe-node, so never pass 0. */
export const SIGNATURE_TOLERANCE_SECONDS = 300;

export type VerifyResult =
  | { ok: true; event: Stripe.Event }
  | { ok: false; reason: string };

/**
 * Verifies a webhook against every active signing secret (several during a rotation) with
 * stripe-node's constructEvent on the raw body. Any error — including the plain Error stripe-node
 * throws for an empty `v1=` — is a refusal, never a crash.
 */
export function verifyWebhook(
  rawBody: Buffer | string,
  signatureHeader: string | undefined,
  secrets: readonly string[],
  opts: { receivedAtMs?: number } = {},
): VerifyResult {
  if (!signatureHeader) return { ok: false, reason: 'missing Stripe-Signature header' };
  if (secrets.length === 0) return { ok: false, reason: 'no webhook signing secret configured' };
  let lastReason = 'signature mismatch';
  for (const secret of secrets) {
    try {
      const event = Stripe.webhooks.constructEvent(
        rawBody, signatureHeader, secret, SIGNATURE_TOLERANCE_SECONDS, undefined, opts.receivedAtMs,
      );
      return { ok: true, event };
    } catch (err) {
      lastReason = err instanceof Error ? err.message : String(err);
    }
  }
  return { ok: false, reason: lastReason };
}
