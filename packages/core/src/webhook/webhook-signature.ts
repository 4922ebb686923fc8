import { createHmac, timingSafeEqual } from 'node:crypto';

/** The header every delivery carries, after Stripe's Stripe-Signature. */
export const webhookSignatureHeader = 'Kassa-Signature';

/**
 * `t=<unix seconds>,v1=<hex HMAC-SHA256 of "<t>.<body>" under the endpoint's secret>`, as Stripe
 * signs its webhooks: the timestamp inside the signed text lets a receiver refuse old replays.
 */
export function signWebhook(secret: string, body: string, at: Date): string {
  const t = Math.floor(at.getTime() / 1000);
  return `t=${t},v1=${createHmac('sha256', secret).update(`${t}.${body}`, 'utf8').digest('hex')}`;
}

/**
 * What a receiver does (docs/api.md shows it): recompute v1 over the raw body, compare in
 * constant time, and refuse a timestamp older than `toleranceSeconds`.
 */
export function verifyWebhookSignature(secret: string, body: string, header: string, now: Date, toleranceSeconds = 300): boolean {
  const parts = new Map(header.split(',').map((p) => p.split('=', 2) as [string, string]));
  const t = Number(parts.get('t'));
  const v1 = parts.get('v1') ?? '';
  if (!Number.isSafeInteger(t) || Math.abs(now.getTime() / 1000 - t) > toleranceSeconds || !/^[0-9a-f]{64}$/.test(v1)) return false;
  const expected = createHmac('sha256', secret).update(`${t}.${body}`, 'utf8').digest();
  return timingSafeEqual(expected, Buffer.from(v1, 'hex'));
}
