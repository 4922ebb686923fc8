import { randomUUID } from 'node:crypto';
import type { EntityManager } from 'typeorm';
import type { Actor } from '../audit/log-action';
import type { Event } from '../event/event.entity';
import type { CoreDeps } from '../order/service-deps';
import { claimDueCharges, type ClaimedCharge } from '../persistence/charge-run.store';
import { changeInstalment, lockInstalment, noteChargeError } from '../persistence/payment-plan.store';
import { record } from '../persistence/state-change';
import { mergePaymentInfo } from '../persistence/payment-port-rows';
import { withTransaction } from '../persistence/transaction';
import { paymentMachine } from '../payment/payment.machine';
import type { PaymentService } from '../payment/payment.service';
import type { ProviderContext } from '../provider/provider-types';
import type { ActionReason, OffSessionOutcome } from '../provider/stored-method-types';
import { instalmentMachine } from './instalment.machine';
import type { PaymentPlanService } from './payment-plan.service';

/** Soft declines are charged again after these delays; when they are used up, the buyer must act. */
export const defaultRetryDelaysMs: readonly number[] = [1, 3, 5].map((d) => d * 86_400_000);

/** Outcomes written in one transaction at most. */
const maxWriteBatch = 32;
/** Transactions writing outcomes at once (each holds a connection). */
const maxWriters = 8;

