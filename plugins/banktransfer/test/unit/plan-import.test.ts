import { planStatementImport } from '../../src';
import { demoOrders, mappings, sample } from '../support/samples';

describe('planning a statement import', () => {
  it('books nothing twice: a second upload of the same file plans no transaction', () => {
    const first = planStatementImport({ content: sample('camt053-demo.xml'), knownKeys: new Set(), orders: demoOrders() });
    expect(first.format).toBe('camt053');
    expect(first.planned.map((p) => p.match.kind)).toEqual(['confirm', 'confirm', 'confirm', 'unmatched', 'unmatched']);
    expect(first.alreadyImported).toEqual([]);

    const stored = new Set(first.planned.map((p) => p.key));
    const second = planStatementImport({ content: sample('camt053-demo.xml'), knownKeys: stored, orders: demoOrders() });
    expect(second.planned).toEqual([]);
    expect(second.alreadyImported.map((a) => a.key)).toEqual([...stored]);
  });

  it('plans only the new lines of an overlapping CSV export', () => {
    const content = sample('csv-sparkasse.csv');
    const first = planStatementImport({ content, csvMapping: mappings.sparkasse, knownKeys: new Set(), orders: demoOrders() });
    const lines = content.trimEnd().split('\r\n');
    const longer = [...lines, '"DE89370400440532013000";"04.12.26";"04.12.26";"GUTSCHR. UEBERWEISUNG";"DEMO-P8TWA";"Anna";"";"";"15,00";"EUR";""'].join('\r\n');
    const second = planStatementImport({ content: longer, csvMapping: mappings.sparkasse, knownKeys: new Set(first.planned.map((p) => p.key)), orders: demoOrders() });
    expect(second.alreadyImported).toHaveLength(4);
    expect(second.planned.map((p) => [p.transaction.source, p.match.kind])).toEqual([['line 6', 'confirm']]);
  });

  it('plans nothing from a file with a bad line: the refusal names the line', () => {
    expect(() => planStatementImport({ content: sample('csv-sparkasse-bad-amount.csv'), csvMapping: mappings.sparkasse, knownKeys: new Set(), orders: demoOrders() }))
      .toThrow('CSV statement, line 3: amount: "zwanzig" is not an amount');
  });
});
