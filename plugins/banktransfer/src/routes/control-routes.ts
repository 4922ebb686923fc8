import { KassaError, formatMoney, type PluginHttpRequest, type PluginHttpResponse, type PluginRuntime } from '@kassa/core';
import { BankTransferError } from '../errors';
import { findOrderCodes } from '../matching/find-order-codes';
import { allocate } from '../matching/match-transactions';
import { BANKTRANSFER_ROUTE_PREFIX } from '../banktransfer-provider';
import { bookTransaction, candidateOrders, createImport, IMPORT_JOB } from '../import/import-job';
import {
  csvMappings, readImport, readTransaction, recentImports, resolveUnmatched, saveCsvMapping, unmatchedTransactions, type ImportRow, type TransactionRow,
} from '../import/import-store';
import { parseCsvMapping, type CsvMapping } from '../statement/csv-mapping';
import { decodeStatementBytes } from '../statement/parse-statement';
import type { StatementFormat } from '../statement/transaction';
import { isMultipart, readMultipart } from './multipart-upload';

type Runtime = PluginRuntime;

/** Body of the upload: a JSON call or the upload form (the statement pasted or read by the page). */
export type UploadBody = {
  statement?: unknown; fileName?: unknown; format?: unknown;
  /** A saved CSV mapping by name, or a new one (object, or JSON text from the form) saved under `saveMappingAs`. */
  mapping?: unknown; csvMapping?: unknown; saveMappingAs?: unknown;
};
export type AssignBody = { code?: unknown };
export type DiscardBody = { reason?: unknown };
export type MappingBody = { name?: unknown; mapping?: unknown };

const formats: readonly StatementFormat[] = ['camt053', 'mt940', 'csv'];

function organizerOf(req: PluginHttpRequest<object, unknown>): string {
  if (!req.organizerId) throw new KassaError('AUTH_REQUIRED');
  return req.organizerId;
}

/** A form post goes on to a page; a JSON (or raw upload) call gets JSON. */
function isForm(req: PluginHttpRequest<object, unknown>): boolean {
  return String(req.headers['content-type'] ?? '').startsWith('application/x-www-form-urlencoded');
}

/** JSON for API calls (no control session: `isAdmin` is only set on control routes) and for `Accept: application/json`. */
function wantsJson(req: PluginHttpRequest<object, unknown>): boolean {
  return req.isAdmin === undefined || String(req.headers.accept ?? '').includes('application/json');
}

function text(value: unknown): string | undefined {
  return typeof value === 'string' && value.trim() !== '' ? value : undefined;
}

function importView(i: ImportRow): Record<string, unknown> {
  return {
    id: i.id, format: i.format, fileName: i.fileName, phase: i.phase, total: i.total, processed: i.processed, booked: i.booked,
    unmatched: i.unmatched, alreadyImported: i.alreadyImported, error: i.error, createdAt: i.createdAt.toISOString(),
    finishedAt: i.finishedAt?.toISOString() ?? null, url: `${BANKTRANSFER_ROUTE_PREFIX}/control/imports/${i.id}`,
  };
}

function transactionView(t: TransactionRow): Record<string, unknown> {
  return {
    id: t.id, amount: t.amount, currency: t.currency, amountFormatted: formatMoney({ amount: t.amount, currency: t.currency }, 'en'), bookingDate: t.bookingDate, payerName: t.payerName, payerIban: t.payerIban,
    reference: t.reference, source: t.source, state: t.state, reason: t.reason, flags: t.flags,
    orders: t.allocations.map((a) => ({ orderId: a.orderId, code: a.code, amount: a.amount, paymentId: a.paymentId ?? null })),
    assignUrl: `${BANKTRANSFER_ROUTE_PREFIX}/control/transactions/${t.id}/assign`,
    discardUrl: `${BANKTRANSFER_ROUTE_PREFIX}/control/transactions/${t.id}/discard`,
  };
}

