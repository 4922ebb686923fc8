import type { EntityManager } from 'typeorm';
import type { Actor } from '../audit/log-action';
import { KassaError } from '../errors';
import { add, money, type Money } from '../money/money';
import { orderMachine } from '../order/order.machine';
import type { CoreDeps } from '../order/service-deps';
import { writeLogAndEvent } from '../persistence/audit-outbox';
import { insertPaymentFee, openPaymentFees, recomputeTotal, replaceOpenFee, setPaymentFee } from '../persistence/order-fees';
import { lockOrderWithSums } from '../persistence/order-sums';
import { getEvent } from '../persistence/reads';
import { feeBase } from '../payment/payment-method-change';
import type { BasePaymentProvider } from '../provider/base-payment-provider';
import { calculateProviderFee } from '../provider/provider-fee';
import type { ProviderContext } from '../provider/provider-types';
import {
  changeInstalment, changePlan, countInstalmentsAwaitingBuyer, holdInstalmentForBuyer, countOpenInstalments, insertInstalment, insertPlan, instalmentsPaidElsewhere, instalmentsPastGrace, lockInstalment,
  lastDueAt, readPlanOfOrder, readPlanSettings, setInstalmentNextAttempt, setPlanStoredMethod, writePlanSettings, type InstalmentRow, type PlanRow, type PlanSettingsRow,
} from '../persistence/payment-plan.store';
import { findOpenPayments, insertPaymentRow, setPaymentAmount } from '../persistence/payment-rows';
import { extendOrderExpiry, readOrderOwner } from '../persistence/stored-method.store';
import { lockPayment, type OrderRef } from '../persistence/rows';
import { withTransaction } from '../persistence/transaction';
import { paymentMachine } from '../payment/payment.machine';
import type { PaymentService } from '../payment/payment.service';
import { instalmentMachine } from './instalment.machine';
import { planMachine } from './payment-plan.machine';
import { planRefusal, planSchedule, validatePlanSettings, type InstalmentFee, type ScheduledInstalment } from './plan-schedule';

const dayMs = 86_400_000;

/** The payment fee rule of a provider in a context: each instalment's fee on its own share. */
function feeRule(provider: BasePaymentProvider, ctx: ProviderContext): InstalmentFee {
  return (share) => calculateProviderFee(provider, ctx, share);
}

/** A plan as the order pages show it. */
export interface PlanView {
  readonly plan: PlanRow;
  readonly instalments: InstalmentRow[];
  /** The next charge the run will make (due or retrying instalment), if any. */
  readonly nextCharge: { seq: number; at: Date } | null;
  /** Instalments past the grace period that wait for the organizer's decision. */
  readonly pastGrace: number[];
}

/**
 * Payment plans (docs/payment-plans.md): an order paid in instalments, each an OrderPayment of its
 * own, so partial payments, refunds and over/underpaid detection work as they do. The order stays
 * pending until the last instalment is confirmed (core's confirm pays it then).
 */
export class PaymentPlanService {
  constructor(private readonly deps: CoreDeps, private readonly payments: PaymentService) {}

  settings(eventId: string): Promise<PlanSettingsRow> {
    return readPlanSettings(this.deps.dataSource.manager, eventId);
  }

  /** The organizer's plan settings for an event; PLAN_SETTINGS_INVALID names a bad field. */
  async updateSettings(eventId: string, input: Record<string, unknown>): Promise<PlanSettingsRow> {
    const s = validatePlanSettings(input);
    await writePlanSettings(this.deps.dataSource.manager, eventId, s);
    return s;
  }

  /**
   * What a plan for this order would look like, or why there is none: the order's total without
   * its open payment fees split as createPlan splits it, each instalment with `provider`'s fee.
   */
  async offer(orderId: string, provider?: string): Promise<{ schedule: ScheduledInstalment[] } | { refusal: string }> {
    const order = await readOrderOwner(this.deps.dataSource.manager, orderId);
    if (!order) throw new KassaError('NOT_FOUND', { entity: `Order ${orderId}` });
    const fees = provider ? await this.feeOf(order.eventId, provider) : undefined;
    return withTransaction(this.deps.dataSource, async (tx) => {
      const { order: o, sums } = await lockOrderWithSums(tx, orderId);
      const s = await readPlanSettings(tx, o.eventId);
      const now = this.deps.clock.now();
      const refusal = planRefusal(money(o.total, o.currency.trim()), s, now);
      const base = feeBase(sums.pendingSum, await openPaymentFees(tx, orderId), o.currency.trim());
      return refusal ? { refusal } : { schedule: planSchedule(base, s, now, fees) };
    });
  }

