import { parseCamt053, parseCsvStatement, parseMt940, transactionKeys, type StatementTransaction } from '../../src';
import { mappings, sample } from '../support/samples';

describe('transaction idempotency keys', () => {
  it('uses the bank reference when the bank gives one', () => {
    const keys = transactionKeys(parseCamt053(sample('camt053-demo.xml')).transactions);
    expect(keys).toEqual(['ref:2026120100001', 'ref:2026120100002', 'ref:2026120100003-1', 'ref:2026120100003-2', 'ref:2026120100004']);
  });

  it('gives the same keys when the same statement is read again', () => {
    const first = transactionKeys(parseCsvStatement(sample('csv-sparkasse.csv'), mappings.sparkasse).transactions);
    const again = transactionKeys(parseCsvStatement(sample('csv-sparkasse.csv'), mappings.sparkasse).transactions);
    expect(again).toEqual(first);
    expect(new Set(first).size).toBe(first.length);
    expect(first.every((k) => /^sha256:[0-9a-f]{64}$/.test(k))).toBe(true);
  });

  it('keeps two identical transfers in one statement apart by their occurrence', () => {
    const keys = transactionKeys(parseMt940(sample('mt940-demo.sta')).transactions);
    expect(keys[0]).toBe('ref:0000000000001');
    expect(keys[2]).toMatch(/^sha256:/);
    expect(keys[3]).toMatch(/^sha256:/);
    expect(keys[2]).not.toBe(keys[3]);
  });

  it('finds an overlapping statement: the lines both files hold get the same keys, the new ones new keys', () => {
    const base: StatementTransaction = { amount: 1000, currency: 'EUR', bookingDate: '2026-12-02', payerName: 'A', payerIban: null, reference: 'X', reversal: false, bankReference: null, source: 'line 2' };
    const [a] = transactionKeys([base]);
    const [b, c] = transactionKeys([{ ...base, source: 'line 9', reference: '  x ', payerName: 'a' }, { ...base, amount: 1001 }]);
    expect(b).toBe(a); // same transfer, spacing, case and position in the file differ
    expect(c).not.toBe(a);
    for (const change of [{ bookingDate: '2026-12-03' }, { currency: 'CHF' }, { payerName: 'B' }, { reference: 'Y' }]) {
      expect(transactionKeys([{ ...base, ...change }])[0]).not.toBe(a);
    }
  });
});
