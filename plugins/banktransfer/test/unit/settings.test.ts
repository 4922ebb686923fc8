import { assertBic, assertIban, formatIban, ibanProblem, isBankTransferError, parseBankTransferSettings, settingsProblems } from '../../src';

describe('IBAN and BIC', () => {
  it('accepts valid IBANs in any spacing and case, and stores them in electronic form', () => {
    expect(ibanProblem('DE89 3704 0044 0532 0130 00')).toBeNull();
    expect(assertIban('de89 3704 0044 0532 0130 00', 'iban')).toBe('DE89370400440532013000');
    expect(formatIban('DE89370400440532013000')).toBe('DE89 3704 0044 0532 0130 00');
    expect(ibanProblem('NL91ABNA0417164300')).toBeNull();
  });

  it('refuses a wrong check digit, a wrong length and an unknown country, naming the field', () => {
    expect(ibanProblem('DE88370400440532013000')).toMatch(/check digits/);
    expect(ibanProblem('DE8937040044053201300')).toMatch(/length/);
    expect(ibanProblem('XX89370400440532013000')).toMatch(/country/);
    try {
      assertIban('DE88370400440532013000', 'debtorIban');
      throw new Error('not refused');
    } catch (err) {
      expect(isBankTransferError(err, 'BANKTRANSFER_IBAN_INVALID')).toBe(true);
      expect((err as Error).message).toMatch(/^debtorIban: "DE88370400440532013000" is not a valid IBAN/);
    }
  });

  it('checks BICs', () => {
    expect(assertBic('deut de ff', 'bic')).toBe('DEUTDEFF');
    expect(() => assertBic('DEUT1EFF', 'bic')).toThrow(/bic: "DEUT1EFF" is not a valid BIC/);
  });
});

describe('settings schema', () => {
  const valid = { accountHolder: 'Demo Events e.V.', iban: 'DE89 3704 0044 0532 0130 00', bic: 'COBADEFFXXX', bankName: 'Commerzbank' };

  it('fills defaults and normalises IBAN and BIC', () => {
    expect(parseBankTransferSettings(valid)).toEqual({
      accountHolder: 'Demo Events e.V.', iban: 'DE89370400440532013000', bic: 'COBADEFFXXX', bankName: 'Commerzbank',
      freeText: {}, showQrCode: true, paymentTermDays: 14, reminderDaysBefore: [3],
    });
  });

  it('names the field for schema errors', () => {
    expect(() => parseBankTransferSettings({ iban: valid.iban })).toThrow(/accountHolder is required/);
    expect(() => parseBankTransferSettings({ ...valid, paymentTermDays: 0 })).toThrow(/paymentTermDays must be >= 1/);
    expect(() => parseBankTransferSettings({ ...valid, freeText: { 'not a language': 'x' } })).toThrow(/freeText\.not a language is not a known setting/);
    expect(() => parseBankTransferSettings({ ...valid, webhook: 'x' })).toThrow(/webhook is not a known setting/);
  });

  it('checks the IBAN checksum, the BIC, its country, and reminders within the term', () => {
    expect(() => parseBankTransferSettings({ ...valid, iban: 'DE88370400440532013000' })).toThrow(/iban is not a valid IBAN \(check digits do not match\)/);
    expect(settingsProblems({ iban: 'DE89370400440532013000', bic: 'ABNANL2A' })).toEqual([
      { field: 'bic', message: 'belongs to a bank in NL, but the IBAN is from DE' },
    ]);
    expect(settingsProblems({ bic: 'NOTABIC!' })).toEqual([{ field: 'bic', message: 'is not a valid BIC' }]);
    expect(settingsProblems({ paymentTermDays: 7, reminderDaysBefore: [3, 7] })).toEqual([
      { field: 'reminderDaysBefore', message: '7 days before the deadline is not within the 7-day payment term' },
    ]);
  });
});
