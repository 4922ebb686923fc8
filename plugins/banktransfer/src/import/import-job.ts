import { defineJob, isKassaError, organizerSettings, type PluginRuntime } from '@kassa/core';
import { normalizeIban } from '../iban';
import { orderStanding, type CandidateOrder, type MatchResult } from '../matching/match-transactions';
import { parseStatement } from '../statement/parse-statement';
import { transactionKeys } from '../statement/idempotency';
import type { CsvMapping } from '../statement/csv-mapping';
import type { StatementFormat } from '../statement/transaction';
import { planStatementImport } from './plan-import';
import {
  countOfImport, insertImport, insertTransaction, keyStoredBy, knownKeys, markBooked, readImport, recordAllocationPayment, unbookedOfImport, updateImport,
  type ImportRow, type StoredAllocation, type TransactionRow,
} from './import-store';

export const IMPORT_JOB = 'import';
const PROVIDER = 'banktransfer';

type Runtime = Pick<PluginRuntime, 'db' | 'payments' | 'settings' | 'log'>;

/** A candidate order for matching, with the ids the booking needs. */
export interface ImportCandidate extends CandidateOrder {
  readonly orderId: string;
}

/** The account the organizer's statements are for (its IBAN in the settings), part of each transaction's key. */
export async function organizerAccount(rt: Pick<PluginRuntime, 'settings'>, organizerId: string): Promise<string> {
  const s = await rt.settings.resolve(organizerSettings(organizerId), `payment.${PROVIDER}`);
  return typeof s.iban === 'string' && s.iban ? normalizeIban(s.iban) : '';
}

/**
 * Stores an uploaded statement for the import job. The file is read here first, all or nothing:
 * a bad line refuses the upload (400, naming the line) and nothing is stored or booked.
 */
export async function createImport(rt: Runtime, input: {
  organizerId: string; content: string; fileName?: string | null; format?: StatementFormat; csvMapping?: CsvMapping | null;
}): Promise<ImportRow> {
  const parsed = parseStatement(input.content, { ...(input.format ? { format: input.format } : {}), ...(input.csvMapping ? { csvMapping: input.csvMapping } : {}) });
  return insertImport(rt.db, {
    organizerId: input.organizerId, account: await organizerAccount(rt, input.organizerId), format: parsed.format,
    fileName: input.fileName ?? null, content: input.content, csvMapping: input.csvMapping ?? null, total: parsed.transactions.length,
  });
}

/**
 * The import job: read the stored statement, leave out what an earlier import stored, match the
 * rest against the organizer's orders, store each transaction under its key, then book every
 * match through core's payments port. Idempotent: a retry finds its transactions stored (unique
 * key) and books only what is not booked yet; a payment made for an allocation is remembered
 * before it is confirmed, so a retry confirms that payment instead of making another.
 */
export async function runImport(rt: Runtime, importId: string): Promise<ImportRow> {
  const imp = await readImport(rt.db, importId);
  if (!imp) throw new Error(`bank transfer import ${importId} does not exist`);
  if (imp.phase === 'finished' || imp.phase === 'aborted') return imp;
  await updateImport(rt.db, imp.id, { phase: 'running' });
  try {
    const parsed = parseStatement(imp.content, { format: imp.format, ...(imp.csvMapping ? { csvMapping: imp.csvMapping } : {}) });
    const known = await knownKeys(rt.db, imp, transactionKeys(parsed.transactions));
    const candidates = await candidateOrders(rt, imp.organizerId, parsed.transactions.map((t) => t.reference));
    const plan = planStatementImport<ImportCandidate>({ content: imp.content, format: imp.format, ...(imp.csvMapping ? { csvMapping: imp.csvMapping } : {}), knownKeys: known, orders: candidates });
    // A line another import of the same statement stored meanwhile (both uploaded at once) is
    // theirs to book: counted here as already imported.
    let storedElsewhere = 0;
    for (const p of plan.planned) {
      if (!(await insertTransaction(rt.db, imp, { key: p.key, transaction: p.transaction, ...stored(p.match) }))) {
        if (!(await keyStoredBy(rt.db, imp, p.key))) storedElsewhere += 1;
      }
    }
    await updateImport(rt.db, imp.id, { total: parsed.transactions.length, already_imported: plan.alreadyImported.length + storedElsewhere });
    for (const row of await unbookedOfImport(rt.db, imp.id)) {
      await bookTransaction(rt, row, 'import');
      await progress(rt, imp.id);
    }
    await progress(rt, imp.id);
    await updateImport(rt.db, imp.id, { phase: 'finished', finished: true });
  } catch (err) {
    // A refusal (a file that no longer parses) ends the import; anything else is retried by the queue.
    if (isKassaError(err) && err.status < 500) {
      await updateImport(rt.db, imp.id, { phase: 'aborted', error: err.message, finished: true });
    } else {
      await updateImport(rt.db, imp.id, { phase: 'queued', error: err instanceof Error ? err.message : String(err) });
      throw err;
    }
  }
  return (await readImport(rt.db, imp.id))!;
}

