import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { OrderStatus } from '@kassa/core';
import { orderStanding, parseCsvMapping, type CandidateOrder, type CsvMapping } from '../../src';

export function sample(name: string): string {
  return readFileSync(join(__dirname, '..', 'samples', name), 'utf8');
}

/** The column mappings an organizer would save once for each of the sample banks. */
export const mappings: Record<'sparkasse' | 'irish' | 'ing', CsvMapping> = {
  sparkasse: parseCsvMapping({
    delimiter: ';', skipRows: 1, decimalSeparator: ',', dateFormat: 'DD.MM.YY', currency: 'EUR', sign: 'signed',
    columns: { date: 1, amount: 8, currency: 9, payer: [5], iban: 6, reference: [4] },
  }),
  irish: parseCsvMapping({
    delimiter: ',', skipRows: 2, decimalSeparator: '.', dateFormat: 'DD/MM/YYYY', currency: 'EUR', sign: 'split',
    columns: { date: 0, debit: 2, credit: 3, reference: [1] },
  }),
  ing: parseCsvMapping({
    delimiter: ';', skipRows: 1, decimalSeparator: ',', dateFormat: 'YYYYMMDD', currency: 'EUR', sign: 'indicator',
    columns: { date: 0, amount: 6, indicator: 5, payer: [1], iban: 3, reference: [8] },
    creditValues: ['Bij'], debitValues: ['Af'],
  }),
};

export interface DemoOrder extends CandidateOrder {
  readonly total: number;
}

function order(code: string, status: OrderStatus, total: number, pendingSum: number, eventSlug = 'demo', currency = 'EUR'): DemoOrder {
  return { code, eventSlug, currency, total, pendingSum, standing: orderStanding(status) };
}

/** The orders the sample statements pay for (event "demo", EUR). */
export function demoOrders(): DemoOrder[] {
  return [
    order('Q7ZRX', 'pending', 2350, 2350),
    order('K3LMN', 'pending', 5000, 5000),
    order('P8TWA', 'pending', 1500, 1500),
    order('H9JCD', 'pending', 1000, 1000),
    order('V7EFG', 'pending', 1500, 1500),
    order('N3PQR', 'paid', 2500, 0),
    order('T8XYZ', 'canceled', 2000, 2000),
    order('E7WST', 'expired', 3000, 3000),
  ];
}