/** The CSV mapping of an upload: a saved one by name, or a new one (checked; `saveAs` when it is to be remembered). */
async function mappingOf(rt: Runtime, organizerId: string, body: UploadBody): Promise<{ mapping: CsvMapping | null; saveAs?: string }> {
  const raw = typeof body.csvMapping === 'string' && body.csvMapping.trim() ? parseJson(body.csvMapping, 'csvMapping') : body.csvMapping;
  if (raw !== undefined && raw !== null && raw !== '') {
    const name = text(body.saveMappingAs)?.trim();
    return { mapping: parseCsvMapping(raw), ...(name ? { saveAs: name.slice(0, 100) } : {}) };
  }
  const name = text(body.mapping);
  if (!name) return { mapping: null };
  const saved = (await csvMappings(rt.db, organizerId)).find((m) => m.name === name);
  if (!saved) throw new KassaError('NOT_FOUND', { entity: `CSV mapping ${name}` });
  return { mapping: saved.mapping };
}

function parseJson(value: string, field: string): unknown {
  try {
    return JSON.parse(value);
  } catch {
    throw new BankTransferError('BANKTRANSFER_CSV_MAPPING_INVALID', { detail: `${field} is not valid JSON` });
  }
}

/** GET /plugins/banktransfer/control/imports — the upload form, recent imports, the saved CSV mappings. */
export async function handleImportsPage(req: PluginHttpRequest<Record<never, string>>, rt: Runtime): Promise<PluginHttpResponse> {
  const organizerId = organizerOf(req);
  const [imports, mappings, unmatched] = await Promise.all([recentImports(rt.db, organizerId), csvMappings(rt.db, organizerId), unmatchedTransactions(rt.db, organizerId)]);
  return {
    title: 'Bank statements',
    view: {
      partial: 'banktransfer/imports',
      data: {
        uploadUrl: `${BANKTRANSFER_ROUTE_PREFIX}/control/imports`, unmatchedUrl: `${BANKTRANSFER_ROUTE_PREFIX}/control/unmatched`,
        refundsUrl: `${BANKTRANSFER_ROUTE_PREFIX}/control/refunds`,
        imports: imports.map(importView), mappings: mappings.map((m) => m.name), unmatchedCount: unmatched.length,
      },
    },
  };
}

/**
 * POST /plugins/banktransfer/control/imports — uploads a statement. The body is a multipart form
 * (the file, with the fields below), JSON or a url-encoded form
 * ({ statement, fileName?, format?, mapping? | csvMapping + saveMappingAs? }) or the file's bytes
 * (any other content type; `?mapping=` names a saved CSV mapping). The format is detected from the
 * content. A file that cannot be read is refused (400, naming the line) and nothing is stored;
 * otherwise the import is stored and its job enqueued (202).
 */
export async function handleUpload(req: PluginHttpRequest<Record<never, string>, UploadBody>, rt: Runtime): Promise<PluginHttpResponse> {
  const organizerId = organizerOf(req);
  const { body, content } = await uploadOf(req);
  if (!content) throw new KassaError('VALIDATION_FAILED', { field: 'statement', detail: 'the statement file is empty' });
  const format = text(body.format);
  if (format !== undefined && !formats.includes(format as StatementFormat)) {
    throw new KassaError('VALIDATION_FAILED', { field: 'format', detail: `format must be one of ${formats.join(', ')}` });
  }
  const { mapping: csvMapping, saveAs } = await mappingOf(rt, organizerId, body);
  const imp = await createImport(rt, {
    organizerId, content, fileName: text(body.fileName)?.slice(0, 255) ?? null, csvMapping, ...(format ? { format: format as StatementFormat } : {}),
  });
  // Remembered once the file read with it (a mapping that fails on the bank's file is not kept); as the mapping page, admins only.
  if (saveAs && csvMapping && req.isAdmin !== false) await saveCsvMapping(rt.db, organizerId, saveAs, csvMapping);
  await rt.enqueue(IMPORT_JOB, { importId: imp.id }, { jobId: `import-${imp.id}` });
  const view = importView(imp);
  return isForm(req) ? { redirect: String(view.url) } : { status: 202, body: view };
}

/**
 * The upload's fields and statement text: from a multipart form (the file part, else the
 * `statement` field), a JSON or url-encoded body (`statement`), or the bytes themselves.
 */
