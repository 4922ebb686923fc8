import { createHash } from 'node:crypto';
import type { PluginRuntime, SettingScope, SettingsTarget } from '@kassa/core';
import type { StripeState } from '../stripe-state';

type SecretsRuntime = Pick<PluginRuntime<StripeState>, 'db' | 'settings' | 'state'>;

/** The settings key older versions kept webhook secrets in (one list per level, for any account). */
const LEGACY_NAMESPACE = 'payment.stripe';
const LEGACY_KEY = 'webhookSecrets';
/** Signing secrets kept per account and level: a rotation adds one, the oldest beyond this go. */
export const SECRETS_PER_LEVEL = 5;
const SECRET_CACHE_MS = 5_000;

/** What a sealed secret is bound to: its endpoint row, so a ciphertext copied to another row does not open. */
function binding(endpointId: string): string {
  return `stripe-webhook-endpoint:${endpointId}`;
}

/**
 * Stores a webhook endpoint with its signing secret (sealed) for one account and level. Older
 * secrets of the same account and level beyond SECRETS_PER_LEVEL are retired (kept as rows, without
 * secret, until `retiredEndpoints` / `forgetRetiredEndpoint` remove them once Stripe deleted them),
 * so repeated rotations never widen what verifies.
 */
export async function storeEndpointSecret(
  rt: SecretsRuntime, endpoint: { endpointId: string; accountId: string; target: SettingsTarget; secret: string },
): Promise<void> {
  const { target } = endpoint;
  const organizerId = target.scope === 'global' ? null : target.organizerId;
  const eventId = target.scope === 'event' ? target.eventId : null;
  await rt.db.transaction(async (tx) => {
    await tx.query(
      // A replayed creation (same idempotency key) answers the same endpoint: it is stored once.
      `INSERT INTO stripe_webhook_endpoint (endpoint_id, account_id, scope, organizer_id, event_id, secret) VALUES ($1, $2, $3, $4, $5, $6::jsonb)
       ON CONFLICT (endpoint_id) DO NOTHING`,
      [endpoint.endpointId, endpoint.accountId, target.scope, organizerId, eventId, JSON.stringify(rt.settings.sealSecret(binding(endpoint.endpointId), endpoint.secret))],
    );
    await tx.query(
      `UPDATE stripe_webhook_endpoint SET secret = NULL
        WHERE account_id = $1 AND scope = $2 AND organizer_id IS NOT DISTINCT FROM $3 AND event_id IS NOT DISTINCT FROM $4 AND secret IS NOT NULL
          AND endpoint_id NOT IN (
            SELECT endpoint_id FROM stripe_webhook_endpoint
             WHERE account_id = $1 AND scope = $2 AND organizer_id IS NOT DISTINCT FROM $3 AND event_id IS NOT DISTINCT FROM $4 AND secret IS NOT NULL
             ORDER BY created_at DESC, endpoint_id DESC LIMIT $5)`,
      [endpoint.accountId, target.scope, organizerId, eventId, SECRETS_PER_LEVEL],
    );
  });
  forgetWebhookSecrets(rt.state, endpoint.accountId);
}

/**
 * The retired endpoints (no secret any more) of an account at one level: still registered at Stripe
 * until deleted there. Deleting them keeps an organizer that presses "Create webhook endpoint" again
 * and again from filling the account's endpoints at Stripe (16 at most in test mode): on the
 * instance's shared account that would leave the operator no room for its own, and every endpoint
 * gets every event of the account, which its retired secret no longer verifies.
 */
export async function retiredEndpoints(rt: SecretsRuntime, accountId: string, target: SettingsTarget): Promise<string[]> {
  const rows: { endpoint_id: string }[] = await rt.db.query(
    `SELECT endpoint_id FROM stripe_webhook_endpoint
      WHERE account_id = $1 AND scope = $2 AND organizer_id IS NOT DISTINCT FROM $3 AND event_id IS NOT DISTINCT FROM $4 AND secret IS NULL
      ORDER BY created_at, endpoint_id`,
    [accountId, target.scope, target.scope === 'global' ? null : target.organizerId, target.scope === 'event' ? target.eventId : null],
  );
  return rows.map((r) => r.endpoint_id);
}

/** Removes a retired endpoint's row once Stripe deleted the endpoint (or never knew it). */
export async function forgetRetiredEndpoint(rt: SecretsRuntime, endpointId: string): Promise<void> {
  await rt.db.query('DELETE FROM stripe_webhook_endpoint WHERE endpoint_id = $1 AND secret IS NULL', [endpointId]);
}

/**
 * The signing secrets that may verify an event of this account: those of the account's own
 * endpoint rows, and nothing else: not the secrets of other endpoints stored at the same settings
 * level (an organizer who once shared the instance's keys and then switched to its own account
 * must not sign events for the shared account). Null when the account is not registered.
 * Cached for a few seconds: the route is hot, and a rotation adds the new secret before the old
 * one goes, so a short delay never refuses a correctly signed event.
 */
