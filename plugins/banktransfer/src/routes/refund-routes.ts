import { KassaError, organizerSettings, type PluginHttpRequest, type PluginHttpResponse, type PluginRuntime } from '@kassa/core';
import { BankTransferError } from '../errors';
import { orderReference } from '../reference';
import { buildPain001, type SepaRefund } from '../sepa/pain001';
import type { BankTransferSettings } from '../settings-schema';

const PROVIDER = 'banktransfer';

function organizerOf(req: PluginHttpRequest<object, unknown>): string {
  if (!req.organizerId) throw new KassaError('AUTH_REQUIRED');
  return req.organizerId;
}

/**
 * GET /plugins/banktransfer/control/refunds/sepa.xml?executionDate=YYYY-MM-DD — the organizer's bank
 * transfer refunds waiting to be paid out (in transit), as one SEPA credit transfer file
 * (pain.001.001.03) from the organizer's account. Changes nothing: the file's message id comes from
 * the refund ids, so the bank refuses a second upload of the same refunds; each refund is marked
 * done once the bank has executed it (POST …/refunds/:refundId/done).
 */
export async function handleSepaExport(req: PluginHttpRequest<Record<never, string>>, rt: PluginRuntime): Promise<PluginHttpResponse> {
  const organizerId = organizerOf(req);
  const executionDate = typeof req.query.executionDate === 'string' && req.query.executionDate ? req.query.executionDate : rt.clock.now().toISOString().slice(0, 10);
  const s = await rt.settings.resolve(organizerSettings(organizerId), `payment.${PROVIDER}`) as Partial<BankTransferSettings>;
  if (!s.iban || !s.accountHolder) throw new BankTransferError('BANKTRANSFER_SEPA_INVALID', { detail: 'the organizer\'s account (account holder and IBAN) is not set' });
  const open = await rt.payments.refundsInTransit({ organizerId, provider: PROVIDER });
  const refunds: SepaRefund[] = open.map((r) => ({
    // An end-to-end id holds 35 characters: "KASSA-REFUND-" and the refund id's first 22 hex digits (84 random bits).
    refundId: sepaRefundRef(r.refund.id),
    amount: { amount: r.refund.amount, currency: r.refund.currency },
    creditorName: typeof r.info.payerName === 'string' && r.info.payerName ? r.info.payerName : 'Unknown',
    creditorIban: typeof r.info.payerIban === 'string' ? r.info.payerIban : '',
    remittance: `Refund ${orderReference(r.eventSlug, r.orderCode)}`,
  }));
  const file = buildPain001({
    debtor: { name: s.accountHolder, iban: s.iban, ...(s.bic ? { bic: s.bic } : {}) }, refunds, createdAt: rt.clock.now(), executionDate,
  });
  return {
    status: 200,
    headers: { 'content-type': 'application/xml; charset=utf-8', 'content-disposition': `attachment; filename="${file.messageId}.xml"` },
    body: file.xml,
  };
}

/** POST /plugins/banktransfer/control/refunds/:refundId/done — the bank executed it: the refund is done. */
export async function handleRefundDone(req: PluginHttpRequest<{ refundId: string }>, rt: PluginRuntime): Promise<PluginHttpResponse> {
  const organizerId = organizerOf(req);
  // Only a refund of this organizer that waits to be paid out (another organizer's is "not found").
  const found = (await rt.payments.refundsInTransit({ organizerId, provider: PROVIDER })).find((r) => r.refund.id === req.params.refundId);
  if (!found) throw new KassaError('NOT_FOUND', { entity: `Refund ${req.params.refundId}` });
  const done = await rt.payments.markRefundDone(found.refund.id, { info: { sepaExported: true } });
  const form = String(req.headers['content-type'] ?? '').startsWith('application/x-www-form-urlencoded');
  return form ? { redirect: `/control/orders/${done.orderId}` } : { status: 200, body: { id: done.id, state: done.state } };
}

/** The refund's reference in the SEPA file (its end-to-end id after "KASSA-REFUND-"). */
export function sepaRefundRef(refundId: string): string {
  return refundId.replace(/-/g, '').slice(0, 22).toUpperCase();
}
