import { createHash } from 'node:crypto';
import type { DataSource, PluginRuntime, SettingScope, SettingsTarget } from '@kassa/core';
import { StripeAccount, StripeWebhookEndpoint } from '../entities/stripe-entities';

type SecretsRuntime = Pick<PluginRuntime, 'dataSource' | 'settings'>;

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
 * secret), so repeated rotations never widen what verifies.
 */
export async function storeEndpointSecret(
  rt: SecretsRuntime, endpoint: { endpointId: string; accountId: string; target: SettingsTarget; secret: string },
): Promise<void> {
  const { target } = endpoint;
  const organizerId = target.scope === 'global' ? null : target.organizerId;
  const eventId = target.scope === 'event' ? target.eventId : null;
  await rt.dataSource.transaction(async (tx) => {
    await tx.getRepository(StripeWebhookEndpoint).insert({
      endpointId: endpoint.endpointId, accountId: endpoint.accountId, scope: target.scope, organizerId, eventId,
      secret: rt.settings.sealSecret(binding(endpoint.endpointId), endpoint.secret),
    });
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
  forgetWebhookSecrets(rt.dataSource, endpoint.accountId);
}

interface CachedSecrets { secrets: string[]; until: number }
// Per host (keyed by its data source), never module-global state shared between two hosts.
const secretCaches = new WeakMap<DataSource, Map<string, CachedSecrets>>();
const legacyMoves = new WeakMap<DataSource, Promise<void>>();

/**
 * The signing secrets that may verify an event of this account: those of the account's own
 * endpoint rows, and nothing else: not the secrets of other endpoints stored at the same settings
 * level (an organizer who once shared the instance's keys and then switched to its own account
 * must not sign events for the shared account). Null when the account is not registered.
 * Cached for a few seconds: the route is hot, and a rotation adds the new secret before the old
 * one goes, so a short delay never refuses a correctly signed event.
 */
export async function webhookSecretsFor(rt: SecretsRuntime, accountId: string): Promise<string[] | null> {
  await moveLegacySecretsOnce(rt);
  let cache = secretCaches.get(rt.dataSource);
  if (!cache) secretCaches.set(rt.dataSource, (cache = new Map()));
  const now = Date.now();
  const hit = cache.get(accountId);
  if (hit && hit.until > now) return hit.secrets;
  const account = await rt.dataSource.manager.findOneBy(StripeAccount, { accountId });
  if (!account) return null;
  const rows: { endpoint_id: string; secret: unknown }[] = await rt.dataSource.query(
    'SELECT endpoint_id, secret FROM stripe_webhook_endpoint WHERE account_id = $1 AND secret IS NOT NULL ORDER BY created_at DESC, endpoint_id', [accountId],
  );
  const secrets = [...new Set(rows.map((r) => rt.settings.openSecret(binding(r.endpoint_id), r.secret) as string))];
  cache.set(accountId, { secrets, until: now + SECRET_CACHE_MS });
  return secrets;
}

/** Forgets an account's cached secrets (after an endpoint was stored or retired). */
export function forgetWebhookSecrets(ds: DataSource, accountId: string): void {
  secretCaches.get(ds)?.delete(accountId);
}

/**
 * Runs moveLegacySecrets once per host and data source. A failure (say, a legacy row sealed under
 * another key) does not stop verification with the rows already moved; it is tried again a minute
 * later rather than on every request.
 */
function moveLegacySecretsOnce(rt: SecretsRuntime): Promise<void> {
  let run = legacyMoves.get(rt.dataSource);
  if (!run) {
    run = moveLegacySecrets(rt).then(() => undefined, () => {
      setTimeout(() => legacyMoves.delete(rt.dataSource), 60_000).unref();
    });
    legacyMoves.set(rt.dataSource, run);
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
    await rt.dataSource.transaction(async (tx) => {
      await tx.query('SELECT pg_advisory_xact_lock(hashtext($1))', ['stripe:legacy-webhook-secrets']);
      const own: { account_id: string; organizer_id: string | null; event_id: string | null }[] = await tx.query(
        'SELECT account_id, organizer_id, event_id FROM stripe_account WHERE scope = $1 AND ' + levelColumn(legacy.scope) + ' ORDER BY created_at LIMIT 1',
        legacy.scope === 'global' ? [legacy.scope] : [legacy.scope, legacy.scopeId],
      );
      const account = own[0];
      for (const secret of account ? secrets : []) {
        const endpointId = `legacy_${createHash('sha256').update(`${account!.account_id}:${secret}`).digest('hex').slice(0, 24)}`;
        const inserted: unknown[] = await tx.query(
          `INSERT INTO stripe_webhook_endpoint (endpoint_id, account_id, scope, organizer_id, event_id, secret)
           VALUES ($1, $2, $3, $4, $5, $6::jsonb) ON CONFLICT (endpoint_id) DO NOTHING RETURNING endpoint_id`,
          [endpointId, account!.account_id, legacy.scope, account!.organizer_id, account!.event_id, JSON.stringify(rt.settings.sealSecret(binding(endpointId), secret))],
        );
        moved += inserted.length;
      }
      if (!account) dropped += secrets.length;
      await rt.settings.dropRetired(LEGACY_NAMESPACE, LEGACY_KEY, legacy.scope, legacy.scopeId, tx);
    });
    secretCaches.delete(rt.dataSource);
  }
  return { moved, dropped };
}

function levelColumn(scope: SettingScope): string {
  if (scope === 'global') return 'true';
  return scope === 'organizer' ? 'organizer_id::text = $2 AND event_id IS NULL' : 'event_id::text = $2';
}
