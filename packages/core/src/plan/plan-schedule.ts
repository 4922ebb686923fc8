import { KassaError } from '../errors';
import { allocate } from '../money/allocate';
import { add, money, type Money } from '../money/money';
import type { PlanSettingsRow } from '../persistence/payment-plan.store';

/** One instalment of a computed schedule: the first is the deposit, paid in the checkout (unless the plan has none). */
export interface ScheduledInstalment {
  readonly seq: number;
  /** What the instalment charges: its share of the order plus its own payment fee. */
  readonly amount: Money;
  /** The provider's payment fee on this instalment's share (0 without fee rules). */
  readonly fee: Money;
  readonly dueAt: Date;
}

/** A provider's payment fee on an amount that excludes it (core's calculateProviderFee, bound to a provider and context). */
export type InstalmentFee = (share: Money) => Money;

const dayMs = 86_400_000;

/**
 * The instalments of a plan for `base` (the order's total without payment fees): N equal parts by
 * core's allocation rules (they add up to exactly the base; the first parts take the leftover
 * units), then each part's payment fee by the provider's rules on that part alone (pretix computes
 * a fee per payment), so an instalment charges its share plus its fee. The first is due now, the
 * others every `intervalDays` or on the fixed dates (at 00:00 UTC).
 */
export function planSchedule(base: Money, s: PlanSettingsRow, now: Date, feeOf?: InstalmentFee): ScheduledInstalment[] {
  // Without a deposit nothing is due now: the first instalment comes after the interval (or on the first date).
  const dates: Date[] = s.noDeposit ? [] : [now];
  if (s.fixedDates) {
    for (const d of s.fixedDates) dates.push(new Date(`${d}T00:00:00Z`));
  } else {
    for (let k = 1; dates.length < s.instalments; k++) dates.push(new Date(now.getTime() + k * (s.intervalDays ?? 30) * dayMs));
  }
  const parts = allocate(base, dates.map(() => 1));
  return parts.map((share, i) => {
    const fee = feeOf ? feeOf(share) : money(0, share.currency);
    return { seq: i + 1, amount: add(share, fee), fee, dueAt: dates[i]! };
  });
}

/** Why this order cannot have a plan (null: it can). */
export function planRefusal(total: Money, s: PlanSettingsRow, now: Date): string | null {
  if (!s.enabled) return 'the event offers no payment plans';
  if (total.amount < s.minTotal) return `plans start at a total of ${s.minTotal} minor units`;
  const count = s.fixedDates ? s.fixedDates.length + (s.noDeposit ? 0 : 1) : s.instalments;
  if (total.amount < count) return 'the total is too small to split';
  if (s.fixedDates?.some((d) => new Date(`${d}T00:00:00Z`).getTime() <= now.getTime())) return 'a fixed instalment date has passed';
  return null;
}

const isoDate = /^\d{4}-\d{2}-\d{2}$/;

/** Validates the organizer's plan settings; PLAN_SETTINGS_INVALID names the field. */
export function validatePlanSettings(input: Record<string, unknown>): PlanSettingsRow {
  const bad = (field: string, reason: string): never => { throw new KassaError('PLAN_SETTINGS_INVALID', { field, reason }); };
  const int = (field: string, min: number, max: number, fallback: number | null): number | null => {
    const v = input[field];
    if (v === undefined || v === null || v === '') return fallback;
    const n = typeof v === 'string' && /^\d+$/.test(v.trim()) ? Number(v.trim()) : v;
    if (typeof n !== 'number' || !Number.isSafeInteger(n) || n < min || n > max) return bad(field, `must be a whole number from ${min} to ${max}`);
    return n;
  };
  const bool = (field: string): boolean => {
    const v = input[field];
    if (v === undefined || v === null || v === '' || v === false || v === 'false' || v === 'off') return false;
    if (v === true || v === 'true' || v === 'on' || v === '1') return true;
    return bad(field, 'must be true or false');
  };
  let fixedDates: string[] | null = null;
  const raw = input.fixedDates;
  if (raw !== undefined && raw !== null && raw !== '' && !(Array.isArray(raw) && raw.length === 0)) {
    const list = Array.isArray(raw) ? raw : typeof raw === 'string' ? raw.split(/[\s,]+/).filter(Boolean) : bad('fixedDates', 'must be a list of dates');
    if (list.some((d) => typeof d !== 'string' || !isoDate.test(d) || Number.isNaN(new Date(`${d}T00:00:00Z`).getTime()))) bad('fixedDates', 'must be dates written YYYY-MM-DD');
    const dates = list as string[];
    if (dates.some((d, i) => i > 0 && d <= dates[i - 1]!)) bad('fixedDates', 'must be in ascending order without repeats');
    if (dates.length < 1 || dates.length > 23) bad('fixedDates', 'must name 1 to 23 dates (the deposit is the first instalment)');
    fixedDates = dates;
  }
  const instalments = int('instalments', 2, 24, 3)!;
  const intervalDays = fixedDates ? null : int('intervalDays', 1, 366, 30);
  const noDeposit = bool('noDeposit');
  if (noDeposit && fixedDates && fixedDates.length < 2) bad('fixedDates', 'must name at least 2 dates when there is no deposit');
  return {
    enabled: bool('enabled'), instalments: fixedDates ? fixedDates.length + (noDeposit ? 0 : 1) : instalments, intervalDays, fixedDates,
    minTotal: int('minTotal', 0, 9_999_999_999_999, 0)!, graceDays: int('graceDays', 0, 90, 7)!, validIfPending: bool('validIfPending'), noDeposit,
  };
}
