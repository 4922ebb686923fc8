import { decimalToMinorUnits, decodeStatementBytes, detectStatementFormat, isBankTransferError, parseCamt053, parseCsvMapping, parseCsvStatement, parseMt940, parseStatement } from '../../src';
import { mappings, sample } from '../support/samples';

function refusal(fn: () => unknown): { code: string; message: string; params: Record<string, unknown> } {
  try {
    fn();
  } catch (err) {
    if (isBankTransferError(err)) return { code: err.code, message: err.message, params: { ...err.params } };
    throw err;
  }
  throw new Error('expected a refusal');
}

describe('amounts from statement text', () => {
  it.each([
    ['23,50', ',', 2350], ['1.250,00', ',', 125000], ['-4,90', ',', -490], ['12,50-', ',', -1250], ['+7,5', ',', 750],
    ['1,234.56', '.', 123456], ['0.01', '.', 1], ['1 234.56', '.', 123456], ['20', '.', 2000], ['20.000', '.', 2000],
  ] as const)('%s with decimal "%s" is %d minor units', (text, sep, expected) => {
    expect(decimalToMinorUnits(text, 'EUR', sep)).toEqual({ ok: true, amount: expected });
  });

  it('follows the currency exponent', () => {
    expect(decimalToMinorUnits('1500', 'JPY', '.')).toEqual({ ok: true, amount: 1500 });
    expect(decimalToMinorUnits('1.234', 'KWD', '.')).toEqual({ ok: true, amount: 1234 });
  });

  it('refuses two minus signs', () => {
    expect(decimalToMinorUnits('-12,50-', 'EUR', ',').ok).toBe(false);
  });

  it.each(['zwanzig', '1,2,3', '12.34', '1.23.45', '', '-', '12.5.0'])('refuses "%s" (decimal comma)', (text) => {
    expect(decimalToMinorUnits(text, 'EUR', ',').ok).toBe(false);
  });

  it('refuses more decimals than the currency has', () => {
    expect(decimalToMinorUnits('1.005', 'EUR', '.')).toEqual({ ok: false, reason: '"1.005" has more decimals than EUR has (2)' });
  });
});

describe('CAMT.053', () => {
  it('reads booked entries, splits batches, skips pending ones, signs debits', () => {
    const { format, transactions } = parseCamt053(sample('camt053-demo.xml'));
    expect(format).toBe('camt053');
    expect(transactions).toEqual([
      { amount: 2350, currency: 'EUR', bookingDate: '2026-12-01', payerName: 'Jana Müller', payerIban: 'DE02120300000000202051', reference: 'DEMO-Q7ZRX', reversal: false, bankReference: '2026120100001', source: 'Stmt[1]/Ntry[1]' },
      { amount: 2000, currency: 'EUR', bookingDate: '2026-12-01', payerName: 'Piet de Vries', payerIban: 'NL91ABNA0417164300', reference: 'Tickets demo k3lmn first part', reversal: false, bankReference: '2026120100002', source: 'Stmt[1]/Ntry[2]' },
      { amount: 2000, currency: 'EUR', bookingDate: '2026-12-01', payerName: 'Anna Gruber', payerIban: 'AT611904300234573201', reference: 'P8TWA', reversal: false, bankReference: '2026120100003-1', source: 'Stmt[1]/Ntry[3]/NtryDtls/TxDtls[1]' },
      { amount: 500, currency: 'EUR', bookingDate: '2026-12-01', payerName: 'Verein Freunde e.V.', payerIban: null, reference: 'Membership fee 2026', reversal: false, bankReference: '2026120100003-2', source: 'Stmt[1]/Ntry[3]/NtryDtls/TxDtls[2]' },
      { amount: -490, currency: 'EUR', bookingDate: '2026-12-01', payerName: null, payerIban: null, reference: 'Account fee November', reversal: false, bankReference: '2026120100004', source: 'Stmt[1]/Ntry[4]' },
    ]);
  });

  it('refuses the whole file when one entry is broken, naming the element', () => {
    const r = refusal(() => parseCamt053(sample('camt053-bad-amount.xml')));
    expect(r.code).toBe('BANKTRANSFER_STATEMENT_INVALID');
    expect(r.message).toBe('CAMT.053 statement, Stmt[1]/Ntry[2]/Amt: "12,50" is not an ISO 20022 amount (digits with a decimal point)');
  });

  it('refuses a batch whose transactions do not add up to the entry', () => {
    const xml = sample('camt053-demo.xml').replace('<Amt Ccy="EUR">5.00</Amt>', '<Amt Ccy="EUR">5.01</Amt>');
    expect(refusal(() => parseCamt053(xml)).message).toBe("CAMT.053 statement, Stmt[1]/Ntry[3]: the batch's transactions add up to 2501 minor units, but the entry books 2500");
  });

  it('marks reversals and keeps the indicator as the entry\'s own direction', () => {
    const entry = (ind: string) => `<Ntry><Amt Ccy="EUR">23.50</Amt><CdtDbtInd>${ind}</CdtDbtInd><RvslInd>true</RvslInd><Sts>BOOK</Sts><BookgDt><Dt>2026-12-03</Dt></BookgDt></Ntry>`;
    const xml = `<Document><BkToCstmrStmt><Stmt>${entry('CRDT')}${entry('DBIT')}</Stmt></BkToCstmrStmt></Document>`;
    expect(parseCamt053(xml).transactions.map((t) => [t.amount, t.reversal])).toEqual([[2350, true], [-2350, true]]);
  });

  it('names the line of malformed XML, and refuses other XML documents', () => {
    expect(refusal(() => parseCamt053('<?xml version="1.0"?>\n<Document>\n<BkToCstmrStmt>\n</Document>')).params.where).toBe('line 4');
    expect(refusal(() => parseCamt053('<Document><CstmrCdtTrfInitn/></Document>')).message).toMatch(/not a camt\.053 statement/);
  });

  it('refuses a DTD (an entity bomb in an upload), naming its line, before any entity is expanded', () => {
    const entity = 'x'.repeat(9000);
    const bomb = `<?xml version="1.0"?>\n<!DOCTYPE Document [<!ENTITY a "${entity}">]>\n<Document><BkToCstmrStmt><Stmt>${'&a;'.repeat(5000)}</Stmt></BkToCstmrStmt></Document>`;
    const r = refusal(() => parseCamt053(bomb));
    expect(r.code).toBe('BANKTRANSFER_STATEMENT_INVALID');
    expect(r.params.where).toBe('line 2');
    expect(r.message).toMatch(/DOCTYPE declaration is not allowed/);
  });
});

