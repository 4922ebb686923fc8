import { createBankTransferPlugin, dueReminderStep, transferDeadline } from '../../src';

const DAY = 86_400_000;
const created = new Date('2026-12-01T10:00:00Z');
const at = (days: number) => new Date(created.getTime() + days * DAY);
const input = { createdAt: created, orderExpires: at(30), paymentTermDays: 14, reminderDaysBefore: [7, 3, 1] };

describe('when a bank transfer reminder is due', () => {
  it('the deadline is the term, or the order\'s expiry when that comes first', () => {
    expect(transferDeadline(input)).toEqual(at(14));
    expect(transferDeadline({ ...input, orderExpires: at(5) })).toEqual(at(5));
  });

  it.each([
    [6.9, null], [7, 7], [10.9, 7], [11, 3], [12.5, 3], [13, 1], [13.99, 1], [14, null], [20, null],
  ])('at day %p the due step is %p (only the latest step whose time has come)', (day, step) => {
    expect(dueReminderStep(input, at(day as number))).toBe(step);
  });

  it('no step before the payment existed (an order expiring sooner than the term), none without steps', () => {
    expect(dueReminderStep({ ...input, orderExpires: at(2) }, at(0.5))).toBeNull();
    expect(dueReminderStep({ ...input, orderExpires: at(2) }, at(1.01))).toBe(1);
    expect(dueReminderStep({ ...input, reminderDaysBefore: [] }, at(13))).toBeNull();
  });

  it('the plugin schedules the reminder job hourly', () => {
    expect(createBankTransferPlugin().jobs?.find((j) => j.name === 'send-reminders')?.repeat).toEqual({ everyMs: 3_600_000 });
  });
});
