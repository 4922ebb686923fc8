import { join } from 'node:path';
import { Eta } from 'eta';

/** Every email Kassa writes. Each has `<locale>/<name>.text.eta` and `.html.eta` under templates/. */
export const emailTemplateNames = [
  'order-placed', 'payment-failed', 'payment-action-required', 'order-paid', 'refund-done',
  'external-refund-pending', 'payment-reminder', 'order-canceled',
  // Organizer notifications (to the organizer's admins, in the event's language).
  'order-overpaid-notice', 'refund-requested-notice', 'payment-closed-order-notice',
  'order-changed',
] as const;
export type EmailTemplateName = (typeof emailTemplateNames)[number];

export const emailLocales = ['en', 'de'] as const;
export type EmailLocale = (typeof emailLocales)[number];

/** Values every template may use; each template adds its own (amount, actionUrl…). */
export interface EmailViewModel {
  organizerName: string;
  eventName: string;
  orderCode: string;
  orderUrl: string;
  [key: string]: string | boolean | null | undefined;
}

export interface RenderedEmail {
  locale: EmailLocale;
  subject: string;
  text: string;
  html: string;
}

// Subjects live here rather than in a third file per template: one line each, with the same
// placeholders the bodies use.
const subjects: Record<EmailLocale, Record<EmailTemplateName, string>> = {
  en: {
    'order-placed': 'Your order {orderCode}: {eventName}',
    'payment-failed': 'Payment for order {orderCode} failed',
    'payment-action-required': 'Please complete your payment for order {orderCode}',
    'order-paid': 'Payment received: order {orderCode}',
    'refund-done': 'Refund for order {orderCode}',
    'external-refund-pending': 'Refund on order {orderCode} needs your decision',
    'payment-reminder': 'Reminder: order {orderCode} is not paid yet',
    'order-canceled': 'Order {orderCode} canceled: {eventName}',
    'order-overpaid-notice': 'Order {orderCode} has been overpaid',
    'refund-requested-notice': 'Order {orderCode}: a refund needs your action',
    'payment-closed-order-notice': 'Payment received for closed order {orderCode}',
    'order-changed': 'Your order {orderCode} was changed',
  },
  de: {
    'order-placed': 'Ihre Bestellung {orderCode}: {eventName}',
    'payment-failed': 'Zahlung für Bestellung {orderCode} fehlgeschlagen',
    'payment-action-required': 'Bitte schließen Sie die Zahlung für Bestellung {orderCode} ab',
    'order-paid': 'Zahlung erhalten: Bestellung {orderCode}',
    'refund-done': 'Erstattung zu Bestellung {orderCode}',
    'external-refund-pending': 'Erstattung zu Bestellung {orderCode} wartet auf Ihre Entscheidung',
    'payment-reminder': 'Erinnerung: Bestellung {orderCode} ist noch nicht bezahlt',
    'order-canceled': 'Bestellung {orderCode} storniert: {eventName}',
    'order-overpaid-notice': 'Bestellung {orderCode} wurde überbezahlt',
    'refund-requested-notice': 'Bestellung {orderCode}: eine Erstattung braucht Sie',
    'payment-closed-order-notice': 'Zahlung für geschlossene Bestellung {orderCode} eingegangen',
    'order-changed': 'Ihre Bestellung {orderCode} wurde geändert',
  },
};

const footers: Record<EmailLocale, string> = {
  en: 'This email was sent by Kassa on behalf of the organizer.',
  de: 'Diese E-Mail wurde von Kassa im Auftrag des Veranstalters versandt.',
};

/** Picks the template locale for an order's locale tag ("de-AT" → de); English otherwise. */
export function emailLocale(tag: string | null | undefined): EmailLocale {
  const base = (tag ?? 'en').toLowerCase().split(/[-_]/)[0];
  return (emailLocales as readonly string[]).includes(base ?? '') ? (base as EmailLocale) : 'en';
}

/** Renders the Eta templates. HTML escapes every value; plain text does not need to. */
export class EmailRenderer {
  private readonly html: Eta;
  private readonly text: Eta;

  constructor(templatesDir = join(__dirname, 'templates')) {
    this.html = new Eta({ views: templatesDir, autoEscape: true, autoTrim: false, cache: true });
    this.text = new Eta({ views: templatesDir, autoEscape: false, autoTrim: false, cache: true });
  }

  render(template: EmailTemplateName, localeTag: string | null | undefined, model: EmailViewModel): RenderedEmail {
    const locale = emailLocale(localeTag);
    const subject = subjects[locale][template].replace(/\{(\w+)\}/g, (_, key: string) => String(model[key] ?? ''));
    const data = { ...model, locale, subject, footer: footers[locale] };
    return {
      locale,
      subject,
      text: this.text.render(`./${locale}/${template}.text.eta`, data).trim() + '\n',
      html: this.html.render(`./${locale}/${template}.html.eta`, data),
    };
  }
}