  /**
   * The plan the checkout would offer for a cart of `base` (before the order exists, without any
   * payment fee), or why there is none: the buyer sees the schedule, dates and amounts, before
   * placing the order. With `fees` (the chosen method and its context) each instalment carries
   * that provider's fee on its own share, exactly as createPlan will charge it; the plan minimum
   * is compared with the order's total as it would be placed (base plus one fee on the whole).
   */
  async preview(eventId: string, base: Money, fees?: { provider: BasePaymentProvider; ctx: ProviderContext }): Promise<{ schedule: ScheduledInstalment[] } | { refusal: string }> {
    const s = await readPlanSettings(this.deps.dataSource.manager, eventId);
    const now = this.deps.clock.now();
    const rule = fees ? feeRule(fees.provider, fees.ctx) : undefined;
    const placed = rule && base.amount > 0 ? add(base, rule(base)) : base;
    const refusal = planRefusal(placed, s, now);
    return refusal ? { refusal } : { schedule: planSchedule(base, s, now, rule) };
  }

  /** The fee rule of `provider` for the event's orders (its context read outside any transaction). */
  private async feeOf(eventId: string, provider: string): Promise<InstalmentFee> {
    const event = await getEvent(this.deps.dataSource.manager, eventId);
    return feeRule(this.deps.providers.get(provider), await this.deps.providerContext(event, provider));
  }

