import { money } from '@kassa/core';
import { buildTransferDetails, epcQrPayload, epcQrProblem, localized, orderReference, parseBankTransferSettings } from '../../src';

const settings = parseBankTransferSettings({
  accountHolder: 'Demo Events e.V.', iban: 'DE89 3704 0044 0532 0130 00', bic: 'COBADEFFXXX', bankName: 'Commerzbank',
  freeText: { en: 'Please pay within 14 days.', de: 'Bitte innerhalb von 14 Tagen zahlen.' },
});

describe('order reference', () => {
  it('is the event slug in upper case, a dash and the order code, as pretix', () => {
    expect(orderReference('demo', 'ABC12')).toBe('DEMO-ABC12');
    expect(orderReference('winter-fest', 'q7zrx')).toBe('WINTER-FEST-Q7ZRX');
  });
});

describe('EPC069-12 QR payload', () => {
  it('has the twelve elements in order, trailing empty ones left out', () => {
    const payload = epcQrPayload({ beneficiaryName: 'Demo Events e.V.', iban: 'DE89 3704 0044 0532 0130 00', bic: 'cobadeffxxx', amount: money(2350, 'EUR'), remittance: 'DEMO-Q7ZRX' });
    expect(payload.split('\n')).toEqual([
      'BCD', // service tag
      '002', // version
      '1', // character set: UTF-8
      'SCT', // identification: SEPA credit transfer
      'COBADEFFXXX', // BIC
      'Demo Events e.V.', // beneficiary name
      'DE89370400440532013000', // IBAN, electronic form
      'EUR23.50', // amount: EUR + decimal with a point
      '', // purpose
      '', // structured remittance (RF reference) stays empty …
      'DEMO-Q7ZRX', // … because the reference goes into the unstructured remittance
    ]);
    expect(payload.endsWith('\n')).toBe(false);
  });

  it('leaves the BIC empty when not given (version 002) and keeps the note as the last element', () => {
    const lines = epcQrPayload({ beneficiaryName: 'A', iban: 'DE89370400440532013000', amount: money(1, 'EUR'), remittance: 'X', note: 'Thanks' }).split('\n');
    expect(lines[4]).toBe('');
    expect(lines[7]).toBe('EUR0.01');
    expect(lines).toHaveLength(12);
    expect(lines[11]).toBe('Thanks');
  });

  it('cuts the name to 70 characters and line breaks to spaces, staying within 331 bytes', () => {
    const payload = epcQrPayload({ beneficiaryName: 'Ä'.repeat(100), iban: 'DE89370400440532013000', amount: money(100, 'EUR'), remittance: 'line\none' });
    const lines = payload.split('\n');
    expect(Array.from(lines[5]!)).toHaveLength(70);
    expect(lines[10]).toBe('line one');
    expect(Buffer.byteLength(payload)).toBeLessThanOrEqual(331);
  });

  it('is refused for other currencies, amounts out of range and non-SEPA accounts', () => {
    expect(epcQrProblem({ iban: 'DE89370400440532013000', amount: money(100, 'CHF') })).toMatch(/euro amounts only/);
    expect(epcQrProblem({ iban: 'DE89370400440532013000', amount: money(0, 'EUR') })).toMatch(/between 0.01/);
    expect(epcQrProblem({ iban: 'DE89370400440532013000', amount: money(100_000_000_000, 'EUR') })).toMatch(/between 0.01/);
    expect(epcQrProblem({ iban: 'BR1800360305000010009795493C1', amount: money(100, 'EUR') })).toMatch(/SEPA/);
    expect(() => epcQrPayload({ beneficiaryName: 'A', iban: 'DE89370400440532013000', amount: money(100, 'USD'), remittance: 'X' })).toThrow(/No transfer QR code/);
  });
});

describe('transfer details view model', () => {
  it('shows account, reference, the amount still owed and a QR code', async () => {
    const details = await buildTransferDetails({ settings, orderCode: 'Q7ZRX', eventSlug: 'demo', amountDue: money(2350, 'EUR'), locale: 'de-AT' });
    expect(details).toMatchObject({
      accountHolder: 'Demo Events e.V.', iban: 'DE89 3704 0044 0532 0130 00', bic: 'COBADEFFXXX', bankName: 'Commerzbank',
      reference: 'DEMO-Q7ZRX', amount: { amount: 2350, currency: 'EUR' }, freeText: 'Bitte innerhalb von 14 Tagen zahlen.', qrUnavailable: null,
    });
    expect(details.amountFormatted).toMatch(/23,50/);
    expect(details.qr!.payload).toContain('\nEUR23.50\n');
    expect(details.qr!.svg).toMatch(/^<svg[^>]*viewBox="0 0 (\d+) \1"/);
  });

  it('has no QR code when turned off, and says why when the currency does not allow one', async () => {
    const off = await buildTransferDetails({ settings: { ...settings, showQrCode: false }, orderCode: 'A', eventSlug: 'demo', amountDue: money(100, 'EUR'), locale: 'en' });
    expect(off.qr).toBeNull();
    expect(off.qrUnavailable).toBeNull();
    const chf = await buildTransferDetails({ settings, orderCode: 'A', eventSlug: 'demo', amountDue: money(100, 'CHF'), locale: 'en' });
    expect(chf.qr).toBeNull();
    expect(chf.qrUnavailable).toMatch(/CHF/);
  });

  it('picks the free text by exact language, base language, then English', () => {
    expect(localized({ en: 'E', de: 'D', 'de-CH': 'CH' }, 'de-CH')).toBe('CH');
    expect(localized({ en: 'E', de: 'D' }, 'de-AT')).toBe('D');
    expect(localized({ en: 'E', 'de-CH': 'CH' }, 'de')).toBe('CH');
    expect(localized({ en: 'E', de: 'D' }, 'fr')).toBe('E');
    expect(localized({}, 'fr')).toBeNull();
  });
});
