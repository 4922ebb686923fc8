import { KassaError, formatMoney, organizerSettings, type PluginHttpRequest, type PluginHttpResponse, type PluginRuntime } from '@kassa/core';
import { BankTransferError } from '../errors';
import { formatIban } from '../iban';
import { orderReference } from '../reference';
import { buildPain001, type SepaRefund } from '../sepa/pain001';
import { pain001SchemaErrors } from '../sepa/pain001-schema';
import type { BankTransferSettings } from '../settings-schema';

const PROVIDER = 'banktransfer';
const PREFIX = '/plugins/banktransfer/control/refunds';

type InTransit = Awaited<ReturnType<PluginRuntime['payments']['refundsInTransit']>>[number];

function organizerOf(req: PluginHttpRequest<object, unknown>): string {
  if (!req.organizerId) throw new KassaError('AUTH_REQUIRED');
  return req.organizerId;
}

function isForm(req: PluginHttpRequest<object, unknown>): boolean {
  return String(req.headers['content-type'] ?? '').startsWith('application/x-www-form-urlencoded');
}

/** The organizer's bank transfer refunds waiting to be paid out (in transit), oldest first. */
function openRefunds(rt: PluginRuntime, organizerId: string): Promise<InTransit[]> {
  return rt.payments.refundsInTransit({ organizerId, provider: PROVIDER });
}

function payee(r: InTransit): { name: string | null; iban: string | null } {
  return {
    name: typeof r.info.payerName === 'string' && r.info.payerName ? r.info.payerName : null,
    iban: typeof r.info.payerIban === 'string' && r.info.payerIban ? r.info.payerIban : null,
  };
}

function refundView(r: InTransit): Record<string, unknown> {
  const p = payee(r);
  return {
    id: r.refund.id, orderId: r.refund.orderId, orderCode: r.orderCode, reference: orderReference(r.eventSlug, r.orderCode),
    amount: r.refund.amount, currency: r.refund.currency, amountFormatted: formatMoney({ amount: r.refund.amount, currency: r.refund.currency }, 'en'),
    payerName: p.name, payerIban: p.iban ? formatIban(p.iban) : null, endToEndId: `KASSA-REFUND-${sepaRefundRef(r.refund.id)}`,
    orderUrl: `/control/orders/${r.refund.orderId}`, doneUrl: `${PREFIX}/${r.refund.id}/done`, cancelUrl: `${PREFIX}/${r.refund.id}/cancel`,
  };
}

/**
 * GET /plugins/banktransfer/control/refunds — the refunds to pay out by bank transfer: select some
 * (or all) for the SEPA file, mark each done once the bank executed it, or cancel it (not paid out
 * after all). JSON with `Accept: application/json`.
 */
export async function handleRefundsPage(req: PluginHttpRequest<Record<never, string>>, rt: PluginRuntime): Promise<PluginHttpResponse> {
  const organizerId = organizerOf(req);
  const refunds = (await openRefunds(rt, organizerId)).map(refundView);
  if (String(req.headers.accept ?? '').includes('application/json')) return { status: 200, body: { refunds } };
  const tomorrow = new Date(rt.clock.now().getTime() + 86_400_000).toISOString().slice(0, 10);
  return {
    title: 'Bank transfer refunds',
    view: { partial: 'banktransfer/refunds', data: { refunds, exportUrl: `${PREFIX}/sepa.xml`, executionDate: tomorrow } },
  };
}

/** The `refund` query values (one or many ids); empty when none is given. */
function selected(req: PluginHttpRequest<Record<never, string>>): string[] {
  const raw = req.query.refund;
  const values = raw === undefined ? [] : Array.isArray(raw) ? raw : [raw];
  return [...new Set(values.flatMap((v) => v.split(',')).map((v) => v.trim()).filter(Boolean))];
}

/**
 * GET /plugins/banktransfer/control/refunds/sepa.xml?executionDate=YYYY-MM-DD[&refund=<id>…] — the
 * selected refunds (every one waiting, when none is selected) as one SEPA credit transfer file
 * (pain.001.001.03) from the organizer's account, checked against the schema before it is handed
 * out. Changes nothing: the file's message id comes from the refund ids, so the bank refuses a
 * second upload of the same refunds; each refund is marked done once the bank executed it.
 */
