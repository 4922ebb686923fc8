/**
 * §10 test cards: what each number does. PaymentMethods remember their number, and every
 * behaviour keys off it, so `pm_card_*` ids and typed numbers behave identically.
 */
export type CardBehaviour =
  | { kind: 'succeed' }
  | { kind: 'decline'; code: string; decline_code?: string; message: string }
  | { kind: 'decline_on_charge' } // attaches fine, declines when charged (0341)
  /** 3DS needed on-session; off-session: 'always' fails, 'unless_setup' succeeds once set up, 'never' succeeds. */
  | { kind: 'three_ds'; offSession: 'always' | 'unless_setup' | 'never'; thenDecline?: { code: string; decline_code?: string; message: string } };

export interface TestCard {
  number: string;
  brand: string;
  funding: string;
  country: string;
  behaviour: CardBehaviour;
  /** Extra effects after a successful charge. */
  dispute?: { kind: 'chargeback' | 'inquiry'; reason: string };
  refund?: 'fail_later' | 'pending_then_succeed';
}

const DECLINED = 'Your card was declined.';
const ok: CardBehaviour = { kind: 'succeed' };
const decline = (decline_code: string, message = DECLINED): CardBehaviour => ({ kind: 'decline', code: 'card_declined', decline_code, message });

const card = (number: string, brand: string, behaviour: CardBehaviour = ok, extra: Partial<TestCard> = {}): TestCard => ({
  number,
  brand,
  funding: 'credit',
  country: 'US',
  behaviour,
  ...extra,
});

export const TEST_CARDS: TestCard[] = [
  card('4242424242424242', 'visa'),
  card('4000056655665556', 'visa', ok, { funding: 'debit' }),
  card('5555555555554444', 'mastercard'),
  card('2223003122003222', 'mastercard'),
  card('5200828282828210', 'mastercard', ok, { funding: 'debit' }),
  card('5105105105105100', 'mastercard', ok, { funding: 'prepaid' }),
  card('378282246310005', 'amex'),
  card('6011111111111117', 'discover'),
  card('3056930009020004', 'diners'),
  card('3566002020360505', 'jcb', ok, { country: 'JP' }),
  card('6200000000000005', 'unionpay', ok, { country: 'CN' }),
  card('4000000000000077', 'visa'),
  card('4000008260000000', 'visa', ok, { country: 'GB' }),
  card('4000002760000016', 'visa', ok, { country: 'DE' }),
  card('4000002500000003', 'visa', ok, { country: 'FR' }),
  card('4000003920000003', 'visa', ok, { country: 'JP' }),
  card('4000000000000002', 'visa', decline('generic_decline')),
  card('4000000000009995', 'visa', decline('insufficient_funds', 'Your card has insufficient funds.')),
  card('4000000000009987', 'visa', decline('lost_card')),
  card('4000000000009979', 'visa', decline('stolen_card')),
  card('4000000000000069', 'visa', { kind: 'decline', code: 'expired_card', decline_code: 'expired_card', message: 'Your card has expired.' }),
  card('4000000000000127', 'visa', { kind: 'decline', code: 'incorrect_cvc', decline_code: 'incorrect_cvc', message: "Your card's security code is incorrect." }),
  card('4000000000000119', 'visa', { kind: 'decline', code: 'processing_error', decline_code: 'processing_error', message: 'An error occurred while processing your card. Try again in a little bit.' }),
  card('4000000000006975', 'visa', decline('card_velocity_exceeded')),
  card('4000000000000341', 'visa', { kind: 'decline_on_charge' }),
  card('4100000000000019', 'visa', decline('fraudulent')),
  card('4000000000004954', 'visa', decline('fraudulent')),
  card('4000000000009235', 'visa'),
  card('4000002500003155', 'visa', { kind: 'three_ds', offSession: 'unless_setup' }, { country: 'FR' }),
  card('4000002760003184', 'visa', { kind: 'three_ds', offSession: 'always' }, { country: 'DE' }),
  card('4000003800000446', 'visa', { kind: 'three_ds', offSession: 'never' }),
  card('4000008260003178', 'visa', { kind: 'three_ds', offSession: 'always', thenDecline: { code: 'card_declined', decline_code: 'insufficient_funds', message: 'Your card has insufficient funds.' } }, { country: 'GB' }),
  card('4000000000003220', 'visa', { kind: 'three_ds', offSession: 'always' }),
  card('4000008400001629', 'visa', { kind: 'three_ds', offSession: 'always', thenDecline: { code: 'card_declined', decline_code: 'generic_decline', message: DECLINED } }),
  card('4000000000003055', 'visa'),
  card('4000000000000259', 'visa', ok, { dispute: { kind: 'chargeback', reason: 'fraudulent' } }),
  card('4000000000002685', 'visa', ok, { dispute: { kind: 'chargeback', reason: 'product_not_received' } }),
  card('4000000000001976', 'visa', ok, { dispute: { kind: 'inquiry', reason: 'fraudulent' } }),
  card('4000000000005126', 'visa', ok, { refund: 'fail_later' }),
  card('4000000000007726', 'visa', ok, { refund: 'pending_then_succeed' }),
];