export async function webhookSecretsFor(rt: SecretsRuntime, accountId: string): Promise<string[] | null> {
  const hit = cachedWebhookSecrets(rt.state, accountId);
  if (hit) return hit;
  await moveLegacySecretsOnce(rt);
  // Per host (the plugin's state), never module-global state shared between two hosts.
  const cache = rt.state.secrets;
  const now = Date.now();
  const [account] = await rt.db.query('SELECT account_id FROM stripe_account WHERE account_id = $1', [accountId]);
  if (!account) return null;
  const rows = await rt.db.query<{ endpoint_id: string; secret: unknown }>(
    'SELECT endpoint_id, secret FROM stripe_webhook_endpoint WHERE account_id = $1 AND secret IS NOT NULL ORDER BY created_at DESC, endpoint_id', [accountId],
  );
  const secrets = [...new Set(rows.map((r) => rt.settings.openSecret(binding(r.endpoint_id), r.secret) as string))];
  cache.set(accountId, { secrets, until: now + SECRET_CACHE_MS });
  return secrets;
}

/**
 * The account's secrets while they are cached, else undefined (then ask webhookSecretsFor). An
 * entry is only ever made after the legacy move has run, so a hit needs no wait: the webhook
 * route answers a cached account without a turn of the event loop.
 */
export function cachedWebhookSecrets(state: StripeState, accountId: string): string[] | undefined {
  const hit = state.secrets.get(accountId);
  return hit && hit.until > Date.now() ? hit.secrets : undefined;
}

/** Forgets an account's cached secrets (after an endpoint was stored or retired). */
export function forgetWebhookSecrets(state: StripeState, accountId: string): void {
  state.secrets.delete(accountId);
}

/**
 * Runs moveLegacySecrets once per host and data source. A failure (say, a legacy row sealed under
 * another key) does not stop verification with the rows already moved; it is tried again a minute
 * later rather than on every request.
 */
function moveLegacySecretsOnce(rt: SecretsRuntime): Promise<void> {
  let run = rt.state.legacyMove;
  if (!run) {
    run = moveLegacySecrets(rt).then(() => undefined, () => {
      setTimeout(() => { rt.state.legacyMove = null; }, 60_000).unref();
    });
    rt.state.legacyMove = run;
  }
  return run;
}

/**
 * Moves the secrets older versions kept in the settings (one list per level, for whatever account)
 * to endpoint rows. Which endpoint each secret belonged to was never recorded, so a secret goes
 * only to the account whose keys are set at the level it was stored on: an organizer's list could
 * hold secrets of its own account's endpoints next to those of the instance's shared account, and
 * giving them to the shared account would be the very hole this closes. Secrets of a level without
 * its own account are dropped: those events are still fetched by polling (an account without
 * secrets is polled), and pressing "Create webhook endpoint" again stores a secret per endpoint.
 * Safe to run concurrently (one transaction under a lock) and again (nothing left to move).
 */
export async function moveLegacySecrets(rt: SecretsRuntime): Promise<{ moved: number; dropped: number }> {
  let moved = 0;
  let dropped = 0;
  for (const legacy of await rt.settings.retiredValues(LEGACY_NAMESPACE, LEGACY_KEY)) {
    const secrets = Array.isArray(legacy.value) ? legacy.value.filter((s): s is string => typeof s === 'string' && s.startsWith('whsec_')) : [];
    await rt.db.transaction(async (tx) => {
      await tx.query('SELECT pg_advisory_xact_lock(hashtext($1))', ['stripe:legacy-webhook-secrets']);
      const own = await tx.query<{ account_id: string; organizer_id: string | null; event_id: string | null }>(
        'SELECT account_id, organizer_id, event_id FROM stripe_account WHERE scope = $1 AND ' + levelColumn(legacy.scope) + ' ORDER BY created_at LIMIT 1',
        legacy.scope === 'global' ? [legacy.scope] : [legacy.scope, legacy.scopeId],
      );
      const account = own[0];
      for (const secret of account ? secrets : []) {
        const endpointId = `legacy_${createHash('sha256').update(`${account!.account_id}:${secret}`).digest('hex').slice(0, 24)}`;
        const inserted = await tx.query(
          `INSERT INTO stripe_webhook_endpoint (endpoint_id, account_id, scope, organizer_id, event_id, secret)
           VALUES ($1, $2, $3, $4, $5, $6::jsonb) ON CONFLICT (endpoint_id) DO NOTHING RETURNING endpoint_id`,
          [endpointId, account!.account_id, legacy.scope, account!.organizer_id, account!.event_id, JSON.stringify(rt.settings.sealSecret(binding(endpointId), secret))],
        );
        moved += inserted.length;
      }
      if (!account) dropped += secrets.length;
      await rt.settings.dropRetired(LEGACY_NAMESPACE, LEGACY_KEY, legacy.scope, legacy.scopeId, tx);
    });
    rt.state.secrets.clear();
  }
  return { moved, dropped };
}

function levelColumn(scope: SettingScope): string {
  if (scope === 'global') return 'true';
  return scope === 'organizer' ? 'organizer_id::text = $2 AND event_id IS NULL' : 'event_id::text = $2';
}
