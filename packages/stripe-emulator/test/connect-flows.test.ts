import Stripe from 'stripe';
import type { RunningEmulator } from '../src';
import { freshKey, raw, stripeFor, webhookReceiver, withEmulator } from './helpers';

/**
 * Connect flows (§9) as the plugin needs them: requirements that appear, go past due and clear;
 * Connect webhooks with `account`; the money of each charge model; refunds with reverse_transfer
 * and refund_application_fee; transfer reversals; payouts that fail; balance transactions per payout.
 */
let emu: RunningEmulator;
let key: string;
let stripe: Stripe;
const noRedirects = { automatic_payment_methods: { enabled: true, allow_redirects: 'never' as const } };
const stripeFee = (amount: number) => Math.floor((amount * 29 + 500) / 1000) + 30;

beforeAll(async () => {
  emu = await withEmulator();
});
afterAll(() => emu.close());
beforeEach(() => {
  key = freshKey();
  stripe = stripeFor(emu, key);
});
afterEach(() => expect(emu.errors()).toEqual([]));

async function onboarded(type: 'express' | 'custom' | 'standard' = 'express', extra: Partial<Stripe.AccountCreateParams> = {}): Promise<Stripe.Account> {
  const acct = await stripe.accounts.create({ type, country: 'DE', capabilities: { card_payments: { requested: true }, transfers: { requested: true } }, ...extra });
  await raw(emu, 'POST', `/_emulator/accounts/${acct.id}/complete_onboarding`, '');
  return stripe.accounts.retrieve(acct.id);
}

async function available(opts?: Stripe.RequestOptions): Promise<number> {
  const b = await stripe.balance.retrieve({}, opts);
  return b.available.find((x) => x.currency === 'eur')?.amount ?? 0;
}

function events(rx: { received: { body: string }[] }): Stripe.Event[] {
  return rx.received.map((r) => JSON.parse(r.body) as Stripe.Event);
}