async function uploadOf(req: PluginHttpRequest<Record<never, string>, UploadBody>): Promise<{ body: UploadBody; content: string | undefined }> {
  const contentType = String(req.headers['content-type'] ?? '');
  if (isMultipart(contentType)) {
    const upload = await readMultipart(contentType, req.rawBody);
    const body: UploadBody = { ...req.query, ...upload.fields };
    // An empty file part is a form sent with no file chosen: the pasted `statement` then counts.
    if (upload.file && upload.file.bytes.length > 0) {
      return { body: { ...body, fileName: text(upload.fields.fileName) ?? upload.file.fileName ?? undefined }, content: decodeStatementBytes(upload.file.bytes) };
    }
    return { body, content: text(body.statement) };
  }
  if (req.body !== undefined && req.body !== null && typeof req.body === 'object') return { body: req.body, content: text(req.body.statement) };
  const body: UploadBody = { mapping: req.query.mapping, fileName: req.query.fileName, format: req.query.format };
  return { body, content: req.rawBody.length > 0 ? decodeStatementBytes(req.rawBody) : undefined };
}

/** GET /plugins/banktransfer/control/imports/:importId — the import's progress (JSON with `Accept: application/json`). */
export async function handleImportStatus(req: PluginHttpRequest<{ importId: string }>, rt: Runtime): Promise<PluginHttpResponse> {
  const organizerId = organizerOf(req);
  const imp = await readImport(rt.db, req.params.importId, organizerId);
  if (!imp) throw new KassaError('NOT_FOUND', { entity: `Import ${req.params.importId}` });
  if (wantsJson(req)) return { status: 200, body: importView(imp) };
  return {
    title: 'Statement import',
    view: { partial: 'banktransfer/import-status', data: { ...importView(imp), running: imp.phase === 'queued' || imp.phase === 'running', unmatchedUrl: `${BANKTRANSFER_ROUTE_PREFIX}/control/unmatched` } },
  };
}

/** GET /plugins/banktransfer/control/unmatched — transfers no order was found for; assign or discard each. */
export async function handleUnmatched(req: PluginHttpRequest<Record<never, string>>, rt: Runtime): Promise<PluginHttpResponse> {
  const organizerId = organizerOf(req);
  const rows = (await unmatchedTransactions(rt.db, organizerId)).map(transactionView);
  if (wantsJson(req)) return { status: 200, body: { transactions: rows } };
  return { title: 'Unmatched transfers', view: { partial: 'banktransfer/unmatched', data: { transactions: rows, importsUrl: `${BANKTRANSFER_ROUTE_PREFIX}/control/imports` } } };
}

/**
 * POST /plugins/banktransfer/control/transactions/:transactionId/assign — body { code }: the order
 * code or the full reference ("DEMO-ABC12"), an order of the signed-in organizer. Books the whole
 * transfer on that order (flagged partial, overpaid or closed as the import would). A `oneTime`
 * route: the host has claimed the page's key, so a repeat of this form never gets here; a page
 * shown before the line was settled finds it closed (409) and the host gives the key back.
 */
