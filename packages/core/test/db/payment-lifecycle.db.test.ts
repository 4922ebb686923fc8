import { KassaError, OrderPayment } from '@kassa/core/host';
import { snapshotRows } from '@kassa/testing';
import { admin, createCoreHarness, errorCode, logActions, outboxTopics, type CoreHarness } from './core-harness';

const card = { type: 'provider', id: 'card' } as const;

describe('payments: create, pend, fail, cancel, execute', () => {
  let h: CoreHarness;
  beforeAll(async () => { h = await createCoreHarness(); });
  afterAll(async () => { await h.destroy(); });
  const payment = (id: string) => h.ds.manager.findOneByOrFail(OrderPayment, { id });

  describe('createPayment refuses bad input with a catalogued error and writes nothing', () => {
    const cases: [string, Record<string, unknown>, string][] = [
      ['an amount that is not an integer', { provider: 'card', amount: { amount: 10.5, currency: 'EUR' } }, 'MONEY_NOT_SAFE_INTEGER'],
      ['an amount beyond 2^53', { provider: 'card', amount: { amount: 2 ** 53, currency: 'EUR' } }, 'MONEY_NOT_SAFE_INTEGER'],
      ['an amount given as a string', { provider: 'card', amount: { amount: '100', currency: 'EUR' } }, 'MONEY_NOT_SAFE_INTEGER'],
      ['a negative amount', { provider: 'card', amount: { amount: -100, currency: 'EUR' } }, 'MONEY_NEGATIVE'],
      ['a zero amount', { provider: 'card', amount: { amount: 0, currency: 'EUR' } }, 'PAYMENT_AMOUNT_INVALID'],
      ['another currency', { provider: 'card', amount: { amount: 100, currency: 'USD' } }, 'MONEY_CURRENCY_MISMATCH'],
      ['an unknown currency', { provider: 'card', amount: { amount: 100, currency: 'XXX' } }, 'MONEY_CURRENCY_UNKNOWN'],
      ['an unknown provider', { provider: 'bitcoin' }, 'PAYMENT_PROVIDER_UNKNOWN'],
    ];
    it.each(cases)('%s', async (_name, input, code) => {
      const { order } = await h.order(await h.shop());
      const before = await snapshotRows(h.ds);
      expect(await errorCode(h.core.payments.createPayment(order.id, input as never))).toBe(code);
      expect(await snapshotRows(h.ds)).toEqual(before);
    });

    it('a paid order (nothing to pay)', async () => {
      const { order, paymentId } = await h.order(await h.shop());
      await h.core.payments.confirmPayment(paymentId, { actor: card });
      const before = await snapshotRows(h.ds);
      expect(await errorCode(h.core.payments.createPayment(order.id, { provider: 'card' }))).toBe('ORDER_NOT_PAYABLE');
      expect(await snapshotRows(h.ds)).toEqual(before);
    });
  });

  it('failPayment fails an open attempt once and is a no-op on confirmed, failed or refunded payments', async () => {
    const { order, paymentId } = await h.order(await h.shop());
    expect(await h.core.payments.failPayment(paymentId, { actor: card, message: 'card declined' })).toMatchObject({ changed: true, payment: { state: 'failed' } });
    expect(await h.core.payments.failPayment(paymentId, { actor: card })).toMatchObject({ changed: false });
    const other = await h.core.payments.createPayment(order.id, { provider: 'card', actor: admin });
    await h.core.payments.confirmPayment(other.id, { actor: card });
    const before = await snapshotRows(h.ds);
    expect(await h.core.payments.failPayment(other.id, { actor: card })).toMatchObject({ changed: false, payment: { state: 'confirmed' } });
    expect(await snapshotRows(h.ds)).toEqual(before);
    expect((await logActions(h.ds, order.id)).filter((a) => a === 'kassa.order.payment.failed')).toHaveLength(1);
  });

  it('reduceOpenAmount lowers an open payment once, logged; refuses raising it and leaves confirmed payments alone', async () => {
    const { order, paymentId } = await h.order(await h.shop());
    const full = (await payment(paymentId)).amount;
    let before = await snapshotRows(h.ds);
    expect(await errorCode(h.core.payments.reduceOpenAmount(paymentId, full + 1, { actor: card }))).toBe('PAYMENT_AMOUNT_INVALID');
    expect(await errorCode(h.core.payments.reduceOpenAmount(paymentId, 1.5, { actor: card }))).toBe('MONEY_NOT_SAFE_INTEGER');
    expect(await snapshotRows(h.ds)).toEqual(before);
    expect(await h.core.payments.reduceOpenAmount(paymentId, full - 100, { actor: card, reason: 'partial capture' })).toMatchObject({ changed: true });
    expect((await payment(paymentId)).amount).toBe(full - 100);
    expect(await logActions(h.ds, order.id)).toContain('kassa.order.payment.amount_reduced');
    await h.core.payments.confirmPayment(paymentId, { actor: card });
    before = await snapshotRows(h.ds);
    expect(await h.core.payments.reduceOpenAmount(paymentId, full - 200, { actor: card })).toMatchObject({ changed: false, payment: { state: 'confirmed' } });
    expect(await snapshotRows(h.ds)).toEqual(before);
  });

  it('pendPayment moves created → pending once; a repeat is a no-op', async () => {
    const { order, paymentId } = await h.order(await h.shop());
    await h.core.payments.pendPayment(paymentId, { actor: card, info: { reference: 'SEPA-1' } });
    await h.core.payments.pendPayment(paymentId, { actor: card });
    expect(await payment(paymentId)).toMatchObject({ state: 'pending', info: { reference: 'SEPA-1' } });
    expect(await outboxTopics(h.ds, order.id)).toEqual(['order.placed', 'payment.pending']);
  });

  describe('cancelPayment', () => {
    it('tells the provider first, then cancels', async () => {
      const { order, paymentId } = await h.order(await h.shop());
      await h.core.payments.cancelPayment(paymentId, admin);
      expect(h.card.calls.filter((c) => c.id === paymentId).map((c) => c.method)).toEqual(['cancelPayment']);
      expect((await payment(paymentId)).state).toBe('canceled');
      expect(await outboxTopics(h.ds, order.id)).toEqual(['order.placed', 'payment.canceled']);
    });

    it('refuses a pending payment when the provider does not allow aborting, and writes nothing', async () => {
      const { paymentId } = await h.order(await h.shop(), { provider: 'bank' });
      await h.core.payments.pendPayment(paymentId, { actor: admin });
      const before = await snapshotRows(h.ds);
      expect(await errorCode(h.core.payments.cancelPayment(paymentId, admin))).toBe('PAYMENT_ABORT_NOT_ALLOWED');
      expect(await snapshotRows(h.ds)).toEqual(before);
      expect(h.bank.calls.some((c) => c.id === paymentId)).toBe(false);
    });

    it('cancels a pending payment when the provider allows aborting', async () => {
      const { paymentId } = await h.order(await h.shop());
      await h.core.payments.pendPayment(paymentId, { actor: card });
      expect((await h.core.payments.cancelPayment(paymentId, admin)).state).toBe('canceled');
    });

    it('refuses a forbidden transition (confirmed → canceled) with the machine\'s error', async () => {
      const { paymentId } = await h.order(await h.shop());
      await h.core.payments.confirmPayment(paymentId, { actor: card });
      const before = await snapshotRows(h.ds);
      expect(await errorCode(h.core.payments.cancelPayment(paymentId, admin))).toBe('STATE_TRANSITION_NOT_ALLOWED');
      expect(await snapshotRows(h.ds)).toEqual(before);
    });

    it('keeps the payment open and logs the failure when the gateway refuses', async () => {
      const { order, paymentId } = await h.order(await h.shop());
      h.card.failCancel = true;
      try {
        expect(await errorCode(h.core.payments.cancelPayment(paymentId, admin))).toBe('PROVIDER_ERROR');
      } finally {
        h.card.failCancel = false;
      }
      expect((await payment(paymentId)).state).toBe('created');
      expect(await logActions(h.ds, order.id)).toContain('kassa.order.payment.canceled.failed');
    });
  });

  describe('executePayment applies the provider outcome', () => {
    it('confirmed → the payment is confirmed and the order paid', async () => {
      const { order, paymentId } = await h.order(await h.shop());
      const result = await h.core.payments.executePayment(paymentId, { token: 'tok' });
      expect(result).toMatchObject({ outcome: { kind: 'confirmed' }, confirmation: { kind: 'order_paid' } });
      expect(await payment(paymentId)).toMatchObject({ state: 'confirmed', processInitiated: true, info: { reference: `ref-${paymentId}` } });
      expect((await h.core.orders.getSummary(order.id)).status).toBe('paid');
    });

    it('refuses a second execution of the same attempt (no double charge)', async () => {
      const { paymentId } = await h.order(await h.shop());
      h.card.paymentOutcomes.push({ kind: 'requires_action', redirectUrl: 'https://acs.example/3ds' });
      await h.core.payments.executePayment(paymentId, {});
      const calls = h.card.calls.length;
      expect(await errorCode(h.core.payments.executePayment(paymentId, {}))).toBe('PAYMENT_NOT_EXECUTABLE');
      expect(h.card.calls.length).toBe(calls);
    });

    it('pending → the payment waits', async () => {
      const { paymentId } = await h.order(await h.shop());
      h.card.paymentOutcomes.push({ kind: 'pending', info: { reference: 'p-1' } });
      await h.core.payments.executePayment(paymentId, {});
      expect(await payment(paymentId)).toMatchObject({ state: 'pending', info: { reference: 'p-1' } });
    });

    it('requires_action → the redirect is stored and announced, the state is unchanged', async () => {
      const { order, paymentId } = await h.order(await h.shop());
      h.card.paymentOutcomes.push({ kind: 'requires_action', redirectUrl: 'https://acs.example/3ds', info: { intent: 'pi_1' } });
      const result = await h.core.payments.executePayment(paymentId, {});
      expect(result.outcome.kind).toBe('requires_action');
      expect(await payment(paymentId)).toMatchObject({ state: 'created', info: { intent: 'pi_1', redirectUrl: 'https://acs.example/3ds' } });
      expect(await outboxTopics(h.ds, order.id)).toEqual(['order.placed', 'payment.action_required']);
    });

    it.each(['declined', 'failed'] as const)('%s → the payment fails and payment.failed is emitted', async (kind) => {
      const { order, paymentId } = await h.order(await h.shop());
      h.card.paymentOutcomes.push({ kind, message: 'insufficient funds', code: 'card_declined' });
      const result = await h.core.payments.executePayment(paymentId, {});
      expect(result.outcome.kind).toBe(kind);
      expect(await payment(paymentId)).toMatchObject({ state: 'failed', info: { error: { kind, message: 'insufficient funds', code: 'card_declined' } } });
      expect(await outboxTopics(h.ds, order.id)).toEqual(['order.placed', 'payment.failed']);
      expect((await h.core.orders.getSummary(order.id)).status).toBe('pending');
    });

    it('a provider exception fails the payment and surfaces as PROVIDER_ERROR', async () => {
      const { paymentId } = await h.order(await h.shop());
      h.card.paymentOutcomes.push(new Error('connection reset'));
      const err = await h.core.payments.executePayment(paymentId, {}).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(KassaError);
      expect(err).toMatchObject({ code: 'PROVIDER_ERROR', message: expect.stringMatching(/connection reset/) });
      expect((await payment(paymentId)).state).toBe('failed');
    });
  });
});