describe('requirements (§9.1)', () => {
  it('a requirement appears with a deadline, goes past due (charges off), and clears when provided; events reach the Connect endpoint', async () => {
    const rx = await webhookReceiver();
    try {
      await stripe.webhookEndpoints.create({ url: rx.url, enabled_events: ['account.updated', 'capability.updated'], connect: true });
      const acct = await onboarded();
      expect(acct.charges_enabled).toBe(true);
      await emu.flushWebhooks();
      rx.received.length = 0;

      const due = await raw(
        emu,
        'POST',
        `/_emulator/accounts/${acct.id}/requirements`,
        'currently_due[]=individual.verification.document&deadline_in_seconds=3600&errors[0][requirement]=individual.verification.document&errors[0][code]=verification_document_failed&errors[0][reason]=The+document+is+blurry',
      );
      expect(due.status).toBe(200);
      let a = await stripe.accounts.retrieve(acct.id);
      expect(a.requirements).toMatchObject({ currently_due: ['individual.verification.document'], eventually_due: expect.arrayContaining(['individual.verification.document']), past_due: [], disabled_reason: null });
      expect(a.requirements?.current_deadline).toBeGreaterThan(Math.floor(Date.now() / 1000));
      expect(a.requirements?.errors).toEqual([{ requirement: 'individual.verification.document', code: 'verification_document_failed', reason: 'The document is blurry' }]);
      // Before the deadline the account still charges.
      expect(a.charges_enabled).toBe(true);
      await stripe.paymentIntents.create({ amount: 1000, currency: 'eur' }, { stripeAccount: acct.id });

      emu.advanceClock(3601);
      a = await stripe.accounts.retrieve(acct.id);
      expect(a).toMatchObject({ charges_enabled: false, payouts_enabled: false, requirements: { past_due: ['individual.verification.document'], disabled_reason: 'requirements.past_due', current_deadline: null } });
      expect((await stripe.accounts.retrieveCapability(acct.id, 'card_payments')).status).toBe('inactive');
      await expect(stripe.paymentIntents.create({ amount: 1000, currency: 'eur' }, { stripeAccount: acct.id })).rejects.toMatchObject({ statusCode: 400, message: expect.stringMatching(/charges_enabled is false/) });

      a = await stripe.accounts.update(acct.id, { individual: { verification: { document: { front: 'file_identity_document_success' } } } });
      expect(a).toMatchObject({ charges_enabled: true, requirements: { past_due: [], currently_due: [], errors: [], disabled_reason: null } });

      await emu.flushWebhooks();
      const seen = events(rx);
      expect(seen.every((e) => e.account === acct.id)).toBe(true);
      const updates = seen.filter((e) => e.type === 'account.updated').map((e) => (e.data.object as Stripe.Account).charges_enabled);
      expect(updates).toEqual([true, false, true]);
      const caps = seen.filter((e) => e.type === 'capability.updated').map((e) => `${(e.data.object as Stripe.Capability).id}:${(e.data.object as Stripe.Capability).status}`);
      expect(caps).toEqual(expect.arrayContaining(['card_payments:inactive', 'transfers:inactive', 'card_payments:active', 'transfers:active']));
    } finally {
      await rx.close();
    }
  });

  it('a rejected account stays disabled whatever it provides', async () => {
    const acct = await onboarded();
    await raw(emu, 'POST', `/_emulator/accounts/${acct.id}/requirements`, 'disabled_reason=rejected.fraud');
    const a = await stripe.accounts.update(acct.id, { business_profile: { url: 'https://x.example' } });
    expect(a).toMatchObject({ charges_enabled: false, requirements: { disabled_reason: 'rejected.fraud' } });
  });

  it('the user revoking access sends account.application.deauthorized with `account`, then calls for it are refused', async () => {
    const rx = await webhookReceiver();
    try {
      await stripe.webhookEndpoints.create({ url: rx.url, enabled_events: ['account.application.deauthorized'], connect: true });
      const acct = await onboarded('standard');
      expect((await raw(emu, 'POST', `/_emulator/accounts/${acct.id}/deauthorize`, '')).status).toBe(200);
      await emu.flushWebhooks();
      expect(events(rx).map((e) => [e.type, e.account, (e.data.object as { object: string }).object])).toEqual([['account.application.deauthorized', acct.id, 'application']]);
      await expect(stripe.paymentIntents.create({ amount: 1000, currency: 'eur' }, { stripeAccount: acct.id })).rejects.toMatchObject({ statusCode: 403, code: 'account_invalid' });
      await expect(stripe.accounts.retrieve(acct.id)).rejects.toMatchObject({ statusCode: 403 });
    } finally {
      await rx.close();
    }
  });
});