export async function handleAssign(req: PluginHttpRequest<{ transactionId: string }, AssignBody>, rt: Runtime): Promise<PluginHttpResponse> {
  const organizerId = organizerOf(req);
  const code = text(req.body?.code)?.trim();
  if (!code) throw new KassaError('VALIDATION_FAILED', { field: 'code', detail: 'the order code is required' });
  const found0 = await readTransaction(rt.db, req.params.transactionId, organizerId);
  // Assigned before but its booking did not finish (an error half-way): book the rest, once.
  if (found0 && found0.state === 'assigned' && !found0.bookedAt) {
    await bookTransaction(rt, found0, 'organizer');
    return isForm(req) ? { redirect: `${BANKTRANSFER_ROUTE_PREFIX}/control/unmatched` } : { status: 200, body: transactionView(found0) };
  }
  const tx = await unmatchedOf(rt, req.params.transactionId, organizerId);
  const compact = code.toUpperCase().replace(/[\s\-_]+/g, '');
  const candidates = await candidateOrders(rt, organizerId, [code]);
  const found = findOrderCodes(code, candidates).filter((o) => compact === o.code.toUpperCase() || compact === `${o.eventSlug.toUpperCase().replace(/[\s\-_]+/g, '')}${o.code.toUpperCase()}`);
  if (found.length !== 1) throw new KassaError('NOT_FOUND', { entity: `Order ${code}` });
  const order = found[0]!;
  if (order.currency !== tx.currency) {
    throw new KassaError('VALIDATION_FAILED', { field: 'code', detail: `order ${order.code} is in ${order.currency}, the transfer in ${tx.currency}` });
  }
  const a = allocate(order, tx.amount, Math.max(order.pendingSum, 0));
  const flags = [...a.flags];
  const assigned = await resolveUnmatched(rt.db, tx.id, organizerId, {
    state: 'assigned', flags, allocations: [{ orderId: order.orderId, code: order.code, eventSlug: order.eventSlug, amount: tx.amount, flags }],
  });
  if (!assigned) throw new BankTransferError('BANKTRANSFER_TRANSACTION_CLOSED', { transaction: tx.id, state: 'assigned or discarded' });
  await bookTransaction(rt, assigned, 'organizer');
  return isForm(req) ? { redirect: `${BANKTRANSFER_ROUTE_PREFIX}/control/unmatched` } : { status: 200, body: { ...transactionView(assigned), flags } };
}

/** POST /plugins/banktransfer/control/transactions/:transactionId/discard — body { reason }: not a payment for an order (kept, with the reason). */
export async function handleDiscard(req: PluginHttpRequest<{ transactionId: string }, DiscardBody>, rt: Runtime): Promise<PluginHttpResponse> {
  const organizerId = organizerOf(req);
  const reason = text(req.body?.reason)?.trim();
  if (!reason) throw new KassaError('VALIDATION_FAILED', { field: 'reason', detail: 'say why the transfer is discarded' });
  const tx = await unmatchedOf(rt, req.params.transactionId, organizerId);
  const discarded = await resolveUnmatched(rt.db, tx.id, organizerId, { state: 'discarded', reason: reason.slice(0, 500) });
  if (!discarded) throw new BankTransferError('BANKTRANSFER_TRANSACTION_CLOSED', { transaction: tx.id, state: 'assigned or discarded' });
  return isForm(req) ? { redirect: `${BANKTRANSFER_ROUTE_PREFIX}/control/unmatched` } : { status: 200, body: transactionView(discarded) };
}

/** POST /plugins/banktransfer/control/csv-mappings — body { name, mapping }: remembers a bank's CSV columns (admins only). */
export async function handleSaveMapping(req: PluginHttpRequest<Record<never, string>, MappingBody>, rt: Runtime): Promise<PluginHttpResponse> {
  const organizerId = organizerOf(req);
  if (req.isAdmin !== true) throw new KassaError('NOT_FOUND', { entity: 'Page' });
  const name = text(req.body?.name)?.trim();
  if (!name) throw new KassaError('VALIDATION_FAILED', { field: 'name', detail: 'name the bank this mapping is for' });
  const raw = typeof req.body?.mapping === 'string' ? parseJson(req.body.mapping, 'mapping') : req.body?.mapping;
  await saveCsvMapping(rt.db, organizerId, name.slice(0, 100), parseCsvMapping(raw));
  return isForm(req) ? { redirect: `${BANKTRANSFER_ROUTE_PREFIX}/control/imports` } : { status: 201, body: { name } };
}

/** An unmatched transaction of the organizer: another organizer's is "not found"; a resolved one is closed. */
async function unmatchedOf(rt: Runtime, id: string, organizerId: string): Promise<TransactionRow> {
  const tx = await readTransaction(rt.db, id, organizerId);
  if (!tx) throw new KassaError('NOT_FOUND', { entity: `Transaction ${id}` });
  if (tx.state !== 'unmatched') throw new BankTransferError('BANKTRANSFER_TRANSACTION_CLOSED', { transaction: id, state: tx.state });
  return tx;
}
