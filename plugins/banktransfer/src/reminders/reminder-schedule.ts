const DAY_MS = 86_400_000;

/** What decides when an open bank transfer payment is reminded. */
export interface ReminderInput {
  /** When the payment was made (the order placed with bank transfer). */
  readonly createdAt: Date;
  /** When core expires the unpaid order. */
  readonly orderExpires: Date;
  readonly paymentTermDays: number;
  /** Days before the deadline, e.g. [7, 3]. */
  readonly reminderDaysBefore: readonly number[];
}

/**
 * The buyer's deadline: the bank transfer term from the payment's creation, or the order's expiry
 * when that comes first (an order cannot be paid after it expired, whatever the term says).
 */
export function transferDeadline(input: Pick<ReminderInput, 'createdAt' | 'orderExpires' | 'paymentTermDays'>): Date {
  const term = input.createdAt.getTime() + input.paymentTermDays * DAY_MS;
  return new Date(Math.min(term, input.orderExpires.getTime()));
}

/**
 * The reminder step due now (its "days before" value), or null. Only the latest step whose time
 * has come counts: a worker that was down over two steps sends one reminder, not two, and an
 * earlier step is never sent after a later one. Steps before the payment existed (an order that
 * expires sooner than the term) and anything after the deadline are never due.
 */
export function dueReminderStep(input: ReminderInput, now: Date): number | null {
  const deadline = transferDeadline(input).getTime();
  if (now.getTime() >= deadline) return null;
  const steps = [...new Set(input.reminderDaysBefore)].filter((d) => Number.isInteger(d) && d >= 0).sort((a, b) => a - b);
  for (const days of steps) {
    const at = deadline - days * DAY_MS;
    if (at <= now.getTime()) return at >= input.createdAt.getTime() ? days : null;
  }
  return null;
}