export interface ChargeRunOptions {
  /** At most this many instalments per run (default 200). */
  limit?: number;
  /** How long a claim holds (default 5 minutes): a crashed run's instalments are charged again after it. */
  leaseMs?: number;
  /** How long after an unknown outcome (network error, 5xx, timeout) the same charge is tried again (default 1 minute). */
  unknownRetryMs?: number;
  /**
   * Charges in flight at once (default 64). The provider's own rate limit paces them; enough must
   * be in flight that the provider's answer time does not leave its rate unused (rate × answer
   * time). A charge in flight holds no database connection.
   */
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

/** What one charge left to write: an outcome, or an unknown one (the provider threw). */
type ChargeWrite = { item: ClaimedCharge; outcome: OffSessionOutcome } | { item: ClaimedCharge; unknown: string };

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
 * The charge run (docs/payment-plans.md): claims due instalments in chunks (SKIP LOCKED, with a
 * lease; the claim reads the charges' inputs too), charges each stored method off-session through
 * its provider outside any transaction, keeping up to `concurrency` charges in flight, and writes
 * the outcomes in batches (one transaction for the outcomes that arrived meanwhile; a batch that
 * fails is written again one outcome per transaction). The idempotency key is the instalment's
 * payment id plus its attempt number, so a run that crashed after charging charges again with the
 * same key and the gateway answers with the first charge: at most one charge per instalment and
 * attempt.
 */
export class ChargeRunService {
  constructor(
    private readonly deps: CoreDeps,
    private readonly payments: PaymentService,
    private readonly plans: PaymentPlanService,
  ) {}

  async run(opts: ChargeRunOptions = {}): Promise<ChargeRunResult> {
    const result: ChargeRunResult = { claimed: 0, succeeded: 0, processing: 0, softDeclined: 0, actionRequired: 0, unknown: 0, settledElsewhere: 0 };
    result.settledElsewhere += await this.plans.settlePaidElsewhere();
    const token = opts.token ?? randomUUID();
    const limit = opts.limit ?? 200;
    const concurrency = Math.max(1, opts.concurrency ?? 64);
    // Claimed in chunks as the lanes need them, so no lane waits for a whole batch to finish and
    // an instalment waits seconds, not minutes, between its claim and its charge.
    const chunk = Math.max(concurrency, 16);
    const queue: ClaimedCharge[] = [];
    let exhausted = false;
    let claiming: Promise<void> | null = null;
    const refill = (): Promise<void> => {
      claiming ??= (async () => {
        try {
          const want = Math.min(chunk, limit - result.claimed);
          if (want <= 0) { exhausted = true; return; }
          const got = await claimDueCharges(this.deps.dataSource.manager, {
            now: this.deps.clock.now(), leaseMs: opts.leaseMs ?? 300_000, limit: want, token, ...(opts.onlyIds ? { onlyIds: opts.onlyIds } : {}),
          });
          result.claimed += got.length;
          queue.push(...got);
          if (got.length < want) exhausted = true;
        } finally {
          claiming = null;
        }
      })();
      return claiming;
    };

    // A few writers, each one transaction at a time: the statements of one transaction run one
    // after another, so a single writer would cap the run at its round trips.
    const pending: ChargeWrite[] = [];
    const failures: unknown[] = [];
    const writers = new Set<Promise<void>>();
    const flush = (): Promise<void> => {
      if (pending.length && writers.size < maxWriters) {
        const writer = (async () => {
          while (pending.length) await this.writeBatch(pending.splice(0, maxWriteBatch), opts, failures);
        })().finally(() => writers.delete(writer));
        writers.add(writer);
      }
      return writers.size ? Promise.race(writers) : Promise.resolve();
    };
    const contexts = new Map<string, Promise<ProviderContext>>();
    const contextFor = (event: Event, provider: string): Promise<ProviderContext> => {
      const key = `${event.id}|${provider}`;
      let ctx = contexts.get(key);
      if (!ctx) {
        ctx = this.deps.providerContext(event, provider);
        contexts.set(key, ctx);
      }
      return ctx;
    };

    const lane = async (): Promise<void> => {
      for (;;) {
        if (queue.length === 0 && !exhausted) {
          // A failed claim ends the claiming, not the run: what is in flight is still written.
          try {
            await refill();
          } catch (err) {
            exhausted = true;
            failures.push(err);
          }
        }
        const item = queue.shift();
        if (!item) return;
        const { kind, write } = await this.chargeOne(item, contextFor);
        result[kind]++;
        pending.push(write);
        // The writer batches what arrives while it writes; a lane waits only when it falls far behind.
        if (pending.length >= 2 * maxWriteBatch) await flush();
        else void flush();
      }
    };
    await Promise.all(Array.from({ length: concurrency }, lane));
    while (pending.length || writers.size) await flush();
    if (failures.length) throw failures[0];
    return result;
  }

  /** The idempotency key of one charge attempt of an instalment (see the class comment). */
  static idempotencyKey(paymentId: string, attempt: number): string {
    return `kassa-instalment-${paymentId}-${attempt}`;
  }

  /** Charges one claimed instalment; writes nothing (its outcome goes to the batch writer). */
  private async chargeOne(
    item: ClaimedCharge, contextFor: (event: Event, provider: string) => Promise<ProviderContext>,
  ): Promise<{ kind: Exclude<keyof ChargeRunResult, 'claimed'>; write: ChargeWrite }> {
    const { payment, method } = item;
    if (paymentMachine.is('counting', payment.state)) return { kind: 'settledElsewhere', write: { item, outcome: { kind: 'succeeded' } } };
    if (!method || !this.deps.providers.has(item.provider) || !paymentMachine.is('open', payment.state)) {
      const reason: ActionReason = 'no_method';
      return { kind: 'actionRequired', write: { item, outcome: { kind: 'action_required', reason, message: method ? `the payment is ${payment.state}` : 'no usable stored payment method' } } };
    }
    const provider = this.deps.providers.get(item.provider);
    let outcome: OffSessionOutcome;
    try {
      const ctx = await contextFor(item.event, provider.identifier);
      outcome = await provider.chargeStoredMethod(ctx, { order: item.order, payment, method, idempotencyKey: ChargeRunService.idempotencyKey(payment.id, item.attempt) });
    } catch (err) {
      return { kind: 'unknown', write: { item, unknown: err instanceof Error ? err.message : String(err) } };
    }
    const kinds = { succeeded: 'succeeded', processing: 'processing', soft_decline: 'softDeclined', action_required: 'actionRequired' } as const;
    return { kind: kinds[outcome.kind], write: { item, outcome } };
  }

  /**
   * Writes a batch of outcomes in one transaction, in the order of their orders' ids (two runs
   * writing at once lock the same orders in the same order) and, within an order, of its payments. Should the batch fail (a deadlock, a
   * conflict of one outcome), each outcome is written alone; one that fails then stays claimed
   * until its lease runs out, and the next run charges it again with the same key and gets the
   * same answer.
   */
  private async writeBatch(batch: ChargeWrite[], opts: ChargeRunOptions, failures: unknown[]): Promise<void> {
    // An order's instalments in their own order (payments count up per order), so its events and log entries follow the schedule.
    const sorted = [...batch].sort((a, b) => (a.item.order.id < b.item.order.id ? -1 : a.item.order.id > b.item.order.id ? 1 : a.item.payment.localId - b.item.payment.localId));
    try {
      await withTransaction(this.deps.dataSource, async (tx) => {
        for (const w of sorted) await this.write(tx, w, opts);
      });
      return;
    } catch {
      // Written again one by one below, where an error belongs to one outcome.
    }
    for (const w of sorted) {
      try {
        // Alone, as confirmPayment always does: the payment's confirmation survives an error of its order step.
        if ('outcome' in w && w.outcome.kind === 'succeeded') {
          await this.payments.confirmPayment(w.item.paymentId, { actor: { type: 'provider', id: w.item.provider }, ...(w.outcome.info ? { info: w.outcome.info } : {}) });
        }
        await withTransaction(this.deps.dataSource, (tx) => this.write(tx, w, opts));
      } catch (err) {
        failures.push(err);
      }
    }
  }

  /**
   * Applies one outcome in the caller's transaction: the payment first (core's confirm/pend,
   * idempotent), then the instalment under its row lock, only if this run still holds the claim:
   * a run whose lease ran out leaves the row to the run that claimed it again (that one gets the
   * same answer for the same key). An unknown outcome keeps the claim and lets it run out soon.
   */
  private async write(tx: EntityManager, w: ChargeWrite, opts: ChargeRunOptions): Promise<void> {
    const { item } = w;
    const now = this.deps.clock.now();
    if ('unknown' in w) {
      await noteChargeError(tx, item.id, item.claimedBy, w.unknown, new Date(now.getTime() + (opts.unknownRetryMs ?? 60_000)));
      return;
    }
    const { outcome } = w;
    const actor: Actor = { type: 'provider', id: item.provider };
    if (outcome.kind === 'succeeded') await this.payments.confirmPaymentWithin(tx, item.paymentId, { actor, ...(outcome.info ? { info: outcome.info } : {}) });
    if (outcome.kind === 'processing') await this.payments.pendPaymentWithin(tx, item.paymentId, { actor, ...(outcome.info ? { info: outcome.info } : {}) });
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
