import { randomUUID } from 'node:crypto';
import type { Actor } from '../audit/log-action';
import type { CoreDeps } from '../order/service-deps';
import { claimDueInstalments, changeInstalment, lockInstalment, noteChargeError, type ClaimedInstalment } from '../persistence/payment-plan.store';
import { record } from '../persistence/state-change';
import { mergePaymentInfo } from '../persistence/payment-port-rows';
import { withTransaction } from '../persistence/transaction';
import { paymentMachine } from '../payment/payment.machine';
import type { PaymentService } from '../payment/payment.service';
import type { StoredMethodService } from '../customer/stored-method.service';
import type { ActionReason, OffSessionOutcome } from '../provider/stored-method-types';
import { instalmentMachine } from './instalment.machine';
import type { PaymentPlanService } from './payment-plan.service';

/** Soft declines are charged again after these delays; when they are used up, the buyer must act. */
export const defaultRetryDelaysMs: readonly number[] = [1, 3, 5].map((d) => d * 86_400_000);

export interface ChargeRunOptions {
  /** At most this many instalments per run (default 200). */
  limit?: number;
  /** How long a claim holds (default 5 minutes): a crashed run's instalments are charged again after it. */
  leaseMs?: number;
  /** How long after an unknown outcome (network error, 5xx, timeout) the same charge is tried again (default 1 minute). */
  unknownRetryMs?: number;
  /** Charges in flight at once (default 4); the provider's own rate limit paces them. */
  concurrency?: number;
  /** Only these instalments ("charge now"). */
  onlyIds?: readonly string[];
  retryDelaysMs?: readonly number[];
  /** The run's claim token (default: a fresh uuid). */
  token?: string;
}

export interface ChargeRunResult {
  claimed: number;
  succeeded: number;
  processing: number;
  softDeclined: number;
  actionRequired: number;
  /** Outcome unknown (the provider threw): the claim runs out and the same charge is tried again. */
  unknown: number;
  /** Settled without a charge: its payment was confirmed another way meanwhile. */
  settledElsewhere: number;
}


/**
 * What the gateway said about a charge that did not go through (e.g. its PaymentIntent id), kept
 * on the instalment's payment before the claim is released: the buyer's on-session page and the
 * next run then complete that same gateway object instead of starting a second one (at most one
 * can take the money). Unknown values never overwrite known ones.
 */
async function rememberGatewayInfo(tx: Parameters<typeof mergePaymentInfo>[0], paymentId: string, info: Record<string, unknown> | undefined): Promise<void> {
  const known = Object.fromEntries(Object.entries(info ?? {}).filter(([, v]) => v !== null && v !== undefined));
  if (Object.keys(known).length > 0) await mergePaymentInfo(tx, paymentId, known);
}

/**
 * The charge run (docs/payment-plans.md): claims due instalments (SKIP LOCKED, with a lease),
 * charges each stored method off-session through its provider outside any transaction, and
 * applies the outcome. The idempotency key is the instalment's payment id plus its attempt
 * number, so a run that crashed after charging charges again with the same key and the gateway
 * answers with the first charge: at most one charge per instalment and attempt.
 */
export class ChargeRunService {
  constructor(
    private readonly deps: CoreDeps,
    private readonly payments: PaymentService,
    private readonly plans: PaymentPlanService,
    private readonly methods: StoredMethodService,
  ) {}

  async run(opts: ChargeRunOptions = {}): Promise<ChargeRunResult> {
    const result: ChargeRunResult = { claimed: 0, succeeded: 0, processing: 0, softDeclined: 0, actionRequired: 0, unknown: 0, settledElsewhere: 0 };
    result.settledElsewhere += await this.plans.settlePaidElsewhere();
    const token = opts.token ?? randomUUID();
    const claimed = await claimDueInstalments(this.deps.dataSource.manager, {
      now: this.deps.clock.now(), leaseMs: opts.leaseMs ?? 300_000, limit: opts.limit ?? 200, token, ...(opts.onlyIds ? { onlyIds: opts.onlyIds } : {}),
    });
    result.claimed = claimed.length;
    let next = 0;
    const lane = async (): Promise<void> => {
      while (next < claimed.length) {
        const item = claimed[next++]!;
        const kind = await this.chargeOne(item, opts);
        result[kind]++;
      }
    };
    await Promise.all(Array.from({ length: Math.max(1, Math.min(opts.concurrency ?? 4, claimed.length)) }, lane));
    return result;
  }

  /** The idempotency key of one charge attempt of an instalment (see the class comment). */
  static idempotencyKey(paymentId: string, attempt: number): string {
    return `kassa-instalment-${paymentId}-${attempt}`;
  }

