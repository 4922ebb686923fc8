import type { Money } from '../money/money';
import type { BasePaymentProvider } from './base-payment-provider';
import { calculateFee } from './payment-fee';
import { toCommonSettings } from './provider-settings';
import type { ProviderContext } from './provider-types';

/**
 * The fee a provider charges on `total` (which excludes the fee), from the framework settings of
 * the context (`_feeAbs`, `_feePercent`, `_feeReverseCalc`). The arithmetic is payment-fee.ts's
 * calculateFee; this only reads the settings the context factory resolved.
 */
export function calculateProviderFee(provider: BasePaymentProvider, ctx: ProviderContext, total: Money): Money {
  const common = ctx.common ?? toCommonSettings({}, provider.enabledByDefault);
  return calculateFee(total, { absolute: common.feeAbs, percent: common.feePercent, reverse: common.feeReverseCalc });
}