describe('charges per model and their balances (§9.4)', () => {
  it('direct charge: the connected account keeps amount minus Stripe fee minus application fee; the platform gets the fee', async () => {
    const acct = await onboarded('standard');
    await stripe.paymentIntents.create({ amount: 10000, currency: 'eur', application_fee_amount: 500, payment_method: 'pm_card_visa', confirm: true, capture_method: 'automatic', ...noRedirects }, { stripeAccount: acct.id });
    expect(await available({ stripeAccount: acct.id })).toBe(10000 - stripeFee(10000) - 500);
    expect(await available()).toBe(500);
  });

  it('destination charge with application_fee_amount and on_behalf_of: full transfer, fee back to the platform, which pays the Stripe fee', async () => {
    const acct = await onboarded();
    const pi = await stripe.paymentIntents.create({
      amount: 10000, currency: 'eur', application_fee_amount: 1000, transfer_data: { destination: acct.id }, on_behalf_of: acct.id,
      payment_method: 'pm_card_visa', confirm: true, capture_method: 'automatic', ...noRedirects,
    });
    const ch = await stripe.charges.retrieve(pi.latest_charge as string, { expand: ['transfer', 'application_fee'] });
    expect(ch).toMatchObject({ on_behalf_of: acct.id, transfer: { amount: 10000, destination: acct.id }, application_fee: { amount: 1000, account: acct.id } });
    expect(await available({ stripeAccount: acct.id })).toBe(9000);
    expect(await available()).toBe(1000 - stripeFee(10000));
  });

  it('destination charge with transfer_data[amount]: only that amount moves, no application fee object', async () => {
    const acct = await onboarded();
    const pi = await stripe.paymentIntents.create({ amount: 10000, currency: 'eur', transfer_data: { destination: acct.id, amount: 8000 }, payment_method: 'pm_card_visa', confirm: true, capture_method: 'automatic', ...noRedirects });
    const ch = await stripe.charges.retrieve(pi.latest_charge as string);
    expect(ch.application_fee).toBeNull();
    expect(await available({ stripeAccount: acct.id })).toBe(8000);
    expect(await available()).toBe(2000 - stripeFee(10000));
  });

  it('refuses what Stripe refuses: both fee forms, on_behalf_of other than the destination, destinations without transfers, settlement accounts without card_payments', async () => {
    const acct = await onboarded();
    const other = await onboarded();
    const fresh = await stripe.accounts.create({ type: 'express', capabilities: { card_payments: { requested: true }, transfers: { requested: true } } });
    await expect(stripe.paymentIntents.create({ amount: 10000, currency: 'eur', application_fee_amount: 100, transfer_data: { destination: acct.id, amount: 9000 } })).rejects.toMatchObject({ code: 'parameters_exclusive' });
    await expect(stripe.paymentIntents.create({ amount: 10000, currency: 'eur', transfer_data: { destination: acct.id }, on_behalf_of: other.id })).rejects.toMatchObject({ param: 'on_behalf_of' });
    await expect(stripe.paymentIntents.create({ amount: 10000, currency: 'eur', transfer_data: { destination: fresh.id } })).rejects.toMatchObject({ code: 'insufficient_capabilities_for_transfer' });
    await expect(stripe.paymentIntents.create({ amount: 10000, currency: 'eur', on_behalf_of: fresh.id })).rejects.toMatchObject({ param: 'on_behalf_of' });
  });

  it('separate charges and transfers: transfer_group, source_transaction, a reversal; balances follow', async () => {
    const acct = await onboarded();
    const pi = await stripe.paymentIntents.create({ amount: 20000, currency: 'eur', transfer_group: 'ORDER-7', payment_method: 'pm_card_visa', confirm: true, capture_method: 'automatic', ...noRedirects });
    const ch = await stripe.charges.retrieve(pi.latest_charge as string);
    expect(ch.transfer_group).toBe('ORDER-7');
    const tr = await stripe.transfers.create({ amount: 15000, currency: 'eur', destination: acct.id, transfer_group: 'ORDER-7', source_transaction: ch.id });
    await expect(stripe.transfers.create({ amount: 6000, currency: 'eur', destination: acct.id, source_transaction: ch.id })).rejects.toMatchObject({ param: 'amount' });
    const rev = await stripe.transfers.createReversal(tr.id, { amount: 5000 });
    expect(rev).toMatchObject({ object: 'transfer_reversal', amount: 5000, transfer: tr.id });
    expect((await stripe.transfers.listReversals(tr.id)).data.map((r) => r.id)).toEqual([rev.id]);
    expect(await available({ stripeAccount: acct.id })).toBe(10000);
    expect(await available()).toBe(20000 - stripeFee(20000) - 15000 + 5000);
    // A refund of the platform charge does not touch the transfer: no reverse_transfer for SCT.
    await expect(stripe.refunds.create({ charge: ch.id, reverse_transfer: true })).rejects.toMatchObject({ param: 'reverse_transfer' });
  });
});

