import { findOrderCodes, matchTransactions, orderStanding, parseCamt053, parseCsvStatement, parseMt940, type StatementTransaction } from '../../src';
import { demoOrders, mappings, sample, type DemoOrder } from '../support/samples';

const orders = demoOrders();
const byCode = (code: string) => orders.find((o) => o.code === code)!;

function credit(reference: string, amount: number, currency = 'EUR'): StatementTransaction {
  return { amount, currency, bookingDate: '2026-12-01', payerName: null, payerIban: null, reference, reversal: false, bankReference: null, source: 'line 2' };
}

function summary(results: ReturnType<typeof matchTransactions<DemoOrder>>) {
  return results.map((r) => (r.kind === 'confirm'
    ? { confirm: r.allocations.map((a) => ({ code: a.order.code, amount: a.amount, flags: a.flags, stillOwed: a.stillOwed, overpaidBy: a.overpaidBy })) }
    : { unmatched: r.reason, codes: r.orders.map((o) => o.code) }));
}

describe('finding order codes in reference text', () => {
  it.each([
    'DEMO-Q7ZRX', 'demo-q7zrx', 'DEMO Q7ZRX', 'Demo - Q7Z RX', 'Q7ZRX', 'q7zrx', 'Order Q7ZRX thanks', 'EREF+NOTPROVIDED SVWZ+DEMOQ7ZRX', 'Q7Z-RX', 'Tickets\nDEMO-\nQ7ZRX',
  ])('finds Q7ZRX in %j', (text) => {
    expect(findOrderCodes(text, orders).map((o) => o.code)).toEqual(['Q7ZRX']);
  });

  it.each(['XQ7ZRX', 'Q7ZRXY', 'Q7ZRX1', 'Membership fee 2026', ''])('finds nothing in %j', (text) => {
    expect(findOrderCodes(text, orders)).toEqual([]);
  });

  it('takes the code that ends at a word boundary when codes differ in length', () => {
    const long: DemoOrder = { ...byCode('Q7ZRX'), code: 'Q7ZRX9' };
    expect(findOrderCodes('DEMO-Q7ZRX9', [...orders, long])).toEqual([long]);
    expect(findOrderCodes('DEMO-Q7ZRX, 9 tickets', [...orders, long])).toEqual([byCode('Q7ZRX')]);
    expect(findOrderCodes('DEMO-Q7ZRX9', orders)).toEqual([]);
  });

  it('finds several codes in order of appearance, each once', () => {
    expect(findOrderCodes('DEMO-V7EFG and DEMO-H9JCD, again V7EFG', orders).map((o) => o.code)).toEqual(['V7EFG', 'H9JCD']);
  });

  it('uses the slug to tell events apart in an organizer-wide import; a bare shared code is ambiguous', () => {
    const twin: DemoOrder = { ...byCode('Q7ZRX'), eventSlug: 'winter-fest' };
    const both = [...orders, twin];
    expect(findOrderCodes('WINTER-FEST-Q7ZRX', both)).toEqual([twin]);
    expect(findOrderCodes('winterfest q7zrx', both)).toEqual([twin]);
    expect(findOrderCodes('DEMO-Q7ZRX', both)).toEqual([byCode('Q7ZRX')]);
    expect(findOrderCodes('Q7ZRX', both)).toEqual([]);
  });
});

describe('matching transfers to orders (pretix rules, money never dropped)', () => {
  it('confirms an exact amount', () => {
    expect(summary(matchTransactions([credit('DEMO-Q7ZRX', 2350)], orders))).toEqual([
      { confirm: [{ code: 'Q7ZRX', amount: 2350, flags: [], stillOwed: 0, overpaidBy: 0 }] },
    ]);
  });

  it('confirms too little as a partial payment and says what is still owed', () => {
    expect(summary(matchTransactions([credit('k3lmn', 2000)], orders))).toEqual([
      { confirm: [{ code: 'K3LMN', amount: 2000, flags: ['partial'], stillOwed: 3000, overpaidBy: 0 }] },
    ]);
  });

  it('confirms too much and flags it overpaid', () => {
    expect(summary(matchTransactions([credit('P8TWA', 2000)], orders))).toEqual([
      { confirm: [{ code: 'P8TWA', amount: 2000, flags: ['overpaid'], stillOwed: 0, overpaidBy: 500 }] },
    ]);
  });

  it('splits one transfer over several orders when their open amounts add up, and leaves it to a person otherwise', () => {
    expect(summary(matchTransactions([credit('DEMO-H9JCD DEMO-V7EFG', 2500)], orders))).toEqual([
      { confirm: [{ code: 'H9JCD', amount: 1000, flags: [], stillOwed: 0, overpaidBy: 0 }, { code: 'V7EFG', amount: 1500, flags: [], stillOwed: 0, overpaidBy: 0 }] },
    ]);
    expect(summary(matchTransactions([credit('DEMO-H9JCD DEMO-V7EFG', 2400)], orders))).toEqual([{ unmatched: 'split-not-possible', codes: ['H9JCD', 'V7EFG'] }]);
    expect(summary(matchTransactions([credit('H9JCD N3PQR', 1000)], orders))).toEqual([{ unmatched: 'split-not-possible', codes: ['H9JCD', 'N3PQR'] }]);
  });

  it('confirms money for a paid, canceled or expired order and flags it for the organizer', () => {
    expect(summary(matchTransactions([credit('demo n3pqr', 2500), credit('T8XYZ', 2000), credit('E7WST', 3000)], orders))).toEqual([
      { confirm: [{ code: 'N3PQR', amount: 2500, flags: ['order-already-paid', 'overpaid'], stillOwed: 0, overpaidBy: 2500 }] },
      { confirm: [{ code: 'T8XYZ', amount: 2000, flags: ['order-canceled'], stillOwed: 0, overpaidBy: 2000 }] },
      { confirm: [{ code: 'E7WST', amount: 3000, flags: ['order-expired'], stillOwed: 0, overpaidBy: 0 }] },
    ]);
  });

  it('leaves everything else unmatched: no code, other currency, money going out', () => {
    expect(summary(matchTransactions([credit('Membership fee 2026', 500), credit('DEMO-Q7ZRX', 2350, 'CHF'), credit('DEMO-Q7ZRX', -2350), credit('DEMO-Q7ZRX', 0)], orders))).toEqual([
      { unmatched: 'no-order', codes: [] },
      { unmatched: 'currency-mismatch', codes: ['Q7ZRX'] },
      { unmatched: 'not-a-credit', codes: [] },
      { unmatched: 'not-a-credit', codes: [] },
    ]);
  });

  it('leaves a reversal (a refund sent back) to a person even when it names an order', () => {
    expect(summary(matchTransactions([{ ...credit('Refund DEMO-Q7ZRX returned', 2350), reversal: true }], orders))).toEqual([{ unmatched: 'reversal', codes: ['Q7ZRX'] }]);
  });

  it('counts earlier transfers of the same statement: a second partial completes the order, a third overpays it', () => {
    expect(summary(matchTransactions([credit('K3LMN', 2000), credit('K3LMN', 3000), credit('K3LMN', 100)], orders))).toEqual([
      { confirm: [{ code: 'K3LMN', amount: 2000, flags: ['partial'], stillOwed: 3000, overpaidBy: 0 }] },
      { confirm: [{ code: 'K3LMN', amount: 3000, flags: [], stillOwed: 0, overpaidBy: 0 }] },
      { confirm: [{ code: 'K3LMN', amount: 100, flags: ['overpaid'], stillOwed: 0, overpaidBy: 100 }] },
    ]);
  });

  it('asks the order machine for the standing', () => {
    expect(orderStanding('pending')).toEqual({ awaitingPayment: true, paid: false, canceled: false, expired: false });
    expect(orderStanding('expired')).toEqual({ awaitingPayment: false, paid: false, canceled: false, expired: true });
  });
});

