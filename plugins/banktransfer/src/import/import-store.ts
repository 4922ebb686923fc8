import type { PluginDb } from '@kassa/core';
import type { CsvMapping } from '../statement/csv-mapping';
import type { StatementFormat, StatementTransaction } from '../statement/transaction';

/** One uploaded statement and the import job's progress (table banktransfer_import). */
export interface ImportRow {
  readonly id: string;
  readonly organizerId: string;
  readonly account: string;
  readonly format: StatementFormat;
  readonly fileName: string | null;
  readonly content: string;
  readonly csvMapping: CsvMapping | null;
  /** queued → running → finished (or aborted with `error`). */
  readonly phase: 'queued' | 'running' | 'finished' | 'aborted';
  readonly total: number;
  readonly processed: number;
  readonly booked: number;
  readonly unmatched: number;
  readonly alreadyImported: number;
  readonly error: string | null;
  readonly createdAt: Date;
  readonly finishedAt: Date | null;
}

/** What to book on one order for a transaction; `paymentId` once the payment exists. */
export interface StoredAllocation {
  readonly orderId: string;
  readonly code: string;
  readonly eventSlug: string;
  readonly amount: number;
  readonly flags: readonly string[];
  readonly paymentId?: string;
}

/** One imported transaction (table banktransfer_transaction); also an entry of the unmatched list. */
export interface TransactionRow {
  readonly id: string;
  readonly organizerId: string;
  readonly importId: string;
  readonly key: string;
  readonly amount: number;
  readonly currency: string;
  readonly bookingDate: string;
  readonly payerName: string | null;
  readonly payerIban: string | null;
  readonly reference: string;
  readonly source: string;
  /** matched (the import books it), unmatched (the organizer decides), assigned (booked by hand), discarded. */
  readonly state: 'matched' | 'unmatched' | 'assigned' | 'discarded';
  /** Why it is unmatched, or why the organizer discarded it. */
  readonly reason: string | null;
  readonly flags: readonly string[];
  readonly allocations: readonly StoredAllocation[];
  readonly bookedAt: Date | null;
}

const importColumns = `id, organizer_id, account, format, file_name, content, csv_mapping, phase, total, processed, booked, unmatched,
  already_imported, error, created_at, finished_at`;

function toImport(r: Record<string, unknown>): ImportRow {
  return {
    id: String(r.id), organizerId: String(r.organizer_id), account: String(r.account), format: r.format as StatementFormat,
    fileName: (r.file_name as string | null) ?? null, content: String(r.content), csvMapping: (r.csv_mapping as CsvMapping | null) ?? null,
    phase: r.phase as ImportRow['phase'], total: Number(r.total), processed: Number(r.processed), booked: Number(r.booked),
    unmatched: Number(r.unmatched), alreadyImported: Number(r.already_imported), error: (r.error as string | null) ?? null,
    createdAt: new Date(r.created_at as string), finishedAt: r.finished_at ? new Date(r.finished_at as string) : null,
  };
}

const transactionColumns = `id, organizer_id, import_id, tx_key, amount::text AS amount, currency, to_char(booking_date, 'YYYY-MM-DD') AS booking_date,
  payer_name, payer_iban, reference, source, state, reason, flags, allocations, booked_at`;

function toTransaction(r: Record<string, unknown>): TransactionRow {
  return {
    id: String(r.id), organizerId: String(r.organizer_id), importId: String(r.import_id), key: String(r.tx_key), amount: Number(r.amount),
    currency: String(r.currency).trim(), bookingDate: String(r.booking_date), payerName: (r.payer_name as string | null) ?? null,
    payerIban: (r.payer_iban as string | null) ?? null, reference: String(r.reference), source: String(r.source),
    state: r.state as TransactionRow['state'], reason: (r.reason as string | null) ?? null, flags: (r.flags as string[] | null) ?? [],
    allocations: (r.allocations as StoredAllocation[] | null) ?? [], bookedAt: r.booked_at ? new Date(r.booked_at as string) : null,
  };
}

const uuid = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

export async function insertImport(db: PluginDb, input: {
  organizerId: string; account: string; format: StatementFormat; fileName: string | null; content: string; csvMapping: CsvMapping | null; total: number;
}): Promise<ImportRow> {
  const [r] = await db.query(
    `INSERT INTO banktransfer_import (organizer_id, account, format, file_name, content, csv_mapping, total)
     VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING ${importColumns}`,
    [input.organizerId, input.account, input.format, input.fileName, input.content, input.csvMapping ? JSON.stringify(input.csvMapping) : null, input.total],
  );
  return toImport(r!);
}

