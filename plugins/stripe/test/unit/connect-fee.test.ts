import { money } from '@kassa/core';
import { createAjv } from '@kassa/core';
import { chargeModelFor, feeRuleFor, refundFeePolicyFor, type PlatformFeeRule } from '../../src/connect/connect-settings';
import { levelOf, signConnection, verifyConnection } from '../../src/connect/connection-token';
import { connectChargeFor, connectIntentExtras, connectRefundFlags } from '../../src/connect/connect-charge';
import { platformFee } from '../../src/connect/platform-fee';
import { settingsProblems, stripeSettingsSchema, type StripeSettings } from '../../src/settings-schema';
import { stripeSettingsFrom } from '../../src/stripe-account-context';

const rule = (r: Partial<PlatformFeeRule>): PlatformFeeRule => ({ percent: '0', fixed: 0, min: 0, max: null, ...r });

describe('the Connect platform fee', () => {
  it('is percent plus fixed, rounded half-up in minor units', () => {
    expect(platformFee(money(2500, 'EUR'), rule({ percent: '2.5', fixed: 30 }))).toEqual(money(93, 'EUR')); // 62.5 → 63, + 30
    expect(platformFee(money(1000, 'EUR'), rule({ percent: '1.25' }))).toEqual(money(13, 'EUR')); // 12.5 → 13
    expect(platformFee(money(999, 'EUR'), rule({ percent: '1.25' }))).toEqual(money(12, 'EUR')); // 12.4875 → 12
  });

  it('is raised to the minimum and lowered to the maximum', () => {
    expect(platformFee(money(1000, 'EUR'), rule({ percent: '1', min: 50 }))).toEqual(money(50, 'EUR'));
    expect(platformFee(money(1_000_000, 'EUR'), rule({ percent: '5', max: 2000 }))).toEqual(money(2000, 'EUR'));
  });

  it('is never more than the amount, whatever the minimum or fixed part', () => {
    expect(platformFee(money(40, 'EUR'), rule({ fixed: 30, min: 100 }))).toEqual(money(40, 'EUR'));
    expect(platformFee(money(0, 'EUR'), rule({ fixed: 30 }))).toEqual(money(0, 'EUR'));
  });

  it('works in the currency\'s own exponent: zero-decimal JPY and three-decimal KWD', () => {
    // 2.9 % of ¥1,234 = 35.786 → ¥36, + ¥30
    expect(platformFee(money(1234, 'JPY'), rule({ percent: '2.9', fixed: 30 }))).toEqual(money(66, 'JPY'));
    // 2.9 % of 12.345 KWD (12345 fils) = 358.005 → 358 fils, + 100 fils
    expect(platformFee(money(12345, 'KWD'), rule({ percent: '2.9', fixed: 100 }))).toEqual(money(458, 'KWD'));
  });

  it('is zero without a rule for the currency', () => {
    expect(platformFee(money(2500, 'USD'), null)).toEqual(money(0, 'USD'));
  });

  it('takes the operator\'s override for an organizer, per currency, over the instance rule', () => {
    const s = { connectChargeModel: 'destination' as const, connectFees: { EUR: rule({ percent: '3' }) }, connectOrganizers: { o1: { chargeModel: 'direct' as const, fees: { EUR: rule({ percent: '1' }) } } } };
    expect(feeRuleFor(s, 'o1', 'EUR')?.percent).toBe('1');
    expect(feeRuleFor(s, 'o2', 'EUR')?.percent).toBe('3');
    expect(feeRuleFor(s, 'o1', 'USD')).toBeNull();
    expect(chargeModelFor(s, 'o1')).toBe('direct');
    expect(chargeModelFor(s, 'o2')).toBe('destination');
  });
});