  /**
   * Turns a pending, unpaid order into a plan: its open attempt of `provider` becomes the first
   * instalment (the deposit, paid in the checkout; its amount lowered to the deposit) and one
   * `created` payment per further instalment is added. The order's total without its payment fee
   * is split by core's allocation rules (exactly), and each instalment gets `provider`'s fee on its
   * own share, as pretix computes a fee per payment: the one payment fee of the order is replaced
   * by one fee row per instalment, carried by its payment, and the total follows. Once the deposit
   * is paid, the order is kept open until the last due date plus the grace period.
   */
  async createPlan(orderId: string, input: { provider: string; storedMethodId?: string | null; actor: Actor }): Promise<PlanView> {
    if (!this.deps.providers.has(input.provider) || !this.deps.providers.get(input.provider).storesMethods) {
      throw new KassaError('STORED_METHODS_NOT_SUPPORTED', { provider: input.provider, payment: '-' });
    }
    const owner = await readOrderOwner(this.deps.dataSource.manager, orderId);
    if (!owner) throw new KassaError('NOT_FOUND', { entity: `Order ${orderId}` });
    // The provider's context (its fee settings) is read before the transaction, as the method switch does.
    const feeOf = await this.feeOf(owner.eventId, input.provider);
    await withTransaction(this.deps.dataSource, async (tx) => {
      const { order, sums } = await lockOrderWithSums(tx, orderId);
      const refuse = (reason: string): never => { throw new KassaError('PLAN_NOT_OFFERED', { code: order.code, reason }); };
      if (await readPlanOfOrder(tx, orderId)) refuse('it has a plan already');
      if (!orderMachine.is('awaitingPayment', order.status)) refuse(`the order is ${order.status}`);
      if (sums.paymentRefundSum !== 0) refuse('payments were received already');
      const settings = await readPlanSettings(tx, order.eventId);
      const now = this.deps.clock.now();
      const currency = order.currency.trim();
      const refusal = planRefusal(money(order.total, currency), settings, now);
      if (refusal) refuse(refusal);
      // Nothing was paid, so every payment fee is open: what the plan splits is the rest.
      const openFees = await openPaymentFees(tx, orderId);
      const base = feeBase(sums.pendingSum, openFees, currency);
      const schedule = planSchedule(base, settings, now, feeOf);
      const open = await findOpenPayments(tx, orderId);
      const first = open.find((p) => p.provider === input.provider && paymentMachine.is('executable', p.state));
      if (open.some((p) => p !== first)) refuse('another payment attempt is open');
      const ref: OrderRef = { id: order.id, organizerId: order.organizerId, eventId: order.eventId, code: order.code };
      const plan = await insertPlan(tx, {
        orderId, organizerId: order.organizerId, provider: input.provider, storedMethodId: input.storedMethodId ?? null,
        graceDays: settings.graceDays, validIfPending: settings.validIfPending,
      });
      // The order's payment fee becomes the first instalment's (its row reused, or canceled when
      // that fee is 0); the other instalments get fee rows of their own.
      const previousFee = openFees.reduce((sum, f) => sum + f.value, 0);
      const previousTotal = order.total;
      const firstFeeId = await replaceOpenFee(tx, orderId, openFees, input.provider, schedule[0]!.fee.amount);
      // No deposit: the checkout's attempt takes no money (amount 0, no fee; the provider only
      // saves the card, e.g. a Stripe SetupIntent) and every instalment has a payment of its own.
      // The order is kept open at once until the last date plus the grace period.
      const deposit = !settings.noDeposit;
      if (!deposit && first) {
        await lockPayment(tx, first.id);
        await setPaymentAmount(tx, first.id, 0);
        await setPaymentFee(tx, first.id, null);
      }
      if (!deposit) await extendOrderExpiry(tx, order.id, new Date(schedule[schedule.length - 1]!.dueAt.getTime() + (settings.graceDays + 1) * dayMs));
      for (const part of schedule) {
        const feeId = part.seq === 1 ? firstFeeId : await insertPaymentFee(tx, orderId, input.provider, part.fee.amount);
        let paymentId: string;
        if (deposit && part.seq === 1 && first) {
          await lockPayment(tx, first.id);
          await setPaymentAmount(tx, first.id, part.amount.amount);
          await setPaymentFee(tx, first.id, feeId);
          paymentId = first.id;
        } else {
          paymentId = (await insertPaymentRow(tx, order, { provider: input.provider, amount: part.amount.amount, feeId })).id;
        }
        await insertInstalment(tx, {
          planId: plan.id, seq: part.seq, paymentId, amount: part.amount.amount, dueAt: part.dueAt,
          state: deposit && part.seq === 1 ? instalmentMachine.initial[0]! : instalmentMachine.initial[1]!,
        });
      }
      await recomputeTotal(tx, order);
      const fee = schedule.reduce((sum, p) => sum + p.fee.amount, 0);
      // The instalments charge exactly what is owed: the new total (nothing was paid yet).
      const charged = schedule.reduce((sum, p) => sum + p.amount.amount, 0);
      // (A payment fee some earlier payment carried would break that; the transaction then rolls back.)
      if (charged !== order.total) refuse(`its instalments would add up to ${charged}, not to its total of ${order.total}`);
      await writeLogAndEvent(tx, {
        organizerId: ref.organizerId, eventId: ref.eventId, orderId, objectType: 'plan', objectId: plan.id, action: 'kassa.plan.created', actor: input.actor,
        data: {
          instalments: schedule.map((p) => ({ seq: p.seq, amount: p.amount.amount, fee: p.fee.amount, dueAt: p.dueAt.toISOString() })),
          fee, previousFee, total: order.total, previousTotal, currency,
        },
      }, { topic: 'plan.created', organizerId: ref.organizerId, orderId, payload: { orderId, code: order.code, planId: plan.id, instalments: schedule.length, total: order.total, fee } });
    });
    return (await this.view(orderId))!;
  }

  /** The stored method the plan's later instalments are charged to (saved in the checkout, or a refreshed card). */
  async useMethod(orderId: string, storedMethodId: string, actor: Actor): Promise<void> {
    await withTransaction(this.deps.dataSource, async (tx) => {
      const found = await readPlanOfOrder(tx, orderId);
      if (!found) throw new KassaError('NOT_FOUND', { entity: `Plan of order ${orderId}` });
      await setPlanStoredMethod(tx, found.plan.id, storedMethodId);
      const order = (await readOrderOwner(tx, orderId))!;
      await writeLogAndEvent(tx, {
        organizerId: order.organizerId, eventId: order.eventId, orderId, objectType: 'plan', objectId: found.plan.id,
        action: 'kassa.plan.method_changed', actor, data: { storedMethodId },
      });
    });
  }

