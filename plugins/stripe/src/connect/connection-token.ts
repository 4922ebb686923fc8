import { createHmac, timingSafeEqual } from 'node:crypto';

/**
 * The connection as the provider sees it in its settings (`connectAccount`, at the organizer or
 * event level). The provider's context holds only its settings, so the connection is copied there
 * from the plugin's table (stripe_connected_account, the source of truth) whenever it changes.
 * It is signed with a key derived from the platform's secret key, and bound to its level, so a
 * value an organizer types, or copies from another level, is simply no connection.
 */
export interface ConnectionClaim {
  /** "o:<organizerId>" or "e:<eventId>": the level the connection belongs to. */
  readonly level: string;
  readonly accountId: string;
  readonly accountType: string;
  readonly chargesEnabled: boolean;
  readonly country: string | null;
  /** The platform's country differs from the account's (destination charges then settle on the account: on_behalf_of). */
  readonly crossBorder: boolean;
  /** The platform's own account (acct_…), where destination and separate charges live. */
  readonly platformAccount: string;
  /** The mode the account was connected in (absent in connections published before it was recorded). */
  readonly livemode?: boolean;
  /** A live connection Kassa may also use in test mode (a test-mode key was obtained for it). */
  readonly testAccess?: boolean;
}

const PREFIX = 'kc1';

function mac(platformSecretKey: string, payload: string): Buffer {
  const key = createHmac('sha256', 'kassa-stripe-connect').update(platformSecretKey).digest();
  return createHmac('sha256', key).update(payload).digest();
}

export function levelOf(organizerId: string, eventId: string | null): string {
  return eventId ? `e:${eventId}` : `o:${organizerId}`;
}

export function signConnection(platformSecretKey: string, claim: ConnectionClaim): string {
  const payload = Buffer.from(JSON.stringify(claim)).toString('base64url');
  return `${PREFIX}.${payload}.${mac(platformSecretKey, payload).toString('base64url')}`;
}

/**
 * The claim, if the token is Kassa's, signed with this platform key, and bound to the event or its
 * organizer; null otherwise (no connection).
 */
export function verifyConnection(platformSecretKey: string | undefined, token: unknown, event: { id: string; organizerId: string }): ConnectionClaim | null {
  if (!platformSecretKey || typeof token !== 'string') return null;
  const [prefix, payload, sig] = token.split('.');
  if (prefix !== PREFIX || !payload || !sig) return null;
  const expected = mac(platformSecretKey, payload);
  const got = Buffer.from(sig, 'base64url');
  if (got.length !== expected.length || !timingSafeEqual(got, expected)) return null;
  let claim: ConnectionClaim;
  try {
    claim = JSON.parse(Buffer.from(payload, 'base64url').toString('utf8')) as ConnectionClaim;
  } catch {
    return null;
  }
  return claim.level === levelOf(event.organizerId, null) || claim.level === levelOf(event.organizerId, event.id) ? claim : null;
}