const BY_NUMBER = new Map(TEST_CARDS.map((c) => [c.number, c]));

/** §10 pm_card_* ids (and tok_* tokens) → card number. */
export const PM_ALIASES: Record<string, string> = {
  visa: '4242424242424242', visa_debit: '4000056655665556', mastercard: '5555555555554444', mastercard_debit: '5200828282828210',
  mastercard_prepaid: '5105105105105100', amex: '378282246310005', discover: '6011111111111117', diners: '3056930009020004',
  jcb: '3566002020360505', unionpay: '6200000000000005', bypassPending: '4000000000000077', gb: '4000008260000000',
  de: '4000002760000016', fr: '4000002500000003', jp: '4000003920000003',
  visa_chargeDeclined: '4000000000000002', chargeDeclined: '4000000000000002',
  visa_chargeDeclinedInsufficientFunds: '4000000000009995', chargeDeclinedInsufficientFunds: '4000000000009995',
  visa_chargeDeclinedLostCard: '4000000000009987', visa_chargeDeclinedStolenCard: '4000000000009979',
  chargeDeclinedExpiredCard: '4000000000000069', chargeDeclinedIncorrectCvc: '4000000000000127',
  chargeDeclinedProcessingError: '4000000000000119', visa_chargeDeclinedVelocityLimitExceeded: '4000000000006975',
  chargeCustomerFail: '4000000000000341', chargeDeclinedFraudulent: '4100000000000019', radarBlock: '4100000000000019',
  riskLevelElevated: '4000000000009235', riskLevelHighest: '4000000000004954',
  authenticationRequiredOnSetup: '4000002500003155', authenticationRequired: '4000002760003184',
  authenticationRequiredSetupForOffSession: '4000003800000446',
  authenticationRequiredChargeDeclinedInsufficientFunds: '4000008260003178', threeDSecure2Required: '4000000000003220',
  threeDSecureRequiredChargeDeclined: '4000008400001629', threeDSecureOptional: '4000000000003055',
  amex_threeDSecureNotSupported: '378282246310005', createDispute: '4000000000000259',
  createDisputeProductNotReceived: '4000000000002685', createDisputeInquiry: '4000000000001976', refundFail: '4000000000005126',
};

/** Resolves `pm_card_visa` / `tok_visa` to a card number, or undefined if it is not a magic id. */
export function magicPaymentMethodNumber(id: string): string | undefined {
  const m = /^(?:pm_card_|tok_)(.+)$/.exec(id);
  return m ? PM_ALIASES[m[1] as string] : undefined;
}

export function luhnValid(number: string): boolean {
  let sum = 0;
  for (let i = 0; i < number.length; i++) {
    let d = Number(number[number.length - 1 - i]);
    if (i % 2 === 1) {
      d *= 2;
      if (d > 9) d -= 9;
    }
    sum += d;
  }
  return sum % 10 === 0;
}

function brandOf(number: string): string {
  if (/^4/.test(number)) return 'visa';
  if (/^(5[1-5]|2[2-7])/.test(number)) return 'mastercard';
  if (/^3[47]/.test(number)) return 'amex';
  if (/^6(011|5)/.test(number)) return 'discover';
  if (/^3(0|6|8)/.test(number)) return 'diners';
  if (/^35/.test(number)) return 'jcb';
  if (/^62/.test(number)) return 'unionpay';
  return 'unknown';
}

/** Any Luhn-valid number works (as in test mode); unknown ones simply succeed. */
export function cardFor(number: string): TestCard {
  return BY_NUMBER.get(number) ?? card(number, brandOf(number));
}

/** §10.6 SEPA Direct Debit test IBANs: processing, then the outcome after the settlement delay. */
export const SEPA_TEST_IBANS: Record<string, { outcome: 'succeeded' | 'failed'; dispute?: boolean }> = {
  AT611904300234573201: { outcome: 'succeeded' },
  AT861904300235473202: { outcome: 'failed' },
  AT591904300235473203: { outcome: 'succeeded', dispute: true },
};

export const SEPA_ALIASES: Record<string, string> = {
  pm_sepaDebit_success_at: 'AT611904300234573201',
  pm_sepaDebit_fail_at: 'AT861904300235473202',
  pm_sepaDebit_dispute_at: 'AT591904300235473203',
};
