import { createShop, type ShopFixture } from '@kassa/testing';
import { globalSettings, organizerSettings } from '@kassa/core/host';
import type Stripe from 'stripe';
import { STRIPE_NAMESPACE, transferSeparateCharge, type ConnectedAccount } from '../../src';
import { handleIntent, handlePayPage, handleReturn } from '../../src/routes/checkout-routes';
import { syncWalletDomains } from '../../src/wallets/wallet-domain-sync';
import { StripeProvider } from '../../src/stripe-provider';
import { buyerConfirmsOn, connectAccount, enableConnect, setModel, stripeOffered, type ConnectPlatform } from '../support/connect-support';
import { createStripeHarness, httpRequest, linkParams, paymentRow, placeStripeOrder, refundRows, type StripeHarness } from '../support/stripe-harness';

const fees = { EUR: { percent: '10', fixed: 30, min: 0, max: null } };

describe('Stripe Connect charges: direct, destination, separate, with the platform fee', () => {
  let h: StripeHarness;
  let platform: ConnectPlatform;
  let conn: ConnectedAccount;
  beforeAll(async () => {
    h = await createStripeHarness({ price: 2500 });
    platform = await enableConnect(h, { model: 'destination', fees });
    conn = await connectAccount(h, platform);
  });
  afterAll(async () => { await h.destroy(); });

  /** Places an order, lets the buyer pay with `pm` in the browser, and applies the return page. */
  async function paid(client: () => Stripe, pm = 'pm_card_visa') {
    const placed = await placeStripeOrder(h);
    await buyerConfirmsOn(client(), placed.intentId, pm);
    await handleReturn(httpRequest(linkParams(placed.payUrl)), h.rt);
    const row = await paymentRow(h, placed.payment.id);
    return { ...placed, row };
  }

  it('destination: the platform charges with transfer_data and the fee; the account receives amount less fee; the fee is on the payment', async () => {
    await setModel(h, 'destination');
    const { intentId, row } = await paid(() => platform.stripe);
    expect(row.state).toBe('confirmed');
    // 10 % of 25.00 + 0.30 = 2.80
    expect(row.info.connect).toEqual({ model: 'destination', account: conn.accountId, chargeAccount: expect.stringMatching(/^acct_/), applicationFee: { amount: 280, currency: 'EUR' } });
    const pi = await platform.stripe.paymentIntents.retrieve(intentId);
    expect(pi).toMatchObject({ amount: 2500, application_fee_amount: 280, transfer_data: { destination: conn.accountId }, on_behalf_of: null });
    const transfers = await platform.stripe.transfers.list({ destination: conn.accountId });
    expect(transfers.data.map((t) => t.amount)).toContain(2500);
    const appFees = await platform.stripe.applicationFees.list({ charge: String(pi.latest_charge) });
    expect(appFees.data.map((f) => f.amount)).toEqual([280]);
  });

  it('destination to an account in another country settles on it (on_behalf_of)', async () => {
    await setModel(h, 'destination');
    const shop = await createShop(h.db.dataSource, { price: 2500 });
    const foreign = await connectAccount(h, platform, { country: 'DE', organizerId: shop.organizer.id });
    await h.settings.set(organizerSettings(shop.organizer.id), STRIPE_NAMESPACE, { _enabled: true });
    const placed = await h.core.orders.placeOrder({ eventId: shop.event.id, email: 'b@example.org', positions: [{ productId: shop.product.id }], provider: 'stripe' });
    await h.core.payments.executePayment(placed.payment!.id, {});
    const info = (await paymentRow(h, placed.payment!.id)).info as { intentId: string };
    expect(await platform.stripe.paymentIntents.retrieve(info.intentId)).toMatchObject({ on_behalf_of: foreign.accountId, transfer_data: { destination: foreign.accountId } });
  });

  it('direct: the intent lives on the connected account, the platform gets an application fee, the pay page initialises Stripe.js with the account', async () => {
    await setModel(h, 'direct');
    const { intentId, row, payUrl } = await paid(() => platform.on(conn.accountId));
    expect(row.state).toBe('confirmed');
    expect(row.info.connect).toMatchObject({ model: 'direct', account: conn.accountId, chargeAccount: conn.accountId, applicationFee: { amount: 280, currency: 'EUR' } });
    const pi = await platform.on(conn.accountId).paymentIntents.retrieve(intentId);
    expect(pi).toMatchObject({ application_fee_amount: 280, transfer_data: null });
    // Not on the platform itself.
    await expect(platform.stripe.paymentIntents.retrieve(intentId)).rejects.toMatchObject({ statusCode: 404 });
    const appFees = await platform.stripe.applicationFees.list({ charge: String(pi.latest_charge) });
    expect(appFees.data.map((f) => f.amount)).toEqual([280]);
    // The pay page of a direct charge: the platform's publishable key and the connected account.
    const page = await handlePayPage(httpRequest(linkParams(payUrl.replace('/pay/', '/pay/'))), h.rt);
    expect(page).toMatchObject({ redirect: expect.any(String) }); // paid already: back to the order page
  });

  it('direct: an open payment\'s pay page and intent route act on the connected account', async () => {
    await setModel(h, 'direct');
    const placed = await placeStripeOrder(h);
    const page = await handlePayPage(httpRequest(linkParams(placed.payUrl)), h.rt);
    expect(page).toMatchObject({ view: { data: { publishableKey: platform.publishableKey, stripeAccount: conn.accountId } } });
    const intent = await handleIntent(httpRequest(linkParams(placed.payUrl)), h.rt);
    expect(intent).toMatchObject({ status: 200, body: { clientSecret: expect.stringContaining(placed.intentId) } });
  });

  it('direct: wallet domains are registered on the connected account (Stripe-Account), not only on the platform', async () => {
    await setModel(h, 'direct');
    // The operator's shop domain (an IP such as BASE_URL's 127.0.0.1 is refused by Stripe, and stored with its error).
    await h.settings.set(globalSettings, STRIPE_NAMESPACE, { walletDomains: ['tickets.example.org'] });
    const rows = await syncWalletDomains(h.rt, { accountIds: [conn.accountId] });
    const shopDomain = rows.find((r) => r.domain === 'tickets.example.org');
    expect(shopDomain).toMatchObject({ accountId: conn.accountId, error: null, pmdId: expect.stringMatching(/^pmd_/) });
    const onAccount = await platform.stripe.paymentMethodDomains.list({}, { stripeAccount: conn.accountId });
    expect(onAccount.data.map((d) => d.domain_name)).toEqual(['tickets.example.org']);
    const onPlatform = await platform.stripe.paymentMethodDomains.list({});
    expect(onPlatform.data.map((d) => d.id)).not.toContain(shopDomain!.pmdId);
    // A second sync asks Stripe nothing new: still one domain on the account.
    await syncWalletDomains(h.rt, { accountIds: [conn.accountId], force: true });
    expect((await platform.stripe.paymentMethodDomains.list({}, { stripeAccount: conn.accountId })).data).toHaveLength(1);
    // Destination charges run on the platform: nothing is registered on the account for them.
    await setModel(h, 'destination');
    expect(await syncWalletDomains(h.rt, { accountIds: [conn.accountId] })).toEqual([]);
    await h.settings.set(globalSettings, STRIPE_NAMESPACE, { walletDomains: [] });
  });

  it('separate: a transfer group per order; after success one transfer of amount less fee, tied to the charge, made once', async () => {
    await setModel(h, 'separate');
    const { orderId, intentId, payment, row } = await paid(() => platform.stripe);
    expect(row.state).toBe('confirmed');
    const pi = await platform.stripe.paymentIntents.retrieve(intentId);
    expect(pi).toMatchObject({ transfer_group: `kassa-order-${orderId}`, application_fee_amount: null, transfer_data: null });
    expect(await transferSeparateCharge(h.rt, payment.id)).toMatch(/^transferred 2220 EUR/);
    // The outbox runs the job at least once: a second run moves nothing.
    expect(await transferSeparateCharge(h.rt, payment.id)).toBe('already transferred');
    const transfers = await platform.stripe.transfers.list({ transfer_group: `kassa-order-${orderId}` });
    expect(transfers.data).toHaveLength(1);
    expect(transfers.data[0]).toMatchObject({ amount: 2220, destination: conn.accountId, source_transaction: String(pi.latest_charge) });
    expect((await paymentRow(h, payment.id)).info.connect).toMatchObject({ model: 'separate', transferId: transfers.data[0]?.id });
    const [stored] = await h.db.dataSource.query('SELECT transfer_id, amount::int AS amount FROM stripe_connect_transfer WHERE payment_id = $1', [payment.id]);
    expect(stored).toEqual({ transfer_id: transfers.data[0]?.id, amount: 2220 });
  });

  it('separate: nothing is transferred for a payment that did not succeed', async () => {
    await setModel(h, 'separate');
    const { payment, row } = await paid(() => platform.stripe, 'pm_card_chargeDeclined');
    expect(row.state).not.toBe('confirmed');
    expect(await transferSeparateCharge(h.rt, payment.id)).toMatch(/^payment is /);
  });

  it('destination refund: reverses the transfer and returns the fee proportionally', async () => {
    await setModel(h, 'destination');
    const { orderId, payment, intentId } = await paid(() => platform.stripe);
    const { outcome } = await h.core.refunds.createRefund(orderId, { paymentId: payment.id, amount: { amount: 1000, currency: 'EUR' }, source: 'admin', actor: { type: 'system' } });
    expect(outcome).toMatchObject({ kind: 'done' });
    const [re] = (await platform.stripe.refunds.list({ payment_intent: intentId })).data;
    expect(re?.transfer_reversal).toEqual(expect.stringMatching(/^trr_/));
    const pi = await platform.stripe.paymentIntents.retrieve(intentId);
    const [fee] = (await platform.stripe.applicationFees.list({ charge: String(pi.latest_charge) })).data;
    // 1000 of 2500 refunded: 40 % of the 280 fee comes back.
    expect(fee?.amount_refunded).toBe(112);
    expect(await refundRows(h, payment.id)).toEqual([expect.objectContaining({ state: 'done', amount: 1000 })]);
  });

  it('direct refund: made on the connected account, returning the fee', async () => {
    await setModel(h, 'direct');
    const { orderId, payment, intentId } = await paid(() => platform.on(conn.accountId));
    await h.core.refunds.createRefund(orderId, { paymentId: payment.id, amount: { amount: 2500, currency: 'EUR' }, source: 'admin', actor: { type: 'system' } });
    const refunds = await platform.on(conn.accountId).refunds.list({ payment_intent: intentId });
    expect(refunds.data.map((r) => r.amount)).toEqual([2500]);
    const pi = await platform.on(conn.accountId).paymentIntents.retrieve(intentId);
    const [fee] = (await platform.stripe.applicationFees.list({ charge: String(pi.latest_charge) })).data;
    expect(fee?.amount_refunded).toBe(280);
  });

  it('separate refund: refunded by the platform, and the refunded share of the transfer is reversed, once', async () => {
    await setModel(h, 'separate');
    const { orderId, payment, intentId } = await paid(() => platform.stripe);
    await transferSeparateCharge(h.rt, payment.id);
    const { refund, outcome } = await h.core.refunds.createRefund(orderId, { paymentId: payment.id, amount: { amount: 1000, currency: 'EUR' }, source: 'admin', actor: { type: 'system' } });
    expect(outcome).toMatchObject({ kind: 'done' });
    expect((await platform.stripe.refunds.list({ payment_intent: intentId })).data.map((r) => r.amount)).toEqual([1000]);
    const transferId = String(((await paymentRow(h, payment.id)).info.connect as { transferId: string }).transferId);
    const reversals = await platform.stripe.transfers.listReversals(transferId);
    // 2220 transferred for 2500 paid: 1000 refunded takes back 888.
    expect(reversals.data.map((r) => r.amount)).toEqual([888]);
    expect(reversals.data[0]?.metadata).toEqual({ kassa_refund_id: refund.id });
  });

  it('the fee is shown in the control panel and the API', async () => {
    await setModel(h, 'destination');
    const { row } = await paid(() => platform.stripe);
    const provider = h.loaded.providers.get('stripe') as unknown as StripeProvider;
    const payment = { ...row, id: 'p', info: row.info } as never;
    const view = provider.paymentControlRender({ event: h.shop.event, settings: {}, clock: h.clock, baseUrl: h.baseUrl } as never, { payment, order: {} } as never);
    expect(view?.data.connect).toEqual({ model: 'destination', account: conn.accountId, transferId: null, fee: '€2.80' });
    expect(provider.apiPaymentDetails(payment)).toMatchObject({ connect: { model: 'destination', account: conn.accountId, applicationFee: { amount: 280, currency: 'EUR' } } });
  });
});

