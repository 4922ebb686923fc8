import { globalSettings } from '@kassa/core/host';
import type Stripe from 'stripe';
import { STRIPE_NAMESPACE, createConnectWebhookEndpoint, transferSeparateCharge, type ConnectedAccount, type RefundFeePolicy } from '../../src';
import { payoutOf } from '../../src/connect/payouts/payout-store';
import { reconcilePayout } from '../../src/connect/payouts/reconciliation';
import { handleReturn } from '../../src/routes/checkout-routes';
import { buyerConfirmsOn, connectAccount, enableConnect, setModel, type ConnectPlatform } from '../support/connect-support';
import { createStripeHarness, httpRequest, linkParams, placeStripeOrder, type StripeHarness } from '../support/stripe-harness';

/*
 * Connect payouts against the emulator, through the Connect endpoint and the inbox: `payout.*`
 * events keep Kassa's copy (pending, paid, failed with Stripe's reason, canceled); a payout's
 * balance transactions matched to Kassa's orders (destination and direct charges, refunds,
 * application fees and their refunds, disputes); the refund fee policy per organizer for each
 * charge model it governs; and the organizer's email when Stripe asks for more.
 */
describe('Stripe Connect: payouts, reconciliation, refund fee policy, requirements email', () => {
  let h: StripeHarness;
  let platform: ConnectPlatform;
  const control = (path: string, body: Record<string, string> = {}) =>
    fetch(`${h.emulator.url}/_emulator${path}`, { method: 'POST', body: new URLSearchParams(body) }).then((r) => r.json() as Promise<Record<string, unknown>>);
  const deliver = async () => { await h.emulator.flushWebhooks(); return h.runJobs(); };
  const payoutRow = async (payoutId: string) => (await h.db.dataSource.query(
    'SELECT organizer_id, payout_status, amount::int AS amount, currency, automatic, failure_code, failure_message FROM stripe_connect_payout WHERE payout_id = $1', [payoutId]))[0];

  beforeAll(async () => {
    h = await createStripeHarness({ price: 2500, holdPayouts: true });
    platform = await enableConnect(h, { model: 'destination', fees: { EUR: { percent: '10', fixed: 0, min: 0, max: null } } });
    await createConnectWebhookEndpoint(h.rt);
  });
  afterAll(async () => { await h.destroy(); });

  /** An order paid by the buyer: on the platform (destination), or on the connected account (direct). */
  async function paidOrder(client: Stripe): Promise<{ orderId: string; paymentId: string; intentId: string }> {
    const placed = await placeStripeOrder(h);
    await buyerConfirmsOn(client, placed.intentId);
    await handleReturn(httpRequest(linkParams(placed.payUrl)), h.rt);
    return { orderId: placed.orderId, paymentId: placed.payment.id, intentId: placed.intentId };
  }

  const orderCode = async (orderId: string): Promise<string> => (await h.db.dataSource.query('SELECT code FROM kassa_order WHERE id = $1', [orderId]))[0].code;

  describe('payout.* events', () => {
    let c: ConnectedAccount;
    beforeAll(async () => {
      await setModel(h, 'destination');
      c = await connectAccount(h, platform);
    });

    it('an automatic payout is stored when created (pending) and updated when paid', async () => {
      await paidOrder(platform.stripe);
      const po = await control(`/accounts/${c.accountId}/payout`);
      const outcomes = await deliver();
      expect(outcomes).toEqual(expect.arrayContaining([`payout ${String(po.id)}: pending`]));
      // 25.00 less the platform's 10 %.
      expect(await payoutRow(String(po.id))).toEqual({
        organizer_id: h.shop.organizer.id, payout_status: 'pending', amount: 2250, currency: 'EUR', automatic: true, failure_code: null, failure_message: null,
      });
      await control(`/payouts/${String(po.id)}/paid`);
      await deliver();
      expect(await payoutRow(String(po.id))).toMatchObject({ payout_status: 'paid' });
    });

    it('a failed payout keeps Stripe\'s reason; a repeated or late event changes nothing (the payout is re-read)', async () => {
      await paidOrder(platform.stripe);
      const po = await control(`/accounts/${c.accountId}/payout`);
      await control(`/payouts/${String(po.id)}/fail`, { failure_code: 'account_closed' });
      h.emulator.configureWebhooks({ duplicateRate: 1 });
      await deliver();
      h.emulator.configureWebhooks({ duplicateRate: 0 });
      const row = await payoutRow(String(po.id));
      expect(row).toMatchObject({ payout_status: 'failed', failure_code: 'account_closed' });
      expect(row.failure_message).toEqual(expect.any(String));
      expect((await h.db.dataSource.query('SELECT count(*)::int AS n FROM stripe_connect_payout WHERE payout_id = $1', [po.id]))[0].n).toBe(1);
    });

    it('a canceled payout is stored as canceled', async () => {
      await paidOrder(platform.stripe);
      const po = await platform.on(c.accountId).payouts.create({ amount: 500, currency: 'eur' });
      await platform.on(c.accountId).payouts.cancel(po.id);
      await deliver();
      expect(await payoutRow(po.id)).toMatchObject({ payout_status: 'canceled', automatic: false, amount: 500 });
    });
  });

  describe('reconciliation', () => {
    it('destination: the payments, the platform\'s fees, a refund and its fee refund, matched to the orders; the contents add up to the payout', async () => {
      await setModel(h, 'destination');
      const c = await connectAccount(h, platform);
      const first = await paidOrder(platform.stripe);
      const second = await paidOrder(platform.stripe);
      const { outcome } = await h.core.refunds.createRefund(first.orderId, { paymentId: first.paymentId, amount: { amount: 1000, currency: 'EUR' }, source: 'admin', actor: { type: 'system' } });
      expect(outcome).toMatchObject({ kind: 'done' });
      const po = await control(`/accounts/${c.accountId}/payout`);
      await deliver();
      const [row] = await h.db.dataSource.query('SELECT id FROM stripe_connect_payout WHERE payout_id = $1', [po.id]);
      const payout = await payoutOf(h.rt, h.shop.organizer.id, row.id);
      const r = await reconcilePayout(h.rt, platform.stripe, payout!);
      expect(r.unavailable).toBeNull();
      const byKind = (kind: string) => r.lines.filter((l) => l.kind === kind);
      expect(byKind('payment').map((l) => [l.amount, l.orderCode]).sort()).toEqual([[2500, await orderCode(first.orderId)], [2500, await orderCode(second.orderId)]].sort());
      expect(byKind('application_fee').map((l) => [l.amount, l.paymentId]).sort()).toEqual([[-250, first.paymentId], [-250, second.paymentId]].sort());
      expect(byKind('refund')).toEqual([expect.objectContaining({ amount: -1000, paymentId: first.paymentId })]);
      // 1000 of 2500 refunded: 40 % of the 250 fee comes back to the organizer.
      expect(byKind('application_fee_refund')).toEqual([expect.objectContaining({ amount: 100, paymentId: first.paymentId })]);
      expect(byKind('payout')).toHaveLength(1);
      expect(r.totals).toEqual({ currency: 'EUR', amount: 2500 * 2 - 500 - 1000 + 100, fee: 0, net: Number(po.amount) });
    });

    it('direct: the charges (with Stripe\'s fee), the application fees and a dispute, on the connected account', async () => {
      await setModel(h, 'direct');
      const c = await connectAccount(h, platform);
      const orders = [await paidOrder(platform.on(c.accountId)), await paidOrder(platform.on(c.accountId)), await paidOrder(platform.on(c.accountId))];
      const pi = await platform.on(c.accountId).paymentIntents.retrieve(orders[0]!.intentId);
      await control(`/charges/${String(pi.latest_charge)}/dispute`, { kind: 'chargeback' });
      const po = await control(`/accounts/${c.accountId}/payout`);
      await deliver();
      const [row] = await h.db.dataSource.query('SELECT id FROM stripe_connect_payout WHERE payout_id = $1', [po.id]);
      const r = await reconcilePayout(h.rt, platform.stripe, (await payoutOf(h.rt, h.shop.organizer.id, row.id))!);
      const payments = r.lines.filter((l) => l.kind === 'payment');
      expect(payments.map((l) => l.paymentId).sort()).toEqual(orders.map((o) => o.paymentId).sort());
      expect(payments.every((l) => l.amount === 2500 && l.fee > 0 && l.net === 2500 - l.fee)).toBe(true);
      expect(r.lines.filter((l) => l.kind === 'application_fee').map((l) => l.paymentId).sort()).toEqual(orders.map((o) => o.paymentId).sort());
      expect(r.lines.filter((l) => l.kind === 'dispute')).toEqual([expect.objectContaining({ amount: -2500, paymentId: orders[0]!.paymentId })]);
      expect(r.totals?.net).toBe(Number(po.amount));
    });

    it('separate charges and transfers: the transfer\'s payment and the reversal of a refund, with the Kassa refund', async () => {
      await setModel(h, 'separate');
      const c = await connectAccount(h, platform);
      const o = await paidOrder(platform.stripe);
      expect(await transferSeparateCharge(h.rt, o.paymentId)).toMatch(/^transferred 2250 EUR/);
      const { refund } = await h.core.refunds.createRefund(o.orderId, { paymentId: o.paymentId, amount: { amount: 1000, currency: 'EUR' }, source: 'admin', actor: { type: 'system' } });
      const po = await control(`/accounts/${c.accountId}/payout`);
      await deliver();
      const [row] = await h.db.dataSource.query('SELECT id FROM stripe_connect_payout WHERE payout_id = $1', [po.id]);
      const r = await reconcilePayout(h.rt, platform.stripe, (await payoutOf(h.rt, h.shop.organizer.id, row.id))!);
      expect(r.lines.filter((l) => l.kind !== 'payout').map((l) => [l.kind, l.amount, l.paymentId, l.refundId])).toEqual(expect.arrayContaining([
        ['payment', 2250, o.paymentId, null],
        // 2250 transferred for 2500 paid: 1000 refunded takes back 900.
        ['refund', -900, o.paymentId, refund.id],
      ]));
      expect(r.totals?.net).toBe(Number(po.amount));
    });

    it('a manual payout has no contents at Stripe: said so, with no lines', async () => {
      await setModel(h, 'destination');
      const c = await connectAccount(h, platform);
      await paidOrder(platform.stripe);
      const po = await platform.on(c.accountId).payouts.create({ amount: 700, currency: 'eur' });
      await deliver();
      const [row] = await h.db.dataSource.query('SELECT id FROM stripe_connect_payout WHERE payout_id = $1', [po.id]);
      const r = await reconcilePayout(h.rt, platform.stripe, (await payoutOf(h.rt, h.shop.organizer.id, row.id))!);
      expect(r).toMatchObject({ lines: [], totals: null, unavailable: expect.stringMatching(/automatic payouts only/) });
    });

    it('another organizer\'s payout is not found by id', async () => {
      const [row] = await h.db.dataSource.query('SELECT id FROM stripe_connect_payout LIMIT 1');
      expect(await payoutOf(h.rt, '00000000-0000-4000-8000-000000000000', row.id)).toBeNull();
      expect(await payoutOf(h.rt, h.shop.organizer.id, 'not-a-uuid')).toBeNull();
    });
  });

  describe('refund fee policy (operator, per organizer)', () => {
    /** What a refund of 10.00 of a paid 25.00 moved: the transfer reversed (destination), the platform's fee returned. */
    async function refundWith(model: 'destination' | 'direct', policy: RefundFeePolicy | null): Promise<{ reversed: number; feeRefunded: number }> {
      await setModel(h, model);
      await h.settings.set(globalSettings, STRIPE_NAMESPACE, { connectOrganizers: policy ? { [h.shop.organizer.id]: { refundFeePolicy: policy } } : {} });
      const c = await connectAccount(h, platform);
      const client = model === 'direct' ? platform.on(c.accountId) : platform.stripe;
      const o = await paidOrder(client);
      const { outcome } = await h.core.refunds.createRefund(o.orderId, { paymentId: o.paymentId, amount: { amount: 1000, currency: 'EUR' }, source: 'admin', actor: { type: 'system' } });
      expect(outcome).toMatchObject({ kind: 'done' });
      const charge = await client.charges.retrieve(String((await client.paymentIntents.retrieve(o.intentId)).latest_charge));
      const reversed = charge.transfer ? (await platform.stripe.transfers.retrieve(String(charge.transfer))).amount_reversed : 0;
      const [fee] = (await platform.stripe.applicationFees.list({ charge: charge.id })).data;
      return { reversed, feeRefunded: fee?.amount_refunded ?? 0 };
    }
    afterAll(async () => { await h.settings.set(globalSettings, STRIPE_NAMESPACE, { connectOrganizers: {} }); });

    it.each([
      ['destination', null, { reversed: 1000, feeRefunded: 100 }],
      ['destination', 'reverse_both', { reversed: 1000, feeRefunded: 100 }],
      ['destination', 'keep_fee', { reversed: 0, feeRefunded: 0 }],
      ['destination', 'reverse_transfer_only', { reversed: 1000, feeRefunded: 0 }],
      ['direct', null, { reversed: 0, feeRefunded: 100 }],
      ['direct', 'reverse_both', { reversed: 0, feeRefunded: 100 }],
      ['direct', 'keep_fee', { reversed: 0, feeRefunded: 0 }],
      ['direct', 'reverse_transfer_only', { reversed: 0, feeRefunded: 0 }],
    ] as const)('%s charge, policy %s', async (model, policy, expected) => {
      expect(await refundWith(model, policy)).toEqual(expected);
    });

    it('the instance-wide policy applies to organizers without their own', async () => {
      await h.settings.set(globalSettings, STRIPE_NAMESPACE, { connectRefundFeePolicy: 'keep_fee' });
      try {
        expect(await refundWith('direct', null)).toEqual({ reversed: 0, feeRefunded: 0 });
        expect(await refundWith('direct', 'reverse_both')).toEqual({ reversed: 0, feeRefunded: 100 });
      } finally {
        await h.settings.set(globalSettings, STRIPE_NAMESPACE, { connectRefundFeePolicy: 'reverse_both' });
      }
    });
  });

  describe('the organizer\'s email when Stripe needs more', () => {
    const emails = async () => h.db.dataSource.query(
      `SELECT recipient, subject, body_text FROM email_message WHERE organizer_id = $1 AND template = 'plugin:stripe' ORDER BY created_at, recipient`, [h.shop.organizer.id]);

    beforeAll(async () => {
      const ds = h.db.dataSource;
      const user = async (email: string, team: { is_admin: boolean; can_change_organizer_settings: boolean }) => {
        const [u] = await ds.query(`INSERT INTO app_user (email, password_hash, name, is_active) VALUES ($1, 'x', 'U', true) RETURNING id`, [email]);
        const [t] = await ds.query('INSERT INTO team (organizer_id, name, is_admin, can_change_organizer_settings) VALUES ($1, $2, $3, $4) RETURNING id', [h.shop.organizer.id, email, team.is_admin, team.can_change_organizer_settings]);
        await ds.query('INSERT INTO team_member (team_id, user_id) VALUES ($1, $2)', [t.id, u.id]);
      };
      await user('owner@example.org', { is_admin: true, can_change_organizer_settings: false });
      await user('settings@example.org', { is_admin: false, can_change_organizer_settings: true });
      await user('viewer@example.org', { is_admin: false, can_change_organizer_settings: false });
    });

    it('once per new set of requirements, with the deadline, to the people who manage settings; not again for the same set or a smaller one', async () => {
      const c = await connectAccount(h, platform);
      await deliver();
      const before = (await emails()).length;
      await control(`/accounts/${c.accountId}/requirements`, { 'currently_due[]': 'individual.id_number', deadline_in_seconds: '604800' });
      await deliver();
      const first = (await emails()).slice(before);
      expect(first.map((e: { recipient: string }) => e.recipient)).toEqual(['owner@example.org', 'settings@example.org']);
      expect(first[0].body_text).toContain('individual.id_number');
      expect(first[0].body_text).toMatch(/by \d{4}-\d{2}-\d{2} \d{2}:\d{2} UTC/);
      expect(first[0].body_text).toContain(`${h.baseUrl}/plugins/stripe/control/connect`);

      // The same set again (another account.updated): nothing new. A smaller set: nothing.
      await control(`/accounts/${c.accountId}/requirements`, { 'currently_due[]': 'individual.id_number', deadline_in_seconds: '604800' });
      await deliver();
      expect((await emails()).length).toBe(before + 2);

      // Stripe asks for more: one email more per person, naming what is past due.
      await control(`/accounts/${c.accountId}/requirements`, { 'currently_due[]': 'external_account', 'past_due[]': 'individual.id_number' });
      await deliver();
      const second = (await emails()).slice(before + 2);
      expect(second).toHaveLength(2);
      expect(second[0].body_text).toContain('individual.id_number (past due)');
      expect(second[0].body_text).toContain('external_account');
      await control(`/accounts/${c.accountId}/requirements`, { currently_due: '', 'past_due[]': 'individual.id_number' });
      await deliver();
      expect((await emails()).length).toBe(before + 4);
    });
  });
});