/** An import by id; with `organizerId`, only one of that organizer's (null otherwise: no probing of foreign ids). */
export async function readImport(db: PluginDb, id: string, organizerId?: string): Promise<ImportRow | null> {
  if (!uuid.test(id)) return null;
  const [r] = await db.query(`SELECT ${importColumns} FROM banktransfer_import WHERE id = $1`, [id]);
  if (!r || (organizerId !== undefined && String(r.organizer_id) !== organizerId)) return null;
  return toImport(r);
}

export async function recentImports(db: PluginDb, organizerId: string, limit = 20): Promise<ImportRow[]> {
  const rows = await db.query(`SELECT ${importColumns} FROM banktransfer_import WHERE organizer_id = $1 ORDER BY created_at DESC LIMIT $2`, [organizerId, limit]);
  return rows.map(toImport);
}

export async function updateImport(db: PluginDb, id: string, patch: Partial<Record<'phase' | 'error' | 'processed' | 'booked' | 'unmatched' | 'already_imported' | 'total', string | number | null>> & { finished?: boolean }): Promise<void> {
  const { finished, ...cols } = patch;
  const entries = Object.entries(cols);
  const sets = [...entries.map(([k], i) => `${k} = $${i + 2}`), ...(finished ? ['finished_at = now()'] : [])];
  if (sets.length === 0) return;
  await db.query(`UPDATE banktransfer_import SET ${sets.join(', ')} WHERE id = $1`, [id, ...entries.map(([, v]) => v)]);
}

/**
 * The keys of these transactions another import of the organizer already stored, whatever account
 * the settings named then: an organizer who changed the IBAN in the settings and uploads an old
 * statement again must not book it twice (a key is the bank's reference or a hash of the line, so
 * two accounts of one organizer practically never share one; if they did, the line shows as
 * "already imported", counted on the import, not booked twice).
 */
export async function knownKeys(db: PluginDb, imp: Pick<ImportRow, 'id' | 'organizerId'>, keys: readonly string[]): Promise<Set<string>> {
  const rows = await db.query<{ tx_key: string }>(
    'SELECT tx_key FROM banktransfer_transaction WHERE organizer_id = $1 AND tx_key = ANY($2::text[]) AND import_id <> $3',
    [imp.organizerId, [...keys], imp.id]);
  return new Set(rows.map((r) => r.tx_key));
}

/** Stores a transaction once: a second insert of its key (a concurrent or repeated import) stores nothing. */
export async function insertTransaction(db: PluginDb, imp: Pick<ImportRow, 'id' | 'organizerId' | 'account'>, input: {
  key: string; transaction: StatementTransaction; state: 'matched' | 'unmatched'; reason: string | null; flags: readonly string[]; allocations: readonly StoredAllocation[];
}): Promise<boolean> {
  const t = input.transaction;
  const rows = await db.query(
    `INSERT INTO banktransfer_transaction (organizer_id, account, tx_key, import_id, amount, currency, booking_date, payer_name, payer_iban,
       reference, bank_reference, source, state, reason, flags, allocations)
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16)
     ON CONFLICT ON CONSTRAINT banktransfer_transaction_key DO NOTHING RETURNING id`,
    [imp.organizerId, imp.account, input.key, imp.id, t.amount, t.currency, t.bookingDate, t.payerName, t.payerIban, t.reference, t.bankReference,
      t.source, input.state, input.reason, [...input.flags], JSON.stringify(input.allocations)],
  );
  return rows.length > 0;
}

/** Whether this import stored the key itself (an earlier run of it), rather than another import. */
export async function keyStoredBy(db: PluginDb, imp: Pick<ImportRow, 'id' | 'organizerId' | 'account'>, key: string): Promise<boolean> {
  const rows = await db.query('SELECT 1 FROM banktransfer_transaction WHERE organizer_id = $1 AND account = $2 AND tx_key = $3 AND import_id = $4', [imp.organizerId, imp.account, key, imp.id]);
  return rows.length > 0;
}

/** The transactions of one import still to book (matched, not booked yet), in statement order. */
export async function unbookedOfImport(db: PluginDb, importId: string): Promise<TransactionRow[]> {
  const rows = await db.query(
    `SELECT ${transactionColumns} FROM banktransfer_transaction
      WHERE import_id = $1 AND booked_at IS NULL AND state IN ('matched', 'assigned') ORDER BY created_at, id`, [importId]);
  return rows.map(toTransaction);
}