  /** The order's plan with its instalments; null when it has none. Settles instalments paid elsewhere first. */
  async view(orderId: string): Promise<PlanView | null> {
    await this.settlePaidElsewhere({ orderId });
    const found = await readPlanOfOrder(this.deps.dataSource.manager, orderId);
    if (!found) return null;
    const next = found.instalments
      .filter((i) => instalmentMachine.is('due', i.state) && planMachine.is('running', found.plan.state))
      .sort((a, b) => a.nextAttemptAt.getTime() - b.nextAttemptAt.getTime())[0];
    const now = this.deps.clock.now().getTime();
    const pastGrace = found.instalments
      .filter((i) => instalmentMachine.is('organizerDecides', i.state) && i.actionSince && i.actionSince.getTime() + found.plan.graceDays * dayMs < now)
      .map((i) => i.seq);
    return { ...found, nextCharge: next ? { seq: next.seq, at: next.nextAttemptAt } : null, pastGrace };
  }

  /** How many of the organizer's instalments wait for the buyer (failed off-session): the dashboard's figure. */
  countAwaitingBuyer(organizerId: string): Promise<number> {
    return countInstalmentsAwaitingBuyer(this.deps.dataSource.manager, organizerId);
  }

  /** The organizer's instalments that waited for the buyer longer than the grace period. */
  pastGrace(organizerId: string): Promise<{ instalmentId: string; orderId: string; seq: number; since: Date }[]> {
    return instalmentsPastGrace(this.deps.dataSource.manager, organizerId, this.deps.clock.now());
  }

  /**
   * Moves instalments whose payment was confirmed outside a charge run (the deposit in the
   * checkout, a webhook, the buyer's on-session page, "mark paid") to paid, and completes plans.
   */
  async settlePaidElsewhere(opts: { orderId?: string; limit?: number } = {}): Promise<number> {
    const ids = await instalmentsPaidElsewhere(this.deps.dataSource.manager, opts.limit ?? 500, opts.orderId);
    let settled = 0;
    for (const id of ids) {
      const done = await withTransaction(this.deps.dataSource, async (tx) => {
        const { instalment, plan, order } = await lockInstalment(tx, id);
        if (!instalmentMachine.is('settledElsewhere', instalment.state)) return false;
        const payment = await lockPayment(tx, instalment.paymentId);
        if (!paymentMachine.is('counting', payment.state)) return false;
        const wasDeposit = instalmentMachine.is('onSession', instalment.state);
        await changeInstalment(tx, order, instalment, 'succeed', { actor: { type: 'system' }, data: { via: 'payment confirmed' } });
        // With the deposit paid the plan runs: the order stays open until its last date plus the grace period.
        if (wasDeposit) await extendOrderExpiry(tx, order.id, new Date((await lastDueAt(tx, plan.id)).getTime() + (plan.graceDays + 1) * dayMs));
        await this.afterInstalmentChange(tx, order, plan);
        return true;
      });
      if (done) settled++;
    }
    return settled;
  }

  /** The plan follows its instalments: completed when none is open, attention while one waits for the buyer. */
  async afterInstalmentChange(tx: EntityManager, order: OrderRef, plan: PlanRow): Promise<void> {
    if (!planMachine.is('running', plan.state)) return;
    const { open, awaitingBuyer } = await countOpenInstalments(tx, plan.id);
    const actor = { type: 'system' } as const;
    if (open === 0) await changePlan(tx, order, plan, 'complete', { actor });
    else if (awaitingBuyer > 0 && planMachine.can(plan.state, 'flag')) await changePlan(tx, order, plan, 'flag', { actor });
    else if (awaitingBuyer === 0 && planMachine.can(plan.state, 'resume')) await changePlan(tx, order, plan, 'resume', { actor });
  }