describe('MT940', () => {
  it('reads the German field-86 structure into reference, payer and IBAN', () => {
    const { transactions } = parseMt940(sample('mt940-demo.sta'));
    expect(transactions.map((t) => [t.amount, t.reference, t.payerName, t.payerIban, t.bankReference, t.source])).toEqual([
      [2500, 'EREF+ NOTPROVIDED SVWZ+ Order DEMO - H9JCD and DEMO-V7EFG', 'Max Mustermann', 'DE02500105170137075030', '0000000000001', 'line 5'],
      [2500, 'SVWZ+ demo n3pqr', 'Erika Musterfrau', 'DE02120300000000202051', '0000000000002', 'line 9'],
      [1000, 'SVWZ+ T8XYZ', 'Lukas Beispiel', null, null, 'line 12'],
      [1000, 'SVWZ+ T8XYZ', 'Lukas Beispiel', null, null, 'line 14'],
      [-350, 'Kontofuehrung', null, null, '0000000000005', 'line 16'],
    ]);
    expect(transactions.every((t) => t.currency === 'EUR' && t.bookingDate === '2026-12-02')).toBe(true);
  });

  it('marks reversals (RC, RD) with the sign of the entry itself', () => {
    const mt = [':20:X', ':25:X', ':28C:1', ':60F:C261201EUR100,00', ':61:2612031203RD23,50NTRFNONREF', ':86:Refund DEMO-Q7ZRX returned', ':61:2612031203C1,00NTRFNONREF', ':86:x', ':62F:C261203EUR124,50', '-'].join('\n');
    expect(parseMt940(mt).transactions.map((t) => [t.amount, t.reversal])).toEqual([[2350, true], [100, false]]);
  });

  it('refuses a broken statement line, naming it', () => {
    expect(refusal(() => parseMt940(sample('mt940-bad-line.sta'))).message).toBe('MT940 statement, line 5: Cannot parse tag 61: 2612X2C15,00NTRFNONREF');
  });

  it('refuses a statement whose lines do not add up to its balances', () => {
    const tampered = sample('mt940-demo.sta').replace('C25,00NTRFNONREF//0000000000002', 'C26,00NTRFNONREF//0000000000002');
    expect(refusal(() => parseMt940(tampered)).message).toMatch(/^MT940 statement, statement starting at line 1: Sum of lines/);
  });
});