describe('refunds with Connect (§9.5)', () => {
  it('destination: partial refunds reverse the transfer and the fee proportionally, and the last one exactly what is left', async () => {
    const acct = await onboarded();
    const pi = await stripe.paymentIntents.create({ amount: 10000, currency: 'eur', application_fee_amount: 1000, transfer_data: { destination: acct.id }, payment_method: 'pm_card_visa', confirm: true, capture_method: 'automatic', ...noRedirects });
    const ch = await stripe.charges.retrieve(pi.latest_charge as string);
    await expect(stripe.refunds.create({ payment_intent: pi.id, refund_application_fee: true })).rejects.toMatchObject({ param: 'refund_application_fee' });
    const r1 = await stripe.refunds.create({ payment_intent: pi.id, amount: 3333, reverse_transfer: true, refund_application_fee: true });
    expect(r1.transfer_reversal).toMatch(/^trr_/);
    expect((await stripe.transfers.retrieve(ch.transfer as string)).amount_reversed).toBe(3333);
    expect((await stripe.applicationFees.retrieve(ch.application_fee as string)).amount_refunded).toBe(333);
    await stripe.refunds.create({ payment_intent: pi.id, reverse_transfer: true, refund_application_fee: true });
    expect((await stripe.transfers.retrieve(ch.transfer as string))).toMatchObject({ amount_reversed: 10000, reversed: true });
    expect((await stripe.applicationFees.retrieve(ch.application_fee as string))).toMatchObject({ amount_refunded: 1000, refunded: true });
    // Everything went back: the connected account holds nothing, the platform is out the Stripe fee.
    expect(await available({ stripeAccount: acct.id })).toBe(0);
    expect(await available()).toBe(-stripeFee(10000));
  });

  it('destination without reverse_transfer: the platform pays the refund, the connected account keeps its money', async () => {
    const acct = await onboarded();
    const pi = await stripe.paymentIntents.create({ amount: 10000, currency: 'eur', application_fee_amount: 1000, transfer_data: { destination: acct.id }, payment_method: 'pm_card_visa', confirm: true, capture_method: 'automatic', ...noRedirects });
    await stripe.refunds.create({ payment_intent: pi.id });
    expect(await available({ stripeAccount: acct.id })).toBe(9000);
    expect(await available()).toBe(1000 - stripeFee(10000) - 10000);
  });

  it('direct: the connected account pays the refund; refund_application_fee returns the platform fee', async () => {
    const acct = await onboarded('standard');
    const opts = { stripeAccount: acct.id };
    const pi = await stripe.paymentIntents.create({ amount: 10000, currency: 'eur', application_fee_amount: 500, payment_method: 'pm_card_visa', confirm: true, capture_method: 'automatic', ...noRedirects }, opts);
    await stripe.refunds.create({ payment_intent: pi.id, amount: 4000, refund_application_fee: true }, opts);
    expect(await available(opts)).toBe(10000 - stripeFee(10000) - 500 - 4000 + 200);
    expect(await available()).toBe(500 - 200);
  });
});