  /**
   * The buyer is about to pay an instalment on-session (docs/payment-plans.md, "one charge per
   * instalment"): the instalment is held for them (`holdMs`, default 30 minutes) so no charge run
   * claims it meanwhile, unless a run holds it now or its last outcome is unknown ('busy': the
   * buyer tries again in a few minutes). Together with one gateway object per instalment payment
   * (the provider completes the same PaymentIntent on both paths), only one path can take money.
   * null: the payment is no instalment.
   */
  async holdForBuyer(paymentId: string, holdMs = 30 * 60_000): Promise<'held' | 'busy' | 'settled' | null> {
    const until = new Date(this.deps.clock.now().getTime() + holdMs);
    return withTransaction(this.deps.dataSource, (tx) => holdInstalmentForBuyer(tx, paymentId, until));
  }

  /** Scoped read for the control panel and buyer pages: the instalment must belong to this order. */
  private async instalmentOfOrder(orderId: string, instalmentId: string): Promise<InstalmentRow> {
    const found = await readPlanOfOrder(this.deps.dataSource.manager, orderId);
    const instalment = found?.instalments.find((i) => i.id === instalmentId);
    if (!instalment) throw new KassaError('NOT_FOUND', { entity: `Instalment ${instalmentId}` });
    return instalment;
  }

  /**
   * "Charge now" / "retry": the instalment becomes due at once (an instalment waiting for the
   * buyer goes back to scheduled). The caller then runs a charge run for it.
   */
  async makeDueNow(orderId: string, instalmentId: string, actor: Actor): Promise<void> {
    await this.instalmentOfOrder(orderId, instalmentId);
    await withTransaction(this.deps.dataSource, async (tx) => {
      const { instalment, plan, order } = await lockInstalment(tx, instalmentId);
      const refuse = (reason: string): never => { throw new KassaError('PLAN_ACTION_NOT_ALLOWED', { seq: instalment.seq, code: order.code, reason }); };
      if (!planMachine.is('running', plan.state)) refuse(`the plan is ${plan.state}`);
      if (!instalmentMachine.is('chargeableNow', instalment.state)) refuse(`it is ${instalment.state}`);
      const now = this.deps.clock.now();
      if (instalmentMachine.is('due', instalment.state) && !instalmentMachine.can(instalment.state, 'reschedule')) {
        await setInstalmentNextAttempt(tx, instalment.id, now);
        await writeLogAndEvent(tx, {
          organizerId: order.organizerId, eventId: order.eventId, orderId: order.id, objectType: 'instalment', objectId: instalment.id,
          action: 'kassa.plan.instalment.charge_now', actor, data: { seq: instalment.seq },
        });
      } else {
        await changeInstalment(tx, order, instalment, 'reschedule', { actor, data: { chargeNow: true } }, { nextAttemptAt: now, actionReason: null, actionSince: null });
      }
      await this.afterInstalmentChange(tx, order, plan);
    });
  }

  /** After the buyer fixed their card: the instalments waiting for them are charged at the next run. */
  async retryAwaitingBuyer(orderId: string, actor: Actor): Promise<number> {
    const found = await readPlanOfOrder(this.deps.dataSource.manager, orderId);
    if (!found || !planMachine.is('running', found.plan.state)) return 0;
    let n = 0;
    for (const i of found.instalments.filter((x) => instalmentMachine.is('awaitingBuyer', x.state))) {
      await this.makeDueNow(orderId, i.id, actor);
      n++;
    }
    return n;
  }