export async function handleSepaExport(req: PluginHttpRequest<Record<never, string>>, rt: PluginRuntime): Promise<PluginHttpResponse> {
  const organizerId = organizerOf(req);
  const executionDate = typeof req.query.executionDate === 'string' && req.query.executionDate ? req.query.executionDate : rt.clock.now().toISOString().slice(0, 10);
  if (!/^\d{4}-\d{2}-\d{2}$/.test(executionDate) || Number.isNaN(Date.parse(`${executionDate}T00:00:00Z`))) {
    throw new KassaError('VALIDATION_FAILED', { field: 'executionDate', detail: `"${executionDate}" is not a date (YYYY-MM-DD)` });
  }
  const s = await rt.settings.resolve(organizerSettings(organizerId), `payment.${PROVIDER}`) as Partial<BankTransferSettings>;
  if (!s.iban || !s.accountHolder) throw new BankTransferError('BANKTRANSFER_SEPA_INVALID', { detail: 'the organizer\'s account (account holder and IBAN) is not set' });
  const open = await openRefunds(rt, organizerId);
  const wanted = selected(req);
  // Only refunds of this organizer that wait to be paid out; any other id is "not found" (no probing).
  const unknown = wanted.filter((id) => !open.some((r) => r.refund.id === id));
  if (unknown.length > 0) throw new KassaError('NOT_FOUND', { entity: `Refund ${unknown.join(', ')}` });
  const chosen = wanted.length > 0 ? open.filter((r) => wanted.includes(r.refund.id)) : open;
  const refunds: SepaRefund[] = chosen.map((r) => ({
    // An end-to-end id holds 35 characters: "KASSA-REFUND-" and the refund id's first 22 hex digits (84 random bits).
    refundId: sepaRefundRef(r.refund.id),
    amount: { amount: r.refund.amount, currency: r.refund.currency },
    creditorName: payee(r).name ?? 'Unknown',
    creditorIban: payee(r).iban ?? '',
    remittance: `Refund ${orderReference(r.eventSlug, r.orderCode)}`,
  }));
  const file = buildPain001({
    debtor: { name: s.accountHolder, iban: s.iban, ...(s.bic ? { bic: s.bic } : {}) }, refunds, createdAt: rt.clock.now(), executionDate,
  });
  // A file the bank would refuse is never handed out (it would be a bug here, not the organizer's input).
  const schemaErrors = await pain001SchemaErrors(file.xml);
  if (schemaErrors.length > 0) throw new BankTransferError('BANKTRANSFER_SEPA_INVALID', { detail: `the file does not follow pain.001.001.03: ${schemaErrors.slice(0, 3).join('; ')}` });
  return {
    status: 200,
    headers: { 'content-type': 'application/xml; charset=utf-8', 'content-disposition': `attachment; filename="${file.messageId}.xml"` },
    body: file.xml,
  };
}

/**
 * A refund of this organizer that waits to be paid out. The host has answered NOT_FOUND for
 * another organizer's refund before the handler runs (the routes' `oneTime: { refundParam }`), so
 * one that is not waiting was settled meanwhile (another tab, the order page): refused, clearly.
 */
async function openRefundOf(rt: PluginRuntime, organizerId: string, refundId: string): Promise<InTransit> {
  const found = (await openRefunds(rt, organizerId)).find((r) => r.refund.id === refundId);
  if (!found) throw new BankTransferError('BANKTRANSFER_REFUND_SETTLED', { refund: refundId });
  return found;
}

/** POST /plugins/banktransfer/control/refunds/:refundId/done — the bank executed it: the refund is done (once per page key: `oneTime`). */
export async function handleRefundDone(req: PluginHttpRequest<{ refundId: string }>, rt: PluginRuntime): Promise<PluginHttpResponse> {
  const found = await openRefundOf(rt, organizerOf(req), req.params.refundId);
  const done = await rt.payments.markRefundDone(found.refund.id, { info: { sepaExported: true } });
  return isForm(req) ? { redirect: PREFIX } : { status: 200, body: { id: done.id, state: done.state } };
}

/** POST /plugins/banktransfer/control/refunds/:refundId/cancel — not paid out after all: the refund is canceled (the money counts as kept). */
export async function handleRefundCancel(req: PluginHttpRequest<{ refundId: string }>, rt: PluginRuntime): Promise<PluginHttpResponse> {
  const found = await openRefundOf(rt, organizerOf(req), req.params.refundId);
  const canceled = await rt.payments.markRefundCanceled(found.refund.id);
  return isForm(req) ? { redirect: PREFIX } : { status: 200, body: { id: canceled.id, state: canceled.state } };
}

/** The refund's reference in the SEPA file (its end-to-end id after "KASSA-REFUND-"). */
export function sepaRefundRef(refundId: string): string {
  return refundId.replace(/-/g, '').slice(0, 22).toUpperCase();
}