describe('the Connect settings', () => {
  const validate = createAjv().compile(stripeSettingsSchema);
  const base = { secretKey: 'sk_test_x', publishableKey: 'pk_test_x' };

  it('accept fees per currency with min and max, and overrides per organizer', () => {
    expect(validate({ ...base, connectFees: { EUR: rule({ percent: '2.5', fixed: 30, max: 500 }) }, connectOrganizers: { 'a-b': { chargeModel: 'separate' } } })).toBe(true);
  });

  it('refuse a lowercase currency, a negative fixed part, a percent of 100 or more, and an unknown charge model', () => {
    expect(validate({ ...base, connectFees: { eur: rule({}) } })).toBe(false);
    expect(validate({ ...base, connectFees: { EUR: rule({ fixed: -1 }) } })).toBe(false);
    expect(validate({ ...base, connectFees: { EUR: rule({ percent: '100' }) } })).toBe(false);
    expect(validate({ ...base, connectChargeModel: 'magic' })).toBe(false);
    expect(validate({ ...base, connectRefundFeePolicy: 'keep_fee', connectOrganizers: { 'a-b': { refundFeePolicy: 'reverse_transfer_only' } } })).toBe(true);
    expect(validate({ ...base, connectRefundFeePolicy: 'keep_everything' })).toBe(false);
    expect(validate({ ...base, connectOrganizers: { 'a-b': { refundFeePolicy: 'nope' } } })).toBe(false);
  });

  it('the refund fee policy: the organizer\'s own, else the instance\'s, else reverse both', () => {
    expect(refundFeePolicyFor({ connectRefundFeePolicy: undefined as never, connectOrganizers: {} }, 'o1')).toBe('reverse_both');
    expect(refundFeePolicyFor({ connectRefundFeePolicy: 'keep_fee', connectOrganizers: {} }, 'o1')).toBe('keep_fee');
    expect(refundFeePolicyFor({ connectRefundFeePolicy: 'keep_fee', connectOrganizers: { o1: { refundFeePolicy: 'reverse_transfer_only' } } }, 'o1')).toBe('reverse_transfer_only');
    expect(refundFeePolicyFor({ connectRefundFeePolicy: 'keep_fee', connectOrganizers: { o1: { refundFeePolicy: 'reverse_transfer_only' } } }, 'o2')).toBe('keep_fee');
  });

  it('mark everything the operator decides instance-only, and the connection secret', () => {
    const props = stripeSettingsSchema.properties as Record<string, Record<string, unknown>>;
    for (const key of ['platformSecretKey', 'platformPublishableKey', 'connectClientId', 'connectWebhookSecrets', 'connectChargeModel', 'connectFees', 'connectOrganizers', 'connectRefundFeePolicy']) {
      expect([key, props[key]?.['x-instance-only']]).toEqual([key, true]);
    }
    expect(props.connectAccount?.['x-instance-only']).toBeUndefined();
    expect(props.connectAccount?.['x-secret']).toBe(true);
    expect(props.platformSecretKey?.['x-secret']).toBe(true);
  });

  it('report mixed platform key modes, a max below the min, and an unknown currency', () => {
    const s = stripeSettingsFrom({ ...base, platformSecretKey: 'sk_live_a', platformPublishableKey: 'pk_test_b', connectFees: { EUR: rule({ min: 50, max: 10 }), XXY: rule({}) } });
    const problems = settingsProblems(s).join('\n');
    expect(problems).toMatch(/platformSecretKey is a live key but platformPublishableKey is a test key/);
    expect(problems).toMatch(/connectFees\.EUR: max \(10\) is below min \(50\)/);
    expect(problems).toMatch(/connectFees\.XXY: not an ISO 4217 currency/);
  });
});

