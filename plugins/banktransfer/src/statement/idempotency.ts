import { createHash } from 'node:crypto';
import type { StatementTransaction } from './transaction';

/**
 * One key per transaction, stable across uploads of the same statement, so a second upload books
 * nothing twice. The bank's own reference when it gives one; otherwise a hash of what the bank
 * shows (date, amount, currency, payer, text) plus how many identical lines came before it in the
 * same statement, so two equal transfers on one day stay two.
 *
 * Keys are per organizer's account; the caller stores them with the organizer (or event) scope.
 */
export function transactionKeys(transactions: readonly StatementTransaction[]): string[] {
  const seen = new Map<string, number>();
  return transactions.map((t) => {
    if (t.bankReference) return `ref:${t.bankReference}`;
    const fields = [t.bookingDate, String(t.amount), t.currency, norm(t.payerName ?? ''), norm(t.reference)];
    const base = JSON.stringify(fields);
    const occurrence = seen.get(base) ?? 0;
    seen.set(base, occurrence + 1);
    return `sha256:${createHash('sha256').update(JSON.stringify([...fields, occurrence])).digest('hex')}`;
  });
}

/** The same transfer exported twice may differ in spacing and case only. */
function norm(text: string): string {
  return text.replace(/\s+/g, ' ').trim().toUpperCase();
}
