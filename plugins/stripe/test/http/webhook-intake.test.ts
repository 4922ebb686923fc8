import { request as httpRequest } from 'node:http';
import Stripe from 'stripe';
import { globalSettings } from '@kassa/core/host';
import { STRIPE_API_VERSION, createWebhookEndpoint } from '../../src';
import { endpointSecret } from '../support/stripe-harness';
import { createServerHarness, type ServerHarness } from '../support/server-harness';

/*
 * The listening server answers Stripe's webhooks before fastify routes them (the server's webhook
 * intake): every security property of the route must hold there too, over a real socket.
 */
describe('Stripe webhooks on a listening server (real sockets)', () => {
  let h: ServerHarness;
  let account: string;
  let secret: string;

  beforeAll(async () => {
    h = await createServerHarness({ listen: true });
    const endpoint = await createWebhookEndpoint(h.rt, globalSettings);
    account = endpoint.account;
    secret = (await endpointSecret({ settings: h.deps.settings, db: h.db }, endpoint.endpointId))!;
  });
  afterAll(async () => { await h.destroy(); });

  const inbox = async () => (await h.db.dataSource.query('SELECT event_id, payload::text AS payload FROM stripe_webhook_inbox ORDER BY id')) as { event_id: string; payload: string }[];
  const event = (id: string, extra: Record<string, unknown> = {}) => JSON.stringify({
    id, object: 'event', type: 'payment_intent.succeeded', api_version: STRIPE_API_VERSION, created: Math.floor(Date.now() / 1000),
    data: { object: { id: `pi_${id}`, object: 'payment_intent', metadata: {} } }, ...extra,
  }, null, 2);
  const signed = (body: string, opts: { timestamp?: number; secret?: string } = {}) =>
    Stripe.webhooks.generateTestHeaderString({ payload: body, secret: opts.secret ?? secret, ...(opts.timestamp ? { timestamp: opts.timestamp } : {}) });

  function post(path: string, body: string, signature: string | undefined): Promise<{ status: number; cache: string | undefined; json: { received?: boolean; duplicate?: boolean; error?: { code: string; message: string; params?: Record<string, unknown> } } }> {
    return new Promise((resolve, reject) => {
      const headers: Record<string, string> = { 'content-type': 'application/json; charset=utf-8', ...(signature ? { 'stripe-signature': signature } : {}) };
      const req = httpRequest(`${h.baseUrl}${path}`, { method: 'POST', headers }, (res) => {
        const parts: Buffer[] = [];
        res.on('data', (c: Buffer) => parts.push(c));
        res.on('end', () => resolve({ status: res.statusCode!, cache: res.headers['cache-control'], json: JSON.parse(Buffer.concat(parts).toString('utf8')) }));
      });
      req.on('error', reject);
      req.end(body);
    });
  }
  const deliver = (body: string, signature?: string) => post(`/plugins/stripe/webhook/${account}`, body, signature ?? signed(body));

  it('stores a signed event once, as sent, and answers a replay as a duplicate; no-store on both', async () => {
    const body = event('evt_socket_1');
    const first = await deliver(body);
    expect([first.status, first.json, first.cache]).toEqual([200, { received: true }, 'private, no-store']);
    const replay = await deliver(body);
    expect([replay.status, replay.json, replay.cache]).toEqual([200, { received: true, duplicate: true }, 'private, no-store']);
    const stored = (await inbox()).filter((r) => r.event_id === 'evt_socket_1');
    expect(stored).toHaveLength(1);
    expect(JSON.parse(stored[0]!.payload)).toEqual(JSON.parse(body));
    expect(h.jobs.filter((j) => String(j.jobId).includes('evt_socket_1'))).toHaveLength(1);
  });

  it('concurrent deliveries share commits and each is stored exactly once', async () => {
    const bodies = Array.from({ length: 40 }, (_, i) => event(`evt_socket_burst_${i}`));
    const answers = await Promise.all([...bodies, ...bodies.slice(0, 10)].map((b) => deliver(b)));
    expect(answers.every((a) => a.status === 200)).toBe(true);
    expect(answers.filter((a) => a.json.duplicate === true)).toHaveLength(10);
    const ids = (await inbox()).map((r) => r.event_id).filter((id) => id.startsWith('evt_socket_burst_'));
    expect(new Set(ids).size).toBe(40);
    expect(ids).toHaveLength(40);
  });

  it.each([
    ['forged (signed with another secret)', (b: string) => signed(b, { secret: 'whsec_someoneElse0000' })],
    ['stale (signed 10 minutes ago)', (b: string) => signed(b, { timestamp: Math.floor(Date.now() / 1000) - 600 })],
    ['unsigned', () => undefined],
  ])('refuses a %s event with 400 and stores nothing', async (_name, sign) => {
    const before = await inbox();
    const body = event('evt_socket_refused');
    const res = await post(`/plugins/stripe/webhook/${account}`, body, sign(body) as string | undefined);
    expect([res.status, res.json.error?.code, res.cache]).toEqual([400, 'STRIPE_WEBHOOK_REFUSED', 'private, no-store']);
    expect(await inbox()).toEqual(before);
  });

  it('refuses a signed payload the inbox cannot store with 400 saying what is wrong, an unknown account with 404, a body over the limit with 413', async () => {
    const before = await inbox();
    const noType = event('evt_socket_no_type', { type: 42 });
    const malformed = await deliver(noType);
    expect([malformed.status, malformed.json.error?.code]).toEqual([400, 'STRIPE_WEBHOOK_REFUSED']);
    expect(malformed.json.error?.message).toContain('type missing or malformed');
    const unknown = await post('/plugins/stripe/webhook/acct_nobodyKnowsThis', event('evt_socket_unknown'), signed(event('evt_socket_unknown')));
    expect([unknown.status, unknown.json.error?.code]).toEqual([404, 'STRIPE_ACCOUNT_UNKNOWN']);
    const huge = event('evt_socket_huge', { padding: 'x'.repeat(1024 * 1024) });
    const tooLarge = await deliver(huge);
    expect([tooLarge.status, tooLarge.json.error?.code, tooLarge.json.error?.params?.field]).toEqual([413, 'VALIDATION_FAILED', 'body']);
    expect(await inbox()).toEqual(before);
  });
});
