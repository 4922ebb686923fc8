import type { PluginHttpResponse } from '@kassa/core';
import { runPluginConformance, type PluginConformanceContext } from '@kassa/testing';
import { createBankTransferPlugin, importJob } from '../../src';

/** A one-line CAMT.053 statement: a credit of `amountMinor` EUR cents with `reference`. */
function camt(reference: string, amountMinor: number, bankRef: string): string {
  return `<?xml version="1.0" encoding="UTF-8"?>
<Document xmlns="urn:iso:std:iso:20022:tech:xsd:camt.053.001.02"><BkToCstmrStmt><GrpHdr><MsgId>conf</MsgId><CreDtTm>2030-03-01T09:00:00</CreDtTm></GrpHdr>
<Stmt><Id>1</Id><Acct><Id><IBAN>DE89370400440532013000</IBAN></Id></Acct>
<Ntry><Amt Ccy="EUR">${(amountMinor / 100).toFixed(2)}</Amt><CdtDbtInd>CRDT</CdtDbtInd><Sts>BOOK</Sts><BookgDt><Dt>2030-03-01</Dt></BookgDt><AcctSvcrRef>${bankRef}</AcctSvcrRef>
<NtryDtls><TxDtls><RmtInf><Ustrd>${reference}</Ustrd></RmtInf></TxDtls></NtryDtls></Ntry>
</Stmt></BkToCstmrStmt></Document>`;
}

const quiet = { info: () => undefined, warn: () => undefined, error: () => undefined };

/**
 * Upload a statement naming the suite's fresh order, then run the job the upload enqueued with
 * the payload it was given: the order's pending bank transfer payment ends confirmed.
 */
async function uploadThenImport(ctx: PluginConformanceContext, res: PluginHttpResponse): Promise<void> {
  expect(res).toMatchObject({ status: 202, body: { phase: 'queued', total: 1 } });
  const [order] = await ctx.dataSource.query(
    'SELECT o.code, o.organizer_id, e.slug, p.amount::int AS amount FROM order_payment p JOIN kassa_order o ON o.id = p.order_id JOIN event e ON e.id = o.event_id WHERE p.id = $1',
    [ctx.paymentId]);
  const plugin = createBankTransferPlugin();
  const rt = ctx.runtimes.runtime(plugin.name, { log: quiet, enqueue: async () => undefined });
  const upload = plugin.routes!.find((r) => r.method === 'POST' && r.path === '/control/imports')!;
  const answered = await upload.handler({
    method: 'POST', params: {}, query: {}, headers: { 'content-type': 'application/json' }, rawBody: Buffer.alloc(0), organizerId: order.organizer_id,
    body: { statement: camt(`${order.slug}-${order.code}`, order.amount, `conf-${order.code}`) },
  }, rt);
  const importId = ((answered as { body: { id: string } }).body).id;
  await importJob.processor({ importId }, { ...rt, attempt: 1 });
  const { payment } = await ctx.core.payments.loadPayment(ctx.paymentId);
  expect(payment.state).toBe('confirmed');
}

runPluginConformance(createBankTransferPlugin, {
  provider: 'banktransfer',
  providerSettings: { accountHolder: 'Winterfest e.V.', iban: 'DE89370400440532013000' },
  routes: {
    upload: {
      method: 'POST', path: '/control/imports', expectStatus: 202,
      request: (ctx) => ({
        organizerId: ctx.shop.organizer.id, headers: { 'content-type': 'application/json' },
        body: { statement: camt('Membership fee', 500, `conf-fee-${ctx.paymentId}`) },
      }),
      verify: uploadThenImport,
    },
    foreignImport: {
      method: 'GET', path: '/control/imports/:importId', expectStatus: 404,
      request: (ctx) => ({ organizerId: ctx.shop.organizer.id, params: { importId: ctx.paymentId } }),
    },
  },
});