  /** The organizer extends an instalment waiting for the buyer (or retrying) to a new date. */
  async extend(orderId: string, instalmentId: string, until: Date, actor: Actor): Promise<void> {
    await this.instalmentOfOrder(orderId, instalmentId);
    if (!(until instanceof Date) || Number.isNaN(until.getTime()) || until.getTime() <= this.deps.clock.now().getTime()) {
      throw new KassaError('VALIDATION_FAILED', { field: 'until', detail: 'must be a date in the future' });
    }
    await withTransaction(this.deps.dataSource, async (tx) => {
      const { instalment, plan, order } = await lockInstalment(tx, instalmentId);
      if (!instalmentMachine.can(instalment.state, 'reschedule')) throw new KassaError('PLAN_ACTION_NOT_ALLOWED', { seq: instalment.seq, code: order.code, reason: `it is ${instalment.state}` });
      await changeInstalment(tx, order, instalment, 'reschedule', { actor, data: { until: until.toISOString() } }, { nextAttemptAt: until, dueAt: until, actionReason: null, actionSince: null });
      await extendOrderExpiry(tx, order.id, new Date(until.getTime() + (plan.graceDays + 1) * dayMs));
      await this.afterInstalmentChange(tx, order, plan);
    });
  }

  /** The organizer marks an instalment paid (money received another way): its payment is confirmed. */
  async markPaid(orderId: string, instalmentId: string, actor: Actor): Promise<void> {
    const instalment = await this.instalmentOfOrder(orderId, instalmentId);
    if (!instalmentMachine.is('settledElsewhere', instalment.state)) {
      throw new KassaError('PLAN_ACTION_NOT_ALLOWED', { seq: instalment.seq, code: '-', reason: `it is ${instalment.state}` });
    }
    await this.payments.manualConfirm(instalment.paymentId, { actor });
    await this.settlePaidElsewhere({ orderId });
  }

  /**
   * The organizer gives up on an instalment the buyer did not complete: it fails (its payment
   * too) and the plan is canceled, its other open instalments with it. The order stays pending
   * and partly paid; the organizer cancels it or takes the rest another way.
   */
  async giveUp(orderId: string, instalmentId: string, actor: Actor): Promise<void> {
    await this.instalmentOfOrder(orderId, instalmentId);
    const paymentId = await withTransaction(this.deps.dataSource, async (tx) => {
      const { instalment, order } = await lockInstalment(tx, instalmentId);
      if (!instalmentMachine.can(instalment.state, 'give_up')) throw new KassaError('PLAN_ACTION_NOT_ALLOWED', { seq: instalment.seq, code: order.code, reason: `it is ${instalment.state}` });
      await changeInstalment(tx, order, instalment, 'give_up', { actor });
      return instalment.paymentId;
    });
    await this.payments.failPayment(paymentId, { actor, message: 'the organizer gave up on this instalment' });
    await this.cancelPlan(orderId, actor);
  }

  /**
   * The organizer cancels the plan: open instalments that are not being charged are canceled,
   * with their payments. The order itself stays as it is (pending, partly paid): the organizer
   * then cancels it or takes the rest another way.
   */
  async cancelPlan(orderId: string, actor: Actor): Promise<void> {
    const paymentIds = await withTransaction(this.deps.dataSource, async (tx) => {
      const found = await readPlanOfOrder(tx, orderId);
      if (!found) throw new KassaError('NOT_FOUND', { entity: `Plan of order ${orderId}` });
      const order = (await readOrderOwner(tx, orderId))!;
      const ref: OrderRef = { id: order.id, organizerId: order.organizerId, eventId: order.eventId, code: order.code };
      const ids: string[] = [];
      for (const row of found.instalments) {
        const { instalment } = await lockInstalment(tx, row.id);
        const leased = instalment.leaseUntil !== null && instalment.leaseUntil.getTime() > this.deps.clock.now().getTime();
        if ((instalmentMachine.is('due', instalment.state) && leased) || instalmentMachine.is('awaitingProvider', instalment.state)) {
          throw new KassaError('PLAN_ACTION_NOT_ALLOWED', { seq: instalment.seq, code: order.code, reason: 'a charge is in flight; try again in a minute' });
        }
        if (!instalmentMachine.is('cancelable', instalment.state)) continue;
        await changeInstalment(tx, ref, instalment, 'cancel', { actor });
        ids.push(instalment.paymentId);
      }
      await changePlan(tx, ref, found.plan, 'cancel', { actor });
      return ids;
    });
    for (const id of paymentIds) {
      const p = await this.payments.loadPayment(id);
      if (paymentMachine.can(p.payment.state, 'cancel')) await this.payments.cancelPayment(id, actor).catch(() => undefined);
    }
  }
}