describe('matching the sample statements end to end', () => {
  it('CAMT.053: exact, partial, overpaid, a batch line without a code, a fee', () => {
    expect(summary(matchTransactions(parseCamt053(sample('camt053-demo.xml')).transactions, orders))).toEqual([
      { confirm: [{ code: 'Q7ZRX', amount: 2350, flags: [], stillOwed: 0, overpaidBy: 0 }] },
      { confirm: [{ code: 'K3LMN', amount: 2000, flags: ['partial'], stillOwed: 3000, overpaidBy: 0 }] },
      { confirm: [{ code: 'P8TWA', amount: 2000, flags: ['overpaid'], stillOwed: 0, overpaidBy: 500 }] },
      { unmatched: 'no-order', codes: [] },
      { unmatched: 'not-a-credit', codes: [] },
    ]);
  });

  it('MT940: a split over two orders (code wrapped across subfields), a paid order, two transfers for a canceled one', () => {
    expect(summary(matchTransactions(parseMt940(sample('mt940-demo.sta')).transactions, orders))).toEqual([
      { confirm: [{ code: 'H9JCD', amount: 1000, flags: [], stillOwed: 0, overpaidBy: 0 }, { code: 'V7EFG', amount: 1500, flags: [], stillOwed: 0, overpaidBy: 0 }] },
      { confirm: [{ code: 'N3PQR', amount: 2500, flags: ['order-already-paid', 'overpaid'], stillOwed: 0, overpaidBy: 2500 }] },
      { confirm: [{ code: 'T8XYZ', amount: 1000, flags: ['order-canceled'], stillOwed: 0, overpaidBy: 1000 }] },
      { confirm: [{ code: 'T8XYZ', amount: 1000, flags: ['order-canceled'], stillOwed: 0, overpaidBy: 1000 }] },
      { unmatched: 'not-a-credit', codes: [] },
    ]);
  });

  it('CSV from three banks', () => {
    const sparkasse = summary(matchTransactions(parseCsvStatement(sample('csv-sparkasse.csv'), mappings.sparkasse).transactions, orders));
    expect(sparkasse).toEqual([
      { confirm: [{ code: 'Q7ZRX', amount: 2350, flags: [], stillOwed: 0, overpaidBy: 0 }] },
      { confirm: [{ code: 'E7WST', amount: 3000, flags: ['order-expired'], stillOwed: 0, overpaidBy: 0 }] },
      { unmatched: 'no-order', codes: [] },
      { unmatched: 'not-a-credit', codes: [] },
    ]);
    const irish = summary(matchTransactions(parseCsvStatement(sample('csv-irish-split.csv'), mappings.irish).transactions, orders));
    expect(irish).toEqual([
      { confirm: [{ code: 'K3LMN', amount: 5000, flags: [], stillOwed: 0, overpaidBy: 0 }] },
      { unmatched: 'not-a-credit', codes: [] },
      { confirm: [{ code: 'Q7ZRX', amount: 2350, flags: [], stillOwed: 0, overpaidBy: 0 }] },
    ]);
    const ing = summary(matchTransactions(parseCsvStatement(sample('csv-ing-indicator.csv'), mappings.ing).transactions, orders));
    expect(ing).toEqual([
      { confirm: [{ code: 'P8TWA', amount: 1500, flags: [], stillOwed: 0, overpaidBy: 0 }] },
      { unmatched: 'not-a-credit', codes: [] },
    ]);
  });
});