describe('Stripe Connect: who may be charged', () => {
  let h: StripeHarness;
  let platform: ConnectPlatform;
  let other: ShopFixture;
  beforeAll(async () => {
    h = await createStripeHarness({ price: 2500 });
    platform = await enableConnect(h, { model: 'destination' });
    other = await createShop(h.db.dataSource, { price: 2500 });
  });
  afterAll(async () => { await h.destroy(); });

  it('an account that cannot take charges yet is not offered; once onboarded it is', async () => {
    const pending = await connectAccount(h, platform, { onboarded: false });
    expect(pending.chargesEnabled).toBe(false);
    expect(await stripeOffered(h)).toBe(false);
    await fetch(`${h.emulator.url}/_emulator/accounts/${pending.accountId}/complete_onboarding`, { method: 'POST' });
    const { saveConnection } = await import('../../src');
    await saveConnection(h.rt, { organizerId: h.shop.organizer.id, eventId: null, account: await platform.stripe.accounts.retrieve(pending.accountId) });
    expect(await stripeOffered(h)).toBe(true);
  });

  it('a connection typed or copied into another organizer\'s settings is no connection: not offered, never charged', async () => {
    // The organizer's form stores what is typed; a copy of another level's token (or anything else) does not verify.
    const copied = String((await h.settings.resolve(organizerSettings(h.shop.organizer.id), STRIPE_NAMESPACE)).connectAccount);
    expect(copied).toMatch(/^kc1\./);
    for (const forged of [copied, 'acct_123', 'kc1.e30.AAAA']) {
      await h.settings.set(organizerSettings(other.organizer.id), STRIPE_NAMESPACE, { _enabled: true, connectAccount: forged });
      expect(await stripeOffered(h, other.event)).toBe(false);
      await expect(h.core.orders.placeOrder({ eventId: other.event.id, email: 'b@example.org', positions: [{ productId: other.product.id }], provider: 'stripe' }))
        .rejects.toThrow(/not available/);
    }
    const intents = await platform.stripe.paymentIntents.list({ limit: 100 });
    expect(intents.data.filter((pi) => pi.metadata.event_id === other.event.id)).toEqual([]);
  });
});