describe('payouts and reconciliation (§9.6)', () => {
  it("a payout to one of Stripe's failing test bank accounts fails with its code; payout.failed reaches the Connect endpoint; the money comes back", async () => {
    const rx = await webhookReceiver();
    try {
      await stripe.webhookEndpoints.create({ url: rx.url, enabled_events: ['payout.failed', 'payout.paid'], connect: true });
      const acct = await onboarded('custom', { external_account: { object: 'bank_account', country: 'DE', currency: 'eur', account_number: '000111111116' } as never });
      const opts = { stripeAccount: acct.id };
      await stripe.paymentIntents.create({ amount: 10000, currency: 'eur', transfer_data: { destination: acct.id }, payment_method: 'pm_card_visa', confirm: true, capture_method: 'automatic', ...noRedirects });
      const po = await stripe.payouts.create({ amount: 6000, currency: 'eur' }, opts);
      expect(po.destination).toMatch(/^ba_/);
      expect(await available(opts)).toBe(4000);
      emu.runPending();
      const failed = await stripe.payouts.retrieve(po.id, {}, opts);
      expect(failed).toMatchObject({ status: 'failed', failure_code: 'no_account', failure_message: expect.stringMatching(/No bank account could be located/) });
      expect(await available(opts)).toBe(10000);
      await emu.flushWebhooks();
      expect(events(rx).map((e) => [e.type, e.account])).toEqual([['payout.failed', acct.id]]);
    } finally {
      await rx.close();
    }
  });

  it('an automatic payout lists its balance transactions; manual payouts cannot be filtered; a manual schedule has no automatic payouts', async () => {
    const acct = await onboarded('custom', { external_account: { object: 'bank_account', country: 'DE', currency: 'eur', account_number: '000123456789' } as never });
    const opts = { stripeAccount: acct.id };
    const pay = (amount: number, fee: number) =>
      stripe.paymentIntents.create({ amount, currency: 'eur', application_fee_amount: fee, transfer_data: { destination: acct.id }, payment_method: 'pm_card_visa', confirm: true, capture_method: 'automatic', ...noRedirects });
    await pay(10000, 1000);
    await pay(5000, 500);
    const po = (await raw(emu, 'POST', `/_emulator/accounts/${acct.id}/payout`, 'currency=eur')).json;
    expect(po).toMatchObject({ object: 'payout', automatic: true, amount: 13500, status: 'pending' });
    const txns = await stripe.balanceTransactions.list({ payout: po.id, limit: 100 }, opts);
    expect(txns.data.map((t) => t.type).sort()).toEqual(['application_fee', 'application_fee', 'payment', 'payment', 'payout']);
    expect(txns.data.reduce((n, t) => n + t.net, 0)).toBe(0);
    emu.runPending();
    expect((await stripe.payouts.retrieve(po.id, {}, opts)).status).toBe('paid');

    await pay(2000, 0);
    const manual = await stripe.payouts.create({ amount: 1000, currency: 'eur' }, opts);
    await expect(stripe.balanceTransactions.list({ payout: manual.id }, opts)).rejects.toMatchObject({ message: 'Balance transaction history can only be filtered on automatic transfers, not manual.' });
    // The next automatic payout holds only what came after the first one.
    const po2 = (await raw(emu, 'POST', `/_emulator/accounts/${acct.id}/payout`, '')).json;
    expect(po2.amount).toBe(1000);
    expect((await stripe.balanceTransactions.list({ payout: po2.id }, opts)).data.map((t) => t.type).sort()).toEqual(['payment', 'payout', 'payout']);

    await stripe.accounts.update(acct.id, { settings: { payouts: { schedule: { interval: 'manual' } } } });
    await pay(2000, 0);
    expect((await raw(emu, 'POST', `/_emulator/accounts/${acct.id}/payout`, '')).status).toBe(400);
  });

  it('external accounts: add, list, the default cannot be deleted, another can', async () => {
    const acct = await onboarded('custom');
    const first = (await stripe.accounts.listExternalAccounts(acct.id)).data;
    expect(first).toHaveLength(1);
    const second = await stripe.accounts.createExternalAccount(acct.id, { external_account: { object: 'bank_account', country: 'DE', currency: 'eur', account_number: '000222222227' } as never });
    expect(second).toMatchObject({ object: 'bank_account', last4: '2227', default_for_currency: true });
    const list = (await stripe.accounts.listExternalAccounts(acct.id)).data;
    expect(list).toHaveLength(2);
    await expect(stripe.accounts.deleteExternalAccount(acct.id, second.id)).rejects.toMatchObject({ statusCode: 400 });
    const old = list.find((b) => b.id !== second.id) as Stripe.BankAccount;
    expect((await stripe.accounts.deleteExternalAccount(acct.id, old.id)).deleted).toBe(true);
    expect((await stripe.accounts.retrieve(acct.id)).external_accounts?.data.map((b) => b.id)).toEqual([second.id]);
  });
});

describe('Custom accounts: bank accounts managed by the platform', () => {
  it('adding a bank account clears external_account; another becomes the default; the default cannot be deleted', async () => {
    const acct = await stripe.accounts.create({ type: 'custom', country: 'DE', capabilities: { card_payments: { requested: true }, transfers: { requested: true } } });
    expect(acct.requirements?.past_due).toContain('external_account');
    const first = await stripe.accounts.createExternalAccount(acct.id, { external_account: { object: 'bank_account', country: 'DE', currency: 'eur', account_number: 'DE89370400440532013000' } } as unknown as Stripe.AccountCreateExternalAccountParams) as Stripe.BankAccount;
    const after = await stripe.accounts.retrieve(acct.id);
    expect(after.requirements?.past_due).not.toContain('external_account');
    expect(after.requirements?.currently_due).not.toContain('external_account');
    const second = await stripe.accounts.createExternalAccount(acct.id, { external_account: 'btok_us_verified' }) as Stripe.BankAccount;
    expect(second.default_for_currency).toBe(true);
    await expect(stripe.accounts.deleteExternalAccount(acct.id, second.id)).rejects.toThrow(/default external account/);
    const made = await stripe.accounts.updateExternalAccount(acct.id, first.id, { default_for_currency: true }) as Stripe.BankAccount;
    expect(made.default_for_currency).toBe(true);
    const list = (await stripe.accounts.listExternalAccounts(acct.id, { object: 'bank_account' })).data as Stripe.BankAccount[];
    expect(list.filter((b) => b.default_for_currency).map((b) => b.id)).toEqual([first.id]);
    expect((await stripe.accounts.deleteExternalAccount(acct.id, second.id)).deleted).toBe(true);
  });
});
