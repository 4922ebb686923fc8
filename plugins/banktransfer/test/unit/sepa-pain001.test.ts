import { money } from '@kassa/core';
import { XMLParser } from 'fast-xml-parser';
import { buildPain001, isBankTransferError, messageIdFor, PAIN001_NAMESPACE, sepaText, type SepaExportInput } from '../../src';

const input: SepaExportInput = {
  debtor: { name: 'Demo Events e.V.', iban: 'DE89 3704 0044 0532 0130 00', bic: 'COBADEFFXXX' },
  createdAt: new Date('2026-12-07T10:15:30.123Z'),
  executionDate: '2026-12-08',
  refunds: [
    { refundId: 41, amount: money(2350, 'EUR'), creditorName: 'Jana Müller', creditorIban: 'DE02120300000000202051', remittance: 'Refund DEMO-Q7ZRX' },
    { refundId: 42, amount: money(99_999_999_999, 'EUR'), creditorName: 'Piet de Vries', creditorIban: 'NL91ABNA0417164300', creditorBic: 'abnanl2a', remittance: 'Refund DEMO-K3LMN' },
    { refundId: 43, amount: money(5, 'EUR'), creditorName: 'Anna Gruber', creditorIban: 'AT611904300234573201', remittance: 'Refund DEMO-P8TWA' },
  ],
};

const read = (xml: string) => new XMLParser({ ignoreAttributes: false, attributeNamePrefix: '@', parseTagValue: false, isArray: (n) => n === 'CdtTrfTxInf' }).parse(xml);

describe('SEPA credit transfer export (pain.001.001.03)', () => {
  it('writes the group header and one batch with exact decimal amounts', () => {
    const out = buildPain001(input);
    const doc = read(out.xml).Document;
    expect(doc['@xmlns']).toBe(PAIN001_NAMESPACE);
    const header = doc.CstmrCdtTrfInitn.GrpHdr;
    expect(header).toEqual({ MsgId: out.messageId, CreDtTm: '2026-12-07T10:15:30', NbOfTxs: '3', CtrlSum: '1000000023.54', InitgPty: { Nm: 'Demo Events e.V.' } });
    expect(out).toMatchObject({ count: 3, total: 100_000_002_354 });
    const batch = doc.CstmrCdtTrfInitn.PmtInf;
    expect(batch).toMatchObject({
      PmtInfId: out.messageId, PmtMtd: 'TRF', BtchBookg: 'true', NbOfTxs: '3', CtrlSum: '1000000023.54',
      PmtTpInf: { SvcLvl: { Cd: 'SEPA' } }, ReqdExctnDt: '2026-12-08',
      Dbtr: { Nm: 'Demo Events e.V.' }, DbtrAcct: { Id: { IBAN: 'DE89370400440532013000' } }, DbtrAgt: { FinInstnId: { BIC: 'COBADEFFXXX' } }, ChrgBr: 'SLEV',
    });
    expect(batch.CdtTrfTxInf).toEqual([
      { PmtId: { EndToEndId: 'KASSA-REFUND-41' }, Amt: { InstdAmt: { '#text': '23.50', '@Ccy': 'EUR' } }, Cdtr: { Nm: 'Jana Muller' }, CdtrAcct: { Id: { IBAN: 'DE02120300000000202051' } }, RmtInf: { Ustrd: 'Refund DEMO-Q7ZRX' } },
      { PmtId: { EndToEndId: 'KASSA-REFUND-42' }, Amt: { InstdAmt: { '#text': '999999999.99', '@Ccy': 'EUR' } }, CdtrAgt: { FinInstnId: { BIC: 'ABNANL2A' } }, Cdtr: { Nm: 'Piet de Vries' }, CdtrAcct: { Id: { IBAN: 'NL91ABNA0417164300' } }, RmtInf: { Ustrd: 'Refund DEMO-K3LMN' } },
      { PmtId: { EndToEndId: 'KASSA-REFUND-43' }, Amt: { InstdAmt: { '#text': '0.05', '@Ccy': 'EUR' } }, Cdtr: { Nm: 'Anna Gruber' }, CdtrAcct: { Id: { IBAN: 'AT611904300234573201' } }, RmtInf: { Ustrd: 'Refund DEMO-P8TWA' } },
    ]);
    expect(out.xml.startsWith('<?xml version="1.0" encoding="UTF-8"?>')).toBe(true);
  });

  it('marks the debtor bank NOTPROVIDED when no BIC is set (IBAN-only SEPA)', () => {
    const doc = read(buildPain001({ ...input, debtor: { name: 'X', iban: 'DE89370400440532013000' } }).xml).Document;
    expect(doc.CstmrCdtTrfInitn.PmtInf.DbtrAgt).toEqual({ FinInstnId: { Othr: { Id: 'NOTPROVIDED' } } });
  });

  it('derives the message id from the refund ids: the same refunds give the same id, in any order', () => {
    const again = buildPain001({ ...input, refunds: [...input.refunds].reverse(), createdAt: new Date('2026-12-09T00:00:00Z') });
    expect(again.messageId).toBe(buildPain001(input).messageId);
    expect(again.messageId).toBe(messageIdFor(['41', '42', '43']));
    expect(again.messageId).toMatch(/^KR-[0-9a-f]{32}$/);
    expect(buildPain001({ ...input, refunds: input.refunds.slice(0, 2) }).messageId).not.toBe(again.messageId);
  });

  it('refuses bad IBANs, non-euro refunds, duplicates and amounts out of range, naming each refund', () => {
    try {
      buildPain001({
        ...input,
        refunds: [
          { ...input.refunds[0]!, creditorIban: 'DE88370400440532013000' },
          { ...input.refunds[1]!, amount: money(100, 'CHF') },
          { ...input.refunds[2]!, refundId: 41 },
          { ...input.refunds[2]!, refundId: 44, amount: money(0, 'EUR'), creditorIban: 'BR1800360305000010009795493C1' },
        ],
      });
      throw new Error('not refused');
    } catch (err) {
      expect(isBankTransferError(err, 'BANKTRANSFER_SEPA_INVALID')).toBe(true);
      expect((err as Error).message).toBe('Cannot build the SEPA transfer file: refund 41: creditor IBAN check digits do not match; refund 42: SEPA transfers are in EUR, not CHF; refund 41 is listed twice; refund 44: amount must be between 0.01 and 999999999.99; refund 44: creditor IBAN is not in a SEPA country');
    }
    expect(() => buildPain001({ ...input, refunds: [] })).toThrow(/no refunds to export/);
    expect(() => buildPain001({ ...input, debtor: { ...input.debtor, iban: 'DE00' } })).toThrow(/debtor IBAN/);
  });

  it('writes names in the SEPA character set', () => {
    expect(sepaText('Jörg Straße & Söhne <GmbH>', 70)).toBe('Jorg Strasse Sohne GmbH');
    expect(sepaText('x'.repeat(80), 70)).toHaveLength(70);
  });
});
