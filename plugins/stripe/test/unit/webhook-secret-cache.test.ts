import { cachedWebhookSecrets, forgetWebhookSecrets, webhookSecretsFor } from '../../src/webhooks/endpoint-secrets';
import type { StripeState } from '../../src/stripe-state';

/*
 * The webhook route takes an account's signing secrets from the per-host cache without waiting
 * (no database, no legacy move, no turn of the event loop) while the entry is fresh, and asks the
 * database again once it has run out or was forgotten.
 */
function host(entries: Record<string, { secrets: string[]; until: number }>) {
  const state = { contexts: new Map(), secrets: new Map(Object.entries(entries)), legacyMove: null } as unknown as StripeState;
  const asked: string[] = [];
  const rt = {
    state,
    db: {
      query: async (sql: string) => {
        asked.push(sql.split(' ').slice(0, 4).join(' '));
        if (sql.includes('FROM stripe_account')) return [{ account_id: 'acct_1' }];
        return [{ endpoint_id: 'we_1', secret: { sealed: 'new' } }];
      },
    },
    settings: {
      retiredValues: async () => { asked.push('legacy move'); return []; },
      openSecret: (_binding: string, sealed: { sealed: string }) => `whsec_${sealed.sealed}`,
    },
  };
  return { state, rt: rt as never, asked };
}

it('a fresh entry is the answer at once: no database statement, no legacy move', async () => {
  const { state, rt, asked } = host({ acct_1: { secrets: ['whsec_cached'], until: Date.now() + 60_000 } });
  expect(cachedWebhookSecrets(state, 'acct_1')).toEqual(['whsec_cached']);
  expect(await webhookSecretsFor(rt, 'acct_1')).toEqual(['whsec_cached']);
  expect(asked).toEqual([]);
});

it('an entry that ran out, or was forgotten, is no answer: the secrets are read again (after the legacy move) and cached', async () => {
  const { state, rt, asked } = host({ acct_1: { secrets: ['whsec_old'], until: Date.now() - 1 } });
  expect(cachedWebhookSecrets(state, 'acct_1')).toBeUndefined();
  expect(await webhookSecretsFor(rt, 'acct_1')).toEqual(['whsec_new']);
  expect(asked).toEqual(['legacy move', 'SELECT account_id FROM stripe_account', 'SELECT endpoint_id, secret FROM']);
  expect(cachedWebhookSecrets(state, 'acct_1')).toEqual(['whsec_new']);
  forgetWebhookSecrets(state, 'acct_1');
  expect(cachedWebhookSecrets(state, 'acct_1')).toBeUndefined();
  expect(cachedWebhookSecrets(state, 'acct_2')).toBeUndefined();
});
