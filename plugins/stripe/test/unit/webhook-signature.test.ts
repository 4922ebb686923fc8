import Stripe from 'stripe';
import { verifyWebhook } from '../../src/webhook-signature';

const payload = JSON.stringify({ id: 'evt_1', object: 'event', type: 'payment_intent.succeeded', data: { object: { id: 'pi_1' } } }, null, 2);
const sign = (secret: string, timestamp = Math.floor(Date.now() / 1000)) =>
  Stripe.webhooks.generateTestHeaderString({ payload, secret, timestamp });

describe('webhook signature verification', () => {
  it('accepts a signature made with any of the active secrets (rotation)', () => {
    const result = verifyWebhook(payload, sign('whsec_new'), ['whsec_old', 'whsec_new']);
    expect(result.ok && result.event.id).toBe('evt_1');
  });

  it('refuses a forged signature', () => {
    const result = verifyWebhook(payload, sign('whsec_attacker'), ['whsec_old', 'whsec_new']);
    expect(result).toEqual({ ok: false, reason: expect.stringMatching(/signature/i) });
  });

  it('refuses a tampered body', () => {
    const header = sign('whsec_new');
    expect(verifyWebhook(payload.replace('pi_1', 'pi_2'), header, ['whsec_new']).ok).toBe(false);
  });

  it('refuses a stale timestamp (older than the 300 s tolerance)', () => {
    const t = Math.floor(Date.now() / 1000);
    const header = sign('whsec_new', t);
    expect(verifyWebhook(payload, header, ['whsec_new'], { receivedAtMs: (t + 301) * 1000 }).ok).toBe(false);
    expect(verifyWebhook(payload, header, ['whsec_new'], { receivedAtMs: (t + 299) * 1000 }).ok).toBe(true);
  });

  it('refuses missing headers, empty v1 values and a v0-only downgrade without throwing', () => {
    const t = Math.floor(Date.now() / 1000);
    expect(verifyWebhook(payload, undefined, ['whsec_new']).ok).toBe(false);
    expect(verifyWebhook(payload, `t=${t},v1=`, ['whsec_new']).ok).toBe(false);
    const v1 = sign('whsec_new', t).split(',v1=')[1];
    expect(verifyWebhook(payload, `t=${t},v0=${v1}`, ['whsec_new']).ok).toBe(false);
  });

  it('refuses when no secret is configured', () => {
    expect(verifyWebhook(payload, sign('whsec_new'), [])).toEqual({ ok: false, reason: 'no webhook signing secret configured' });
  });
});