async function progress(rt: Runtime, importId: string): Promise<void> {
  const c = await countOfImport(rt.db, importId);
  await updateImport(rt.db, importId, { processed: c.stored, booked: c.booked, unmatched: c.unmatched });
}

/** The organizer's orders named in the references, as the matcher needs them. */
export async function candidateOrders(rt: Pick<PluginRuntime, 'payments'>, organizerId: string, references: readonly string[]): Promise<ImportCandidate[]> {
  const found = await rt.payments.ordersInText(organizerId, references);
  return found.map((f) => ({
    orderId: f.order.id, code: f.order.code, eventSlug: f.event.slug, currency: f.order.currency, pendingSum: f.pendingSum, standing: orderStanding(f.order.status),
  }));
}

function stored(match: MatchResult<ImportCandidate>): { state: 'matched' | 'unmatched'; reason: string | null; flags: string[]; allocations: StoredAllocation[] } {
  if (match.kind === 'unmatched') return { state: 'unmatched', reason: match.reason, flags: [], allocations: [] };
  const allocations = match.allocations.map((a) => ({ orderId: a.order.orderId, code: a.order.code, eventSlug: a.order.eventSlug, amount: a.amount, flags: [...a.flags] }));
  return { state: 'matched', reason: null, flags: [...new Set(allocations.flatMap((a) => a.flags))], allocations };
}

/**
 * Books one transaction's allocations: for each order, the payment for exactly that amount (the
 * open bank transfer payment when its amount fits, else a new one), remembered, then confirmed.
 * Core decides what the money does to the order and records partial, overpaid and closed-order
 * payments; the flags go onto the payment for the organizer.
 */
export async function bookTransaction(rt: Pick<PluginRuntime, 'db' | 'payments'>, row: TransactionRow, by: 'import' | 'organizer'): Promise<void> {
  for (const [i, a] of row.allocations.entries()) {
    const paymentId = a.paymentId ?? await allocationPayment(rt, row, i);
    await rt.payments.confirm(paymentId, {
      info: {
        transactionId: row.id, bookingDate: row.bookingDate, payerName: row.payerName, payerIban: row.payerIban, flags: [...a.flags], assignedBy: by,
      },
    });
  }
  await markBooked(rt.db, row.id);
}

/**
 * The payment allocation `index` books: one received for it, remembered first. Another run that
 * remembered its own in the meantime wins; ours, when it is a new attempt (not the order's open
 * one both found), is canceled, so the order shows one payment for the money, confirmed once.
 */
async function allocationPayment(rt: Pick<PluginRuntime, 'db' | 'payments'>, row: TransactionRow, index: number): Promise<string> {
  const a = row.allocations[index]!;
  const made = (await rt.payments.receivedPayment(a.orderId, { provider: PROVIDER, amount: { amount: a.amount, currency: row.currency } })).id;
  const booked = await recordAllocationPayment(rt.db, row.id, index, made);
  if (booked !== made) await rt.payments.cancel(made);
  return booked;
}

/** The job the upload enqueues (jobId `import-<id>`: enqueued once per upload). */
export const importJob = defineJob({
  name: IMPORT_JOB,
  payload: (raw): { importId: string } => {
    if (typeof raw.importId !== 'string') throw new Error('banktransfer import needs { importId }');
    return { importId: raw.importId };
  },
  attempts: 5,
  processor: async ({ importId }, rt: PluginRuntime) => {
    await runImport(rt, importId);
  },
});
