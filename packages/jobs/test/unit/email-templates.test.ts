import { EmailRenderer, emailLocale, emailLocales, emailTemplateNames } from '../../src/emails/email-templates';

const renderer = new EmailRenderer();
const model = {
  organizerName: 'Acme <Events>', eventName: 'Summer Fest', orderCode: 'ABC12', orderUrl: 'https://shop.test/o/ABC12/s3cret/',
  total: '€42.50', amount: '€10.00', expires: '15 January 2030', actionUrl: 'https://pay.test/3ds?a=1&b=2', reason: 'Card declined',
  comment: null, provider: 'Stripe', controlUrl: 'https://shop.test/control/orders/ABC12/', pending: true,
  cancellationFee: '€5.00', refundAmount: '€37.50', autoRefund: true, canceled: true,
};
const organizerTemplates: readonly string[] = ['external-refund-pending', 'order-overpaid-notice', 'refund-requested-notice', 'payment-closed-order-notice'];

describe('email templates', () => {
  it.each(emailLocales.flatMap((l) => emailTemplateNames.map((t) => [l, t] as const)))('%s/%s renders a subject, plain text and HTML', (locale, template) => {
    const r = renderer.render(template, locale, model);
    expect(r.locale).toBe(locale);
    expect(r.subject).toContain('ABC12');
    expect(r.text).not.toMatch(/undefined|\[object/);
    expect(r.html).toMatch(/^<!doctype html>/);
    expect(r.html).toContain(`<html lang="${locale}">`);
    // Values are escaped in HTML, left alone in plain text.
    expect(r.html).toContain('Acme &lt;Events&gt;');
    expect(r.html).not.toContain('Acme <Events>');
    const link = template === 'payment-action-required' ? model.actionUrl : organizerTemplates.includes(template) ? model.controlUrl : model.orderUrl;
    expect(r.text).toContain(link);
    expect(r.html).toContain(`href="${link.replace(/&/g, '&amp;')}"`);
  });

  it('writes German for German orders and English otherwise', () => {
    expect(renderer.render('order-paid', 'de', model).subject).toBe('Zahlung erhalten: Bestellung ABC12');
    expect(renderer.render('order-paid', 'fr', model).subject).toBe('Payment received: order ABC12');
    expect(emailLocale('de-AT')).toBe('de');
    expect(emailLocale('DE_ch')).toBe('de');
    expect(emailLocale(null)).toBe('en');
  });

  it('names the payment deadline only while the order is pending', () => {
    expect(renderer.render('order-placed', 'en', model).text).toContain('Please pay by 15 January 2030');
    expect(renderer.render('order-placed', 'en', { ...model, pending: false }).text).not.toContain('Please pay');
  });

  it('names the cancellation fee and the refund in the canceled email, and who refunds it', () => {
    const auto = renderer.render('order-canceled', 'en', model).text;
    expect(auto).toContain('A cancellation fee of €5.00 is kept.');
    expect(auto).toContain('We are refunding €37.50 to the payment method you paid with.');
    const manual = renderer.render('order-canceled', 'de', { ...model, autoRefund: false, cancellationFee: null }).text;
    expect(manual).toContain('Sie erhalten €37.50 zurück; der Veranstalter erstattet den Betrag');
    expect(manual).not.toContain('Stornogebühr');
    expect(renderer.render('order-canceled', 'en', { ...model, feeDue: true }).text).toContain('A cancellation fee of €5.00 is due; you can pay it on your order page');
    const none = renderer.render('order-canceled', 'en', { ...model, refundAmount: null, cancellationFee: null }).text;
    expect(none).not.toMatch(/refund|fee/i);
  });

  it('says whether the order a payment arrived for is canceled or expired, and why it stays so', () => {
    const canceled = renderer.render('payment-closed-order-notice', 'en', { ...model, reason: null }).text;
    expect(canceled).toContain('was received for order ABC12 (Summer Fest), which is canceled.');
    expect(canceled).not.toContain('mark the order as paid');
    const expired = renderer.render('payment-closed-order-notice', 'de', { ...model, canceled: false, reason: 'Kontingent erschöpft' }).text;
    expect(expired).toContain('die abgelaufen ist');
    expect(expired).toContain('Die Bestellung konnte nicht als bezahlt markiert werden: Kontingent erschöpft');
    expect(expired).toContain('trotzdem als bezahlt markieren');
  });
});