describe('CSV with a saved column mapping', () => {
  it('reads a German savings bank export (semicolons, decimal comma, signed amounts, two-digit years)', () => {
    const { transactions } = parseCsvStatement(sample('csv-sparkasse.csv'), mappings.sparkasse);
    expect(transactions.map((t) => [t.bookingDate, t.amount, t.reference, t.payerName, t.payerIban, t.source])).toEqual([
      ['2026-12-03', 2350, 'DEMO Q7ZRX Danke', 'Jana Mueller', 'DE02120300000000202051', 'line 2'],
      ['2026-12-03', 3000, 'Bestellung E7WST', 'Ole Hansen', 'DE02500105170137075030', 'line 3'],
      ['2026-12-03', 125000, 'Sponsoring Winterfest', 'Brauerei Beispiel GmbH', 'DE02120300000000202051', 'line 4'],
      ['2026-12-03', -490, 'Kontofuehrung', null, null, 'line 5'],
    ]);
    expect(transactions.every((t) => t.currency === 'EUR' && t.bankReference === null)).toBe(true);
  });

  it('reads an Irish bank export (title row, separate debit and credit columns, decimal point)', () => {
    const { transactions } = parseCsvStatement(sample('csv-irish-split.csv'), mappings.irish);
    expect(transactions.map((t) => [t.bookingDate, t.amount, t.reference, t.source])).toEqual([
      ['2026-12-04', 5000, 'SEPA CREDIT demo-k3lmn SEAN MURPHY', 'line 3'],
      ['2026-12-04', -2000, 'ATM WITHDRAWAL', 'line 4'],
      ['2026-12-04', 2350, 'SEPA CREDIT DEMO-Q7ZRX DEMO-Q7ZRX', 'line 5'],
    ]);
  });

  it('reads a Dutch bank export (credit/debit indicator column, compact dates)', () => {
    const { transactions } = parseCsvStatement(sample('csv-ing-indicator.csv'), mappings.ing);
    expect(transactions.map((t) => [t.bookingDate, t.amount, t.payerName, t.source])).toEqual([
      ['2026-12-05', 1500, 'P. de Vries', 'line 2'],
      ['2026-12-05', -235, 'Kosten', 'line 3'],
    ]);
  });

  it('refuses the whole file at the first bad row, naming the line', () => {
    const r = refusal(() => parseCsvStatement(sample('csv-sparkasse-bad-amount.csv'), mappings.sparkasse));
    expect(r.message).toBe('CSV statement, line 3: amount: "zwanzig" is not an amount');
  });

  it('names the line of a bad date, a missing column, a row with both credit and debit, an unknown indicator', () => {
    const head = 'Account,x\nDate,Description,Debit,Credit\n';
    expect(refusal(() => parseCsvStatement(`${head}31/11/2026,X,,1.00\n`, mappings.irish)).message).toBe('CSV statement, line 3: date "31/11/2026" does not exist');
    expect(refusal(() => parseCsvStatement(`${head}01/12/2026,X,1.00,2.00\n`, mappings.irish)).message).toMatch(/line 3: exactly one of the credit and debit/);
    expect(refusal(() => parseCsvStatement(`${head}01/12/2026,X\n`, mappings.irish)).message).toBe('CSV statement, line 3: has no column 4 (credit); it has 2');
    expect(refusal(() => parseCsvStatement('h\n"20261205";"A";"";"";"";"Storno";"1,00";"";"t"\n', mappings.ing)).message).toMatch(/line 2: credit\/debit indicator "STORNO" is neither Bij nor Af/);
    expect(refusal(() => parseCsvStatement('h\n"unterminated;x\n', mappings.sparkasse)).params.where).toBe('line 2');
  });

  it('refuses incomplete mappings, naming the field', () => {
    expect(() => parseCsvMapping({ ...mappings.irish, sign: 'signed' })).toThrow(/columns\.amount is required when sign is "signed"/);
    expect(() => parseCsvMapping({ ...mappings.irish, columns: { date: 0 } })).toThrow(/columns\.reference is required/);
    expect(() => parseCsvMapping({ ...mappings.irish, currency: 'XYZ' })).toThrow(/currency XYZ is not a known currency/);
  });
});

describe('uploaded bytes', () => {
  it('reads UTF-8 (BOM dropped) and falls back to Windows-1252 for older bank exports', () => {
    expect(decodeStatementBytes(Buffer.from('\uFEFFJana Müller €', 'utf8'))).toBe('Jana Müller €');
    expect(decodeStatementBytes(Uint8Array.from([0x4d, 0xfc, 0x6c, 0x6c, 0x65, 0x72, 0x20, 0x80]))).toBe('Müller €');
  });
});

describe('format detection', () => {
  it('tells the format from the content', () => {
    expect(detectStatementFormat(sample('camt053-demo.xml'))).toBe('camt053');
    expect(detectStatementFormat(sample('mt940-demo.sta'))).toBe('mt940');
    expect(detectStatementFormat(sample('csv-sparkasse.csv'))).toBe('csv');
    expect(parseStatement(sample('mt940-demo.sta')).transactions).toHaveLength(5);
    expect(() => parseStatement(sample('csv-sparkasse.csv'))).toThrow(/needs the column mapping/);
    expect(parseStatement(sample('csv-sparkasse.csv'), { csvMapping: mappings.sparkasse }).format).toBe('csv');
  });
});