describe('the signed connection the provider reads', () => {
  const event = { id: 'e1', organizerId: 'o1' };
  const claim = { level: levelOf('o1', null), accountId: 'acct_1', accountType: 'express', chargesEnabled: true, country: 'DE', crossBorder: false, platformAccount: 'acct_p' };

  it('verifies with the platform key, for the organizer\'s events', () => {
    expect(verifyConnection('sk_test_p', signConnection('sk_test_p', claim), event)).toEqual(claim);
  });

  it('is no connection when signed with another key, altered, typed by hand, or bound to another organizer or event', () => {
    const token = signConnection('sk_test_p', claim);
    expect(verifyConnection('sk_test_other', token, event)).toBeNull();
    const [prefix, , sig] = token.split('.');
    const forged = `${prefix}.${Buffer.from(JSON.stringify({ ...claim, accountId: 'acct_evil' })).toString('base64url')}.${sig}`;
    expect(verifyConnection('sk_test_p', forged, event)).toBeNull();
    expect(verifyConnection('sk_test_p', 'acct_1', event)).toBeNull();
    expect(verifyConnection('sk_test_p', token, { id: 'e1', organizerId: 'o2' })).toBeNull();
    const eventToken = signConnection('sk_test_p', { ...claim, level: levelOf('o1', 'e2') });
    expect(verifyConnection('sk_test_p', eventToken, event)).toBeNull();
    expect(verifyConnection('sk_test_p', eventToken, { id: 'e2', organizerId: 'o1' })).not.toBeNull();
    expect(verifyConnection(undefined, token, event)).toBeNull();
  });
});

describe('the charge per model', () => {
  const settings = (model: string, crossBorder = false): StripeSettings => stripeSettingsFrom({
    platformSecretKey: 'sk_test_p', platformPublishableKey: 'pk_test_p', connectChargeModel: model, connectFees: { EUR: rule({ percent: '10' }) },
    connectAccount: signConnection('sk_test_p', { level: 'o:o1', accountId: 'acct_c', accountType: 'standard', chargesEnabled: true, country: 'FR', crossBorder, platformAccount: 'acct_p' }),
  });
  const event = { id: 'e1', organizerId: 'o1' };

  it('direct: the fee as application_fee_amount, on the connected account', () => {
    const c = connectChargeFor(settings('direct'), event, money(2500, 'EUR'));
    expect(c && connectIntentExtras(c, { id: 'ord' })).toEqual({ params: { application_fee_amount: 250 }, stripeAccount: 'acct_c' });
  });

  it('destination: transfer_data and the fee; on_behalf_of only across borders', () => {
    const c = connectChargeFor(settings('destination'), event, money(2500, 'EUR'));
    expect(c && connectIntentExtras(c, { id: 'ord' })).toEqual({ params: { application_fee_amount: 250, transfer_data: { destination: 'acct_c' } } });
    const x = connectChargeFor(settings('destination', true), event, money(2500, 'EUR'));
    expect(x && connectIntentExtras(x, { id: 'ord' }).params.on_behalf_of).toBe('acct_c');
  });

  it('separate: a transfer group per order, no fee on the charge', () => {
    const c = connectChargeFor(settings('separate'), event, money(2500, 'EUR'));
    expect(c && connectIntentExtras(c, { id: 'ord' })).toEqual({ params: { transfer_group: 'kassa-order-ord' } });
  });

  it('the fee goes to Stripe in Stripe\'s units (ISK is two-decimal there)', () => {
    const s = stripeSettingsFrom({ ...settings('direct'), connectFees: { ISK: rule({ fixed: 50 }) } });
    const c = connectChargeFor(s, event, money(1000, 'ISK'));
    expect(c && connectIntentExtras(c, { id: 'ord' }).params.application_fee_amount).toBe(5000);
  });

  it('refund flags: destination reverses transfer and fee, direct returns the fee, separate sets none', () => {
    expect(connectRefundFlags({ model: 'destination' })).toEqual({ reverse_transfer: true, refund_application_fee: true });
    expect(connectRefundFlags({ model: 'direct' })).toEqual({ refund_application_fee: true });
    expect(connectRefundFlags({ model: 'separate' })).toEqual({});
  });

  it.each([
    ['destination', 'reverse_both', { reverse_transfer: true, refund_application_fee: true }],
    ['destination', 'keep_fee', {}],
    ['destination', 'reverse_transfer_only', { reverse_transfer: true }],
    ['direct', 'reverse_both', { refund_application_fee: true }],
    ['direct', 'keep_fee', {}],
    ['direct', 'reverse_transfer_only', {}],
    ['separate', 'reverse_both', {}],
    ['separate', 'keep_fee', {}],
  ] as const)('refund flags of a %s charge under %s', (model, policy, flags) => {
    expect(connectRefundFlags({ model }, policy)).toEqual(flags);
  });
});
