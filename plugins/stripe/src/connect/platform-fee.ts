import { calculateFee, money, type Money } from '@kassa/core';
import type { PlatformFeeRule } from './connect-settings';

/**
 * The platform's fee on one charge: core's fee arithmetic (percent of the amount plus the fixed
 * part, integer minor units, half-up) in the charge's own currency, raised to the rule's minimum,
 * lowered to its maximum, and never more than the amount itself (Stripe refuses an
 * application_fee_amount above the charge, and a fee equal to a small charge is the most a
 * minimum may take). No rule = no fee.
 */
export function platformFee(amount: Money, rule: PlatformFeeRule | null): Money {
  if (!rule) return money(0, amount.currency);
  let fee = calculateFee(amount, { absolute: rule.fixed, percent: rule.percent, reverse: false }).amount;
  fee = Math.max(fee, rule.min);
  if (rule.max !== null) fee = Math.min(fee, rule.max);
  return money(Math.min(fee, amount.amount), amount.currency);
}