export async function countOfImport(db: PluginDb, importId: string): Promise<{ stored: number; booked: number; unmatched: number }> {
  const [r] = await db.query<{ stored: number; booked: number; unmatched: number }>(
    `SELECT count(*)::int AS stored, (count(*) FILTER (WHERE booked_at IS NOT NULL))::int AS booked,
            (count(*) FILTER (WHERE state = 'unmatched'))::int AS unmatched
       FROM banktransfer_transaction WHERE import_id = $1`, [importId]);
  return r ?? { stored: 0, booked: 0, unmatched: 0 };
}

/** A transaction of the organizer; null for another organizer's (or no such id). */
export async function readTransaction(db: PluginDb, id: string, organizerId: string): Promise<TransactionRow | null> {
  if (!uuid.test(id)) return null;
  const [r] = await db.query(`SELECT ${transactionColumns} FROM banktransfer_transaction WHERE id = $1 AND organizer_id = $2`, [id, organizerId]);
  return r ? toTransaction(r) : null;
}

export async function unmatchedTransactions(db: PluginDb, organizerId: string, limit = 200): Promise<TransactionRow[]> {
  const rows = await db.query(
    `SELECT ${transactionColumns} FROM banktransfer_transaction WHERE organizer_id = $1 AND state = 'unmatched' ORDER BY created_at, id LIMIT $2`,
    [organizerId, limit]);
  return rows.map(toTransaction);
}

/** Moves an unmatched transaction on (compare-and-set: a second click or a concurrent organizer finds it closed). */
export async function resolveUnmatched(db: PluginDb, id: string, organizerId: string, to: { state: 'assigned'; allocations: readonly StoredAllocation[]; flags: readonly string[] } | { state: 'discarded'; reason: string }): Promise<TransactionRow | null> {
  const rows = to.state === 'assigned'
    ? await db.query(
      `UPDATE banktransfer_transaction SET state = 'assigned', allocations = $3, flags = $4, resolved_at = now()
        WHERE id = $1 AND organizer_id = $2 AND state = 'unmatched' RETURNING ${transactionColumns}`,
      [id, organizerId, JSON.stringify(to.allocations), [...to.flags]])
    : await db.query(
      `UPDATE banktransfer_transaction SET state = 'discarded', reason = $3, resolved_at = now()
        WHERE id = $1 AND organizer_id = $2 AND state = 'unmatched' RETURNING ${transactionColumns}`,
      [id, organizerId, to.reason]);
  return rows[0] ? toTransaction(rows[0]) : null;
}

/**
 * Remembers the payment made for allocation `index`, before it is confirmed (a retry then confirms
 * that one), unless one is remembered already: answers the payment the allocation books, so two
 * runs of one import at once (a stalled job run again while the first still runs) book one.
 */
export async function recordAllocationPayment(db: PluginDb, transactionId: string, index: number, paymentId: string): Promise<string> {
  const won = await db.query(
    `UPDATE banktransfer_transaction SET allocations = jsonb_set(allocations, ARRAY[$2::text, 'paymentId'], to_jsonb($3::text))
      WHERE id = $1 AND allocations -> $4::int ->> 'paymentId' IS NULL RETURNING id`,
    [transactionId, String(index), paymentId, index]);
  if (won.length > 0) return paymentId;
  // A statement of its own: its snapshot sees what the other run committed while this one waited.
  const [r] = await db.query<{ payment_id: string | null }>(
    `SELECT allocations -> $2::int ->> 'paymentId' AS payment_id FROM banktransfer_transaction WHERE id = $1`, [transactionId, index]);
  return r?.payment_id ?? paymentId;
}

export async function markBooked(db: PluginDb, transactionId: string): Promise<void> {
  await db.query('UPDATE banktransfer_transaction SET booked_at = now() WHERE id = $1 AND booked_at IS NULL', [transactionId]);
}

export async function saveCsvMapping(db: PluginDb, organizerId: string, name: string, mapping: CsvMapping): Promise<void> {
  await db.query(
    `INSERT INTO banktransfer_csv_mapping (organizer_id, name, mapping) VALUES ($1, $2, $3)
     ON CONFLICT (organizer_id, name) DO UPDATE SET mapping = EXCLUDED.mapping, updated_at = now()`,
    [organizerId, name, JSON.stringify(mapping)]);
}

export async function csvMappings(db: PluginDb, organizerId: string): Promise<{ name: string; mapping: CsvMapping }[]> {
  return db.query<{ name: string; mapping: CsvMapping }>('SELECT name, mapping FROM banktransfer_csv_mapping WHERE organizer_id = $1 ORDER BY name', [organizerId]);
}
