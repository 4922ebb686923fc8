import { KassaError } from '@kassa/core';
import { ibanValid, parseBankInput } from '../../src/connect/custom/bank-input';
import { accountUpdateFrom, requirementFields } from '../../src/connect/custom/requirement-fields';

/* The Custom-account form: fields built from Stripe's requirements, and the account update built from the answers. */
describe('Custom account requirement fields', () => {
  const r = {
    past_due: ['tos_acceptance.date', 'tos_acceptance.ip'],
    currently_due: ['individual.dob.day', 'individual.dob.month', 'individual.dob.year', 'business_type', 'individual.email', 'individual.verification.document', 'representative.first_name', 'individual.address.city'],
    errors: [{ requirement: 'individual.dob.year', code: 'invalid_value_other', reason: 'Does not match the ID.' }],
  };
  const ctx = { now: new Date('2026-12-07T00:00:00Z'), clientIp: '203.0.113.9', currency: 'eur' };

  it('groups the date of birth and the terms, marks past due, keeps the reasons, leaves documents and persons to Stripe', () => {
    const f = requirementFields(r);
    expect(f.map((x) => [x.name, x.kind])).toEqual([
      ['tos_acceptance', 'tos'], ['individual.dob', 'date'], ['business_type', 'select'], ['individual.email', 'email'],
      ['individual.verification.document', 'stripe-only'], ['representative.first_name', 'stripe-only'], ['individual.address.city', 'text'],
    ]);
    expect(f[0]?.pastDue).toBe(true);
    expect(f[1]?.pastDue).toBe(false);
    expect(f[1]?.errors).toEqual(['Does not match the ID.']);
  });

  it('builds one nested account update; ignores fields not asked for and Stripe-only ones', () => {
    const params = accountUpdateFrom(requirementFields(r), {
      tos_acceptance: 'accepted', 'individual.dob': '1990-05-17', business_type: 'individual', 'individual.address.city': 'Berlin',
      'individual.verification.document': 'file_x', 'representative.first_name': 'Eve', 'company.tax_id': 'sneaked',
    }, ctx);
    expect(params).toEqual({
      tos_acceptance: { date: Math.floor(ctx.now.getTime() / 1000), ip: '203.0.113.9' },
      individual: { dob: { day: 17, month: 5, year: 1990 }, address: { city: 'Berlin' } },
      business_type: 'individual',
    });
  });

  it('refuses bad values naming the field', () => {
    const f = requirementFields(r);
    const field = (body: Record<string, unknown>, c: { now: Date; clientIp: string | undefined; currency: string } = ctx) => {
      try { accountUpdateFrom(f, body, c); return null; } catch (e) { return e instanceof KassaError ? (e.params as { field?: string }).field : 'other'; }
    };
    expect(field({ 'individual.dob': '1990-02-30' })).toBe('individual.dob');
    expect(field({ 'individual.dob': '2027-01-01' })).toBe('individual.dob');
    expect(field({ 'individual.email': 'no-at-sign' })).toBe('individual.email');
    expect(field({ business_type: 'pirate' })).toBe('business_type');
    expect(field({ tos_acceptance: 'accepted' }, { ...ctx, clientIp: undefined })).toBe('tos_acceptance');
    expect(field({ 'individual.address.city': ['a', 'b'] })).toBe('individual.address.city');
    expect(field({})).toBe('requirements');
  });

  it('checks IBANs (mod 97) and passes bank tokens as they are', () => {
    expect(ibanValid('DE89370400440532013000')).toBe(true);
    expect(ibanValid('DE89370400440532013001')).toBe(false);
    expect(parseBankInput('bank', 'btok_us_verified', 'usd', '')).toBe('btok_us_verified');
    expect(parseBankInput('bank', 'de89 3704 0044 0532 0130 00', 'EUR', 'Ada')).toEqual({ object: 'bank_account', country: 'DE', currency: 'eur', account_number: 'DE89370400440532013000', account_holder_name: 'Ada' });
    expect(() => parseBankInput('bank', 'btok_<script>', 'eur', '')).toThrow(KassaError);
  });
});