  private async chargeOne(item: ClaimedInstalment, opts: ChargeRunOptions): Promise<Exclude<keyof ChargeRunResult, 'claimed'>> {
    const { payment, order, event } = await this.payments.loadPayment(item.paymentId);
    if (paymentMachine.is('counting', payment.state)) {
      await this.apply(item, { kind: 'succeeded' }, opts);
      return 'settledElsewhere';
    }
    const method = item.storedMethodId ? await this.methods.ref(item.storedMethodId) : null;
    if (!method || !this.deps.providers.has(item.provider) || !paymentMachine.is('open', payment.state)) {
      const reason: ActionReason = 'no_method';
      await this.apply(item, { kind: 'action_required', reason, message: method ? `the payment is ${payment.state}` : 'no usable stored payment method' }, opts);
      return 'actionRequired';
    }
    const provider = this.deps.providers.get(item.provider);
    let outcome: OffSessionOutcome;
    try {
      const ctx = await this.deps.providerContext(event, provider.identifier);
      outcome = await provider.chargeStoredMethod(ctx, { order, payment, method, idempotencyKey: ChargeRunService.idempotencyKey(payment.id, item.attempt) });
    } catch (err) {
      const message = err instanceof Error ? err.message : String(err);
      await noteChargeError(this.deps.dataSource.manager, item.id, item.claimedBy, message, new Date(this.deps.clock.now().getTime() + (opts.unknownRetryMs ?? 60_000)));
      return 'unknown';
    }
    await this.apply(item, outcome, opts);
    switch (outcome.kind) {
      case 'succeeded': return 'succeeded';
      case 'processing': return 'processing';
      case 'soft_decline': return 'softDeclined';
      case 'action_required': return 'actionRequired';
    }
  }

  /**
   * Applies an outcome. The payment first (core's confirm/pend, each its own transaction and
   * idempotent), then the instalment under its row lock, only if this run still holds the claim:
   * a run whose lease ran out leaves the row to the run that claimed it again (that one gets the
   * same answer for the same key).
   */
  private async apply(item: ClaimedInstalment, outcome: OffSessionOutcome, opts: ChargeRunOptions): Promise<void> {
    const actor: Actor = { type: 'provider', id: item.provider };
    if (outcome.kind === 'succeeded') await this.payments.confirmPayment(item.paymentId, { actor, ...(outcome.info ? { info: outcome.info } : {}) });
    if (outcome.kind === 'processing') await this.payments.pendPayment(item.paymentId, { actor, ...(outcome.info ? { info: outcome.info } : {}) });
    const now = this.deps.clock.now();
    await withTransaction(this.deps.dataSource, async (tx) => {
      const { instalment, plan, order } = await lockInstalment(tx, item.id);
      if (!instalmentMachine.is('due', instalment.state) || instalment.claimedBy !== item.claimedBy) return;
      const data = { attempt: instalment.attempt, ...('message' in outcome ? { message: outcome.message, code: outcome.code ?? null } : {}) };
      const release = { leaseUntil: null, claimedBy: null };
      switch (outcome.kind) {
        case 'succeeded':
          await changeInstalment(tx, order, instalment, 'succeed', { actor, data }, { ...release, lastError: null });
          break;
        case 'processing':
          await changeInstalment(tx, order, instalment, 'process', { actor, data }, release);
          break;
        case 'soft_decline': {
          await rememberGatewayInfo(tx, instalment.paymentId, outcome.info);
          const delays = opts.retryDelaysMs ?? defaultRetryDelaysMs;
          const delay = delays[instalment.attempt - 1];
          if (delay !== undefined) {
            await changeInstalment(tx, order, instalment, 'soft_decline', { actor, data }, {
              ...release, attempt: instalment.attempt + 1, nextAttemptAt: new Date(now.getTime() + delay), lastError: outcome.message,
            });
            break;
          }
          await this.needAction(tx, order, instalment, 'retries_exhausted', outcome.message, actor, now);
          break;
        }
        case 'action_required':
          await rememberGatewayInfo(tx, instalment.paymentId, outcome.info);
          await this.needAction(tx, order, instalment, outcome.reason, outcome.message, actor, now);
          break;
      }
      await this.plans.afterInstalmentChange(tx, order, plan);
    });
  }

  /**
   * The buyer must act on-session: the instalment waits for them, and the payment's
   * action-required event (off-session: emailed at once, linking to the order page where they
   * pay the instalment or enter a new card) goes out with it. The next attempt gets a new key.
   */
  private async needAction(
    tx: Parameters<typeof record>[0], order: Parameters<typeof record>[1]['order'], instalment: Parameters<typeof changeInstalment>[2],
    reason: ActionReason, message: string, actor: Actor, now: Date,
  ): Promise<void> {
    await changeInstalment(tx, order, instalment, 'need_action', { actor, data: { reason, message }, payload: { reason } }, {
      leaseUntil: null, claimedBy: null, attempt: instalment.attempt + 1, actionReason: reason, actionSince: now, lastError: message,
    });
    // The provider's render hooks see it on the payment (e.g. Stripe links its card refresh page).
    await mergePaymentInfo(tx, instalment.paymentId, { planAction: reason });
    await record(tx, {
      order, objectType: 'payment', objectId: instalment.paymentId, action: 'kassa.order.payment.action_required', actor,
      data: { instalment: instalment.seq, reason }, topic: 'payment.action_required',
      payload: { provider: actor.id, offSession: true, reason, instalment: instalment.seq },
    });
  }
}
