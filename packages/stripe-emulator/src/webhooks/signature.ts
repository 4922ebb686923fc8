import { createHmac } from 'node:crypto';

/** §5.1: HMAC-SHA256 over "<t>.<body>", keyed with the whsec_ string as-is, lowercase hex. */
export function computeSignature(timestamp: number, body: string, secret: string): string {
  return createHmac('sha256', secret).update(`${timestamp}.${body}`, 'utf8').digest('hex');
}

/**
 * The `Stripe-Signature` header: `t=…,v1=…[,v1=…][,v0=…]`, no spaces (stripe-node does not
 * trim). One v1 per active secret during a rotation; a decoy v0 as in test mode, which
 * verifiers must ignore.
 */
export function signatureHeader(timestamp: number, body: string, secrets: readonly string[], v0Decoy: boolean): string {
  const parts = [`t=${timestamp}`, ...secrets.map((s) => `v1=${computeSignature(timestamp, body, s)}`)];
  if (v0Decoy) parts.push(`v0=${computeSignature(timestamp, body, 'whsec_v0_decoy')}`);
  return parts.join(',');
}
