import { defineJob, eventSettings, formatMoney, type OpenPaymentRecord, type PluginRuntime } from '@kassa/core';
import { formatIban } from '../iban';
import { orderReference } from '../reference';
import type { BankTransferSettings } from '../settings-schema';
import { localized } from '../transfer-details';
import { mailLanguage, transferMailText } from '../transfer-mail-text';
import { dueReminderStep, transferDeadline } from './reminder-schedule';

export const REMINDER_JOB = 'send-reminders';
const PROVIDER = 'banktransfer';
const NAMESPACE = `payment.${PROVIDER}`;
const PAGE = 200;
/** The longest term the settings allow (365 days), and a day to spare. */
const LOOKBACK_MS = 366 * 86_400_000;

type Runtime = Pick<PluginRuntime, 'payments' | 'settings' | 'clock' | 'log'>;

/** What one run did. */
export interface ReminderRun {
  /** Open bank transfer payments looked at. */
  readonly considered: number;
  /** Reminders written now (a step already reminded writes nothing). */
  readonly sent: number;
}

/**
 * Reminds buyers of open bank transfer payments before their deadline, per the event's
 * `reminderDaysBefore`, with the transfer details and what is still owed. At most one email per
 * payment and step: the email's key is the payment id and the step, and core writes a key once
 * (a retried job or a second worker writes nothing). The text is built first; core's write is
 * one statement that re-checks, at that moment, that the payment is open and the order unpaid.
 */
export async function sendReminders(rt: Runtime): Promise<ReminderRun> {
  const now = rt.clock.now();
  const settingsOf = new Map<string, Promise<Partial<BankTransferSettings>>>();
  let considered = 0;
  let sent = 0;
  let after: { createdAt: Date; id: string } | undefined;
  for (;;) {
    const page = await rt.payments.openPayments({ provider: PROVIDER, createdAfter: new Date(now.getTime() - LOOKBACK_MS), ...(after ? { after } : {}), limit: PAGE });
    for (const open of page) {
      considered++;
      const key = `${open.event.organizerId}:${open.event.id}`;
      if (!settingsOf.has(key)) settingsOf.set(key, rt.settings.resolve(eventSettings(open.event), NAMESPACE) as Promise<Partial<BankTransferSettings>>);
      try {
        const email = reminderEmail(open, await settingsOf.get(key)!, now, rt);
        if (email && await rt.payments.emailBuyer(open.payment.id, email)) sent++;
      } catch (err) {
        // One payment's problem (say, settings no longer readable) does not hold up the others' reminders.
        rt.log.error('bank transfer reminder failed', { paymentId: open.payment.id, error: err instanceof Error ? err.message : String(err) });
      }
    }
    if (page.length < PAGE) break;
    const last = page[page.length - 1]!;
    after = { createdAt: last.payment.createdAt, id: last.payment.id };
  }
  return { considered, sent };
}

/** The reminder due for this payment now, or null (none due, nothing owed, no account to show). */
export function reminderEmail(
  open: OpenPaymentRecord, s: Partial<BankTransferSettings>, now: Date, rt: Pick<Runtime, 'payments'>,
): { key: string; subject: string; text: string } | null {
  if (!s.accountHolder || !s.iban || open.pendingSum <= 0 || !open.order.email) return null;
  const input = { createdAt: open.payment.createdAt, orderExpires: open.expires, paymentTermDays: s.paymentTermDays ?? 14, reminderDaysBefore: s.reminderDaysBefore ?? [3] };
  const step = dueReminderStep(input, now);
  if (step === null) return null;
  const locale = open.locale || open.event.locale || 'en';
  const amountFormatted = formatMoney({ amount: open.pendingSum, currency: open.order.currency }, locale);
  const reference = orderReference(open.event.slug, open.order.code);
  const deadline = new Intl.DateTimeFormat(locale, { dateStyle: 'long', timeZone: 'UTC' }).format(transferDeadline(input));
  const details = transferMailText({
    reference, amountFormatted, accountHolder: s.accountHolder, iban: formatIban(s.iban), bic: s.bic || null, bankName: s.bankName || null,
    freeText: localized(s.freeText, locale),
  }, locale);
  const url = rt.payments.orderPageUrl(open);
  const de = mailLanguage(locale) === 'de';
  const text = de
    ? [`Hallo,`, '', `Ihre Bestellung ${open.order.code} für ${open.event.name} ist noch nicht bezahlt. Bitte überweisen Sie ${amountFormatted} bis zum ${deadline}.`, '', details, '', `Ihre Bestellung: ${url}`]
    : [`Hello,`, '', `your order ${open.order.code} for ${open.event.name} is not paid yet. Please transfer ${amountFormatted} by ${deadline}.`, '', details, '', `Your order: ${url}`];
  return {
    key: `reminder:${open.payment.id}:${step}`,
    subject: de ? `Erinnerung: Überweisung für Bestellung ${open.order.code}` : `Reminder: bank transfer for order ${open.order.code}`,
    text: text.join('\n'),
  };
}

/** Hourly; every run reminds what is due (a run that finds nothing due writes nothing). */
export const reminderJob = defineJob({
  name: REMINDER_JOB,
  payload: (): Record<string, never> => ({}),
  repeat: { everyMs: 3_600_000 },
  attempts: 3,
  processor: async (_payload, rt: PluginRuntime) => {
    const run = await sendReminders(rt);
    if (run.sent > 0) rt.log.info('bank transfer reminders written', { ...run });
  },
});
