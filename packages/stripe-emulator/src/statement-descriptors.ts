import { invalidRequest } from './errors';
import type { Params } from './params';
import type { AccountState } from './store';

/** Stripe's character rules for any statement descriptor part (`<`, `>`, `\`, `'`, `"` and `*` are refused). */
const FORBIDDEN = /[<>\\'"*]/;
const MAX = 22;

/** The account's card prefix (`settings.card_payments.statement_descriptor_prefix`), which a suffix is appended to. */
export function statementDescriptorPrefix(account: AccountState): string | null {
  const cardPayments = account.account.settings.card_payments as { statement_descriptor_prefix?: string | null } | undefined;
  return cardPayments?.statement_descriptor_prefix ?? null;
}

function checkPart(value: string, param: string): void {
  if (value.length > MAX) throw invalidRequest(`The statement descriptor must be at most ${MAX} characters. ${value} is ${value.length} characters long.`, { param });
  if (FORBIDDEN.test(value)) throw invalidRequest(`The statement descriptor ${value} contains characters Stripe does not allow (<, >, \\, ', " or *).`, { param });
  if (!/[A-Za-z]/.test(value)) throw invalidRequest(`The statement descriptor ${value} must contain at least one letter.`, { param });
}

/**
 * Checks `statement_descriptor` and `statement_descriptor_suffix` of a PaymentIntent create or
 * update as Stripe does: each part at most 22 characters, no forbidden characters, a letter in
 * each; the full card descriptor `<prefix>* <suffix>` at most 22 characters; and no full
 * `statement_descriptor` on an intent that can be paid by card (Stripe refuses it there and asks
 * for the suffix instead).
 */
export function checkStatementDescriptors(p: Params, account: AccountState, paymentMethodTypes: readonly string[]): { descriptor?: string; suffix?: string } {
  const descriptor = p.str('statement_descriptor');
  const suffix = p.str('statement_descriptor_suffix');
  if (descriptor !== undefined) {
    checkPart(descriptor, 'statement_descriptor');
    if (descriptor.length < 5) throw invalidRequest(`The statement descriptor must be at least 5 characters. ${descriptor} is ${descriptor.length} characters long.`, { param: 'statement_descriptor' });
    if (paymentMethodTypes.includes('card')) {
      throw invalidRequest(
        'The `statement_descriptor` parameter is not supported for the `card` payment method type. To override the statement descriptor on a card transaction, use `statement_descriptor_suffix`.',
        { param: 'statement_descriptor' },
      );
    }
  }
  if (suffix !== undefined) {
    checkPart(suffix, 'statement_descriptor_suffix');
    const prefix = statementDescriptorPrefix(account);
    const full = prefix ? `${prefix}* ${suffix}` : suffix;
    if (full.length > MAX) {
      throw invalidRequest(
        `The combined statement descriptor (your account's prefix '${prefix}', '* ' and the suffix) must be at most ${MAX} characters. '${full}' is ${full.length} characters long.`,
        { param: 'statement_descriptor_suffix' },
      );
    }
  }
  return { descriptor, suffix };
}
