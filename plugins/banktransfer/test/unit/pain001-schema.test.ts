import { money } from '@kassa/core';
import { buildPain001, pain001SchemaErrors, type SepaExportInput } from '../../src';

/*
 * The refund file checked against the pain.001.001.03 SEPA profile (schemas/) with libxml2 in
 * WebAssembly: what buildPain001 writes is valid, and the schema really bites: each broken file
 * below is refused with its line.
 */
const input: SepaExportInput = {
  debtor: { name: 'Demo Events e.V.', iban: 'DE89 3704 0044 0532 0130 00' },
  createdAt: new Date('2026-12-07T10:15:30.123Z'),
  executionDate: '2026-12-08',
  refunds: [
    { refundId: 'A1B2C3D4E5F60718293A4B', amount: money(2350, 'EUR'), creditorName: 'Jana Müller & Söhne <GmbH>', creditorIban: 'DE02120300000000202051', remittance: 'Refund DEMO-Q7ZRX' },
    { refundId: '42', amount: money(99_999_999_999, 'EUR'), creditorName: 'Piet de Vries', creditorIban: 'NL91ABNA0417164300', creditorBic: 'abnanl2a', remittance: 'Refund DEMO-K3LMN' },
  ],
};

describe('pain.001 refund file against the schema', () => {
  const xml = buildPain001(input).xml;

  it('what Kassa writes is valid (with and without BICs, names cut to the SEPA character set)', async () => {
    expect(await pain001SchemaErrors(xml)).toEqual([]);
    expect(await pain001SchemaErrors(buildPain001({ ...input, debtor: { ...input.debtor, bic: 'COBADEFFXXX' } }).xml)).toEqual([]);
  });

  it.each([
    ['a third decimal', (x: string) => x.replace('>23.50<', '>23.505<'), /InstdAmt/],
    ['another currency', (x: string) => x.replace('Ccy="EUR"', 'Ccy="USD"'), /Ccy/],
    ['a malformed IBAN', (x: string) => x.replace('>NL91ABNA0417164300<', '>nl91 abna<'), /IBAN/],
    ['elements out of order', (x: string) => x.replace(/(<ChrgBr>SLEV<\/ChrgBr>)/, '').replace('<PmtTpInf>', '<ChrgBr>SLEV</ChrgBr><PmtTpInf>'), /ChrgBr|PmtTpInf/],
    ['a missing creditor account', (x: string) => x.replace(/<CdtrAcct>[\s\S]*?<\/CdtrAcct>/, ''), /CdtrAcct|RmtInf/],
    ['characters outside SEPA\'s set', (x: string) => x.replace('>Piet de Vries<', '>Piet & Co<'.replace('&', '&amp;')), /Nm/],
  ])('refuses %s, naming the line', async (_what, breakIt, element) => {
    const errors = await pain001SchemaErrors(breakIt(xml));
    expect(errors.length).toBeGreaterThan(0);
    expect(errors[0]).toMatch(/^line \d+: /);
    expect(errors.join('\n')).toMatch(element);
  });
});
