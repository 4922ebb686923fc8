// A complete plugin built only from @kassa/core (the plugin port): the example of
// docs/writing-a-plugin.md, and the plugin the plugin conformance suite runs against itself.
import {
  BasePaymentProvider, defineErrors, defineJob, defineMigration, definePlugin, defineRoute, paymentMachine, pluginError,
  type PaymentCallInput, type PaymentOutcome, type Plugin, type PluginHttpRequest, type PluginHttpResponse, type PluginRuntime,
  type PluginSetupContext, type ProviderContext,
} from '@kassa/core';

/** Acme's own error codes, prefixed with its name. */
export const acmeErrors = defineErrors({
  ACME_PAYMENT_UNKNOWN: { status: 404, message: 'Acme knows no payment {payment}', guidance: 'Check the payment id Acme sent.' },
});

/** A provider that hands the payment to Acme, which confirms it later by calling the notify route. */
export class AcmeProvider extends BasePaymentProvider {
  readonly identifier = 'acme';
  readonly verboseName = 'Acme Pay';
  override readonly executePaymentNeedsUser = false;

  async executePayment(_ctx: ProviderContext, call: PaymentCallInput): Promise<PaymentOutcome> {
    return { kind: 'pending', info: { acmeRef: `acme-${call.payment.id}` } };
  }
}

/** Acme's own table: one row per notice received. */
export const acmeInit = defineMigration({
  name: 'AcmeInit1766200000000',
  async up(db) {
    await db.query(`CREATE TABLE acme_notice (id bigserial PRIMARY KEY, payment_id uuid NOT NULL, kind text NOT NULL, received_at timestamptz NOT NULL DEFAULT now())`);
  },
  async down(db) {
    await db.query('DROP TABLE acme_notice');
  },
});

/** What Acme keeps per host: notices counted since start, closed with the host. */
export interface AcmeState {
  notices: number;
  closed: boolean;
  close(): Promise<void>;
}

type AcmeRuntime = PluginRuntime<AcmeState>;

/**
 * POST /plugins/acme/notify/:paymentId — Acme says the money arrived: record the notice in our own
 * table under the payment's lock, confirm through core, and tell the organizer.
 */
export async function handleNotify(req: PluginHttpRequest<{ paymentId: string }>, rt: AcmeRuntime): Promise<PluginHttpResponse> {
  const found = await rt.payments.get(req.params.paymentId);
  if (!found || found.payment.provider !== 'acme') throw pluginError(acmeErrors, 'ACME_PAYMENT_UNKNOWN', { payment: req.params.paymentId });
  await rt.payments.withLock(found.payment.id, async (tx) => {
    await tx.query('INSERT INTO acme_notice (payment_id, kind) VALUES ($1, $2)', [found.payment.id, 'paid']);
    await rt.payments.recordEvent(found.payment.id, { action: 'kassa.acme.notified', data: { kind: 'paid' }, outbox: { topic: 'acme.notified', payload: { kind: 'paid' } } }, tx);
  });
  rt.state.notices += 1;
  // Core decides: a payment that is no longer open is left alone by its machine.
  const confirmed = paymentMachine.is('counting', found.payment.state) ? null : await rt.payments.confirm(found.payment.id, { info: { notified: true } });
  await rt.enqueue('sweep', { paymentId: found.payment.id }, { jobId: `sweep-${found.payment.id}` });
  return { status: 200, body: { outcome: confirmed?.kind ?? 'already confirmed', orderUrl: rt.payments.orderPageUrl(found) } };
}

/** sweep: records when Acme's notice was swept into the payment's info. */
export const sweepJob = defineJob({
  name: 'sweep',
  payload: (raw): { paymentId: string } => {
    if (typeof raw.paymentId !== 'string') throw new Error('sweep needs { paymentId }');
    return { paymentId: raw.paymentId };
  },
  processor: async ({ paymentId }, rt: AcmeRuntime) => {
    const rows = await rt.db.query<{ n: number }>('SELECT count(*)::int AS n FROM acme_notice WHERE payment_id = $1', [paymentId]);
    await rt.payments.recordInfo(paymentId, { sweptNotices: rows[0]?.n ?? 0 });
  },
});

export function createSamplePlugin(): Plugin<AcmeState> {
  return definePlugin<AcmeState>({
    name: 'acme',
    version: '1.0.0',
    coreRange: '^0.1.0',
    providers: [AcmeProvider],
    migrations: [acmeInit],
    errors: acmeErrors,
    setup: (_ctx: PluginSetupContext): AcmeState => {
      const state: AcmeState = { notices: 0, closed: false, close: async () => { state.closed = true; } };
      return state;
    },
    routes: [defineRoute({ method: 'POST', path: '/notify/:paymentId', kind: 'webhook', handler: handleNotify })],
    jobs: [sweepJob],
    logSentences: { 'kassa.acme.notified': { en: 'Acme reported payment {payment} as {kind}', de: 'Acme hat Zahlung {payment} als {kind} gemeldet' } },
  });
}
