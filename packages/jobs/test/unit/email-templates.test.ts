import { EmailRenderer, emailLocale, emailLocales, emailTemplateNames } from '../../src/emails/email-templates';

const renderer = new EmailRenderer();
const model = {
  organizerName: 'Acme <Events>', eventName: 'Summer Fest', orderCode: 'ABC12', orderUrl: 'https://shop.test/o/ABC12/s3cret/',
  total: '€42.50', amount: '€10.00', expires: '15 January 2030', actionUrl: 'https://pay.test/3ds?a=1&b=2', reason: 'Card declined',
  comment: null, provider: 'Stripe', controlUrl: 'https://shop.test/control/orders/ABC12/', pending: true,
};

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
    const link = template === 'payment-action-required' ? model.actionUrl : template === 'external-refund-pending' ? model.controlUrl : model.orderUrl;
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
});
