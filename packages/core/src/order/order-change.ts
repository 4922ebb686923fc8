import { createHash } from 'node:crypto';
import type { EntityManager } from 'typeorm';
import type { Actor } from '../audit/log-action';
import { KassaError } from '../errors';
import { assertEnteredAmount, assertNonNegative } from '../money/money';
import { paymentMachine } from '../payment/payment.machine';
import { feeBase } from '../payment/payment-method-change';
import { findOrder, getEvent, getOrder } from '../persistence/reads';
import { openPaymentFees, recomputeTotal, replaceOpenFee } from '../persistence/order-fees';
import type { BasePaymentProvider } from '../provider/base-payment-provider';
import { calculateProviderFee } from '../provider/provider-fee';
import type { ProviderContext } from '../provider/provider-types';
import {
  addPosition, cancelPosition, findLastOpenPayment, lockQuotasOf, readEventProducts, readFingerprintSource, readPositions, readQuotaUsage,
  setPositionPrice, setPositionProduct, type LivePosition, type QuotaUse,
} from '../persistence/order-change-rows';
import { loadOrderSums, lockOrderWithSums, type OrderSums } from '../persistence/order-sums';
import { findOpenPayments, setPaymentAmount } from '../persistence/payment-rows';
import { isUuid } from '../persistence/rows';
import { changePayment, moveOrder, record } from '../persistence/state-change';
import { withTransaction } from '../persistence/transaction';
import { newPaymentDeadline } from './order-payability';
import { Order } from './order.entity';
import { orderMachine, type OrderStatus } from './order.machine';
import type { ServiceDeps } from './service-deps';

/*
 * pretix's OrderChangeManager for the operations organizers use most: cancel a position, change
 * its price or its product, add a position. All operations of one change are applied under the
 * order lock in one transaction, within quota; the total, the open payment fee and the paid state
 * follow, every operation is logged, and one 'order.changed' event (the buyer's email) is written
 * with them. A refusal (quota, a stale form, a bad operation) writes nothing.
 */

export type OrderChangeOperation =
  | { kind: 'cancel_position'; positionId: string }
  | { kind: 'change_price'; positionId: string; price: number }
  /** The price becomes the new product's, unless `price` is given. */
  | { kind: 'change_product'; positionId: string; productId: string; price?: number }
  /** The price is the product's, unless `price` is given. */
  | { kind: 'add_position'; productId: string; price?: number; attendeeName?: string | null };

export interface OrderChangeInput {
  operations: OrderChangeOperation[];
  actor: Actor;
  /**
   * The fingerprint (orderChangeFingerprint) of the order as the organizer saw it when preparing
   * the change. When given and the order has changed since, nothing is written (ORDER_CHANGE_STALE):
   * a replayed or double-submitted form cannot add a position twice.
   */
  expectedFingerprint?: string;
}

export interface OrderChangeResult {
  order: Order;
  summary: OrderSums;
  previousTotal: number;
  previousStatus: OrderStatus;
  /** Open attempts for the old amount that were canceled after the change (the buyer pays again). */
  canceledPayments: string[];
  paymentCancelFailures: { paymentId: string; error: string }[];
}

const MAX_OPERATIONS = 50;

/** What one position looks like to the fingerprint and the operations. */

/**
 * A short digest of what an order change depends on: the positions (product, price, canceled),
 * the total and the status. Forms carry it so that a change prepared on an older state is refused.
 */
export async function orderChangeFingerprint(db: Pick<EntityManager, 'query'>, orderId: string): Promise<string> {
  const row = await readFingerprintSource(db, orderId);
  if (!row) throw new KassaError('NOT_FOUND', { entity: `Order ${orderId}` });
  return createHash('sha256').update(`${row.status}|${row.total}|${row.positions}`).digest('hex').slice(0, 24);
}

export interface OrderChangeCollaborators {
  cancelPayment(paymentId: string, actor: Actor): Promise<unknown>;
}

/** Applies an order change; see the file comment. */
export async function changeOrder(deps: ServiceDeps, payments: OrderChangeCollaborators, orderId: string, input: OrderChangeInput): Promise<OrderChangeResult> {
  if (!isUuid(orderId)) throw new KassaError('NOT_FOUND', { entity: `Order ${orderId}` });
  const ops = validateOperations(input.operations);
  const m = deps.dataSource.manager;

  const current = await findOrder(m, orderId);
  if (!current) throw new KassaError('NOT_FOUND', { entity: `Order ${orderId}` });
  // The open attempt's provider recomputes the open payment fee; its context is read before the
  // transaction (settings reads stay outside the order lock).
  const lastOpen = await findLastOpenPayment(m, orderId);
  let feeProvider: { provider: BasePaymentProvider; ctx: ProviderContext } | null = null;
  if (lastOpen && deps.providers.has(lastOpen.provider)) {
    const event = await getEvent(m, current.eventId);
    feeProvider = { provider: deps.providers.get(lastOpen.provider), ctx: await deps.providerContext(event, lastOpen.provider) };
  }

  const outcome = await withTransaction(deps.dataSource, async (tx) => {
    const { order, sums: before } = await lockOrderWithSums(tx, orderId);
    if (!orderMachine.is('changeable', order.status)) {
      throw new KassaError('ORDER_NOT_CHANGEABLE', { code: order.code, reason: `the order is ${order.status}` });
    }
    if (input.expectedFingerprint !== undefined && input.expectedFingerprint !== await orderChangeFingerprint(tx, orderId)) {
      throw new KassaError('ORDER_CHANGE_STALE', { code: order.code });
    }
    const previousTotal = order.total;
    const previousStatus = order.status;
    const positions: LivePosition[] = await readPositions(tx, orderId);
    const byId = new Map(positions.map((p) => [p.id, p]));
    const productIds = [...new Set(ops.flatMap((op) => ('productId' in op ? [op.productId] : [])))];
    const products = await readEventProducts(tx, order.eventId, productIds);
    const productOf = new Map(products.map((p) => [p.id, p]));
    ops.forEach((op, i) => {
      if ('positionId' in op) {
        const p = byId.get(op.positionId);
        if (!p || p.canceled) throw invalid(i, 'positionId', `position ${op.positionId} is not a live position of this order`);
      }
      if ('productId' in op && !productOf.has(op.productId)) throw invalid(i, 'productId', `product ${op.productId} does not belong to this event`);
    });
    const live = positions.filter((p) => !p.canceled).length;
    const canceling = ops.filter((op) => op.kind === 'cancel_position').length;
    const adding = ops.filter((op) => op.kind === 'add_position').length;
    if (live - canceling + adding < 1) {
      throw new KassaError('ORDER_CHANGE_INVALID', { field: 'operations', detail: 'an order keeps at least one position; cancel the order instead' });
    }

    // Quotas of every product involved, locked in quota id order (reserveQuota's order) before any
    // counter moves, with their usage before the change.
    const involved = [...new Set([...productIds, ...ops.flatMap((op) => ('positionId' in op ? [byId.get(op.positionId)!.product_id] : []))])];
    const quotasBefore = await lockQuotasOf(tx, involved);
    for (const id of productIds) {
      if (!quotasBefore.some((q) => q.products.includes(id))) throw new KassaError('ORDER_PRODUCT_UNAVAILABLE', { product: id });
    }

    let nextNo = positions.reduce((n, p) => Math.max(n, p.position_no), 0) + 1;
    const logged: Record<string, unknown>[] = [];
    for (const op of ops) {
      switch (op.kind) {
        case 'cancel_position': {
          await cancelPosition(tx, op.positionId);
          logged.push({ kind: op.kind, positionId: op.positionId, price: Number(byId.get(op.positionId)!.price) });
          break;
        }
        case 'change_price': {
          await setPositionPrice(tx, op.positionId, op.price);
          logged.push({ kind: op.kind, positionId: op.positionId, from: Number(byId.get(op.positionId)!.price), to: op.price });
          break;
        }
        case 'change_product': {
          const old = byId.get(op.positionId)!;
          const price = op.price ?? Number(productOf.get(op.productId)!.price);
          await setPositionProduct(tx, op.positionId, op.productId, price);
          logged.push({ kind: op.kind, positionId: op.positionId, fromProduct: old.product_id, toProduct: op.productId, from: Number(old.price), to: price });
          break;
        }
        case 'add_position': {
          const price = op.price ?? Number(productOf.get(op.productId)!.price);
          const positionId = await addPosition(tx, orderId, { productId: op.productId, positionNo: nextNo, price, attendeeName: op.attendeeName ?? null });
          logged.push({ kind: op.kind, positionId, positionNo: nextNo, productId: op.productId, price });
          nextNo++;
          break;
        }
      }
    }
    // The triggers moved the counters; a quota that grew past its size refuses the whole change.
    await assertWithinQuota(tx, quotasBefore, deps.clock.now());

    // Total, then the open payment fee on what is now owed (as a method switch computes it).
    await recomputeTotal(tx, order);
    const openFees = await openPaymentFees(tx, orderId);
    if (openFees.length > 0 && feeProvider) {
      const base = feeBase((await loadOrderSums(tx, orderId)).pendingSum, openFees, order.currency);
      const fee = base.amount > 0 ? calculateProviderFee(feeProvider.provider, feeProvider.ctx, base).amount : 0;
      await replaceOpenFee(tx, orderId, openFees, feeProvider.provider.identifier, fee);
      await recomputeTotal(tx, order);
    }
    let sums = await loadOrderSums(tx, orderId);

    // Open attempts: one never started is simply re-priced; any other (already at the gateway)
    // for a different amount is canceled after commit, and the buyer pays again from the order page.
    const toCancel: string[] = [];
    const open = await findOpenPayments(tx, orderId);
    for (const p of open) {
      if (p.amount === sums.pendingSum) continue;
      if (paymentMachine.is('executable', p.state) && !p.processInitiated) {
        if (sums.pendingSum > 0) {
          await setPaymentAmount(tx, p.id, sums.pendingSum);
          await record(tx, {
            order, objectType: 'payment', objectId: p.id, action: 'kassa.order.payment.amount_changed', actor: input.actor,
            data: { localId: p.localId, provider: p.provider, from: p.amount, to: sums.pendingSum },
          });
        } else {
          await changePayment(tx, order, p, 'cancel', {
            actor: input.actor, data: { localId: p.localId, provider: p.provider, reason: 'nothing is owed after the order change' },
            payload: { provider: p.provider },
          });
        }
      } else {
        toCancel.push(p.id);
      }
    }

    // The paid state follows the money (pretix's _check_paid_price_change).
    const now = deps.clock.now();
    if (orderMachine.is('paid', order.status) && sums.pendingSum > 0) {
      const event = await getEvent(tx, order.eventId);
      await moveOrder(tx, order, 'unpay', { expires: newPaymentDeadline(event, now) });
    } else if (orderMachine.is('awaitingPayment', order.status) && sums.pendingSum <= 0) {
      await moveOrder(tx, order, 'pay');
    }
    sums = await loadOrderSums(tx, orderId);

    for (const entry of logged) {
      await record(tx, { order, objectType: 'order', objectId: order.id, action: `kassa.order.changed.${String(entry.kind)}`, actor: input.actor, data: entry });
    }
    const change = {
      operations: logged, previousTotal, total: order.total, previousStatus, status: order.status,
      pendingSum: sums.pendingSum, currency: order.currency, expires: order.expires.toISOString(),
    };
    await record(tx, { order, objectType: 'order', objectId: order.id, action: 'kassa.order.changed', actor: input.actor, data: change, topic: 'order.changed', payload: change });
    if (sums.isOverpaid && !before.isOverpaid) {
      await record(tx, {
        order, objectType: 'order', objectId: order.id, action: 'kassa.order.overpaid', actor: input.actor,
        data: { pendingSum: sums.pendingSum, status: sums.status }, topic: 'order.overpaid',
        payload: { owedBack: -sums.pendingSum, currency: sums.currency, status: sums.status },
      });
    }
    return { order, previousTotal, previousStatus, toCancel };
  });

  const paymentCancelFailures: OrderChangeResult['paymentCancelFailures'] = [];
  const canceledPayments: string[] = [];
  for (const id of outcome.toCancel) {
    try {
      await payments.cancelPayment(id, input.actor);
      canceledPayments.push(id);
    } catch (err) {
      paymentCancelFailures.push({ paymentId: id, error: err instanceof Error ? err.message : String(err) });
    }
  }
  return {
    order: await getOrder(m, orderId), summary: await loadOrderSums(m, orderId), previousTotal: outcome.previousTotal, previousStatus: outcome.previousStatus,
    canceledPayments, paymentCancelFailures,
  };
}

function invalid(index: number, field: string, detail: string): KassaError {
  return new KassaError('ORDER_CHANGE_INVALID', { field: `operations[${index}].${field}`, detail });
}

/** Refuses malformed operations before anything is read. */
function validateOperations(value: unknown): OrderChangeOperation[] {
  if (!Array.isArray(value) || value.length === 0) throw new KassaError('ORDER_CHANGE_INVALID', { field: 'operations', detail: 'at least one operation is needed' });
  if (value.length > MAX_OPERATIONS) throw new KassaError('ORDER_CHANGE_INVALID', { field: 'operations', detail: `at most ${MAX_OPERATIONS} operations at once` });
  const touched = new Set<string>();
  return value.map((raw, i) => {
    const op = raw as Record<string, unknown>;
    const price = (key: string, optional: boolean) => {
      if (op[key] === undefined && optional) return undefined;
      try {
        assertNonNegative(op[key] as number, `operations[${i}].${key}`);
        assertEnteredAmount(op[key] as number, `operations[${i}].${key}`);
      } catch (err) {
        throw invalid(i, key, err instanceof Error ? err.message : String(err));
      }
      return op[key] as number;
    };
    const uuid = (key: string) => {
      if (!isUuid(op[key])) throw invalid(i, key, `${key} must be a uuid`);
      return op[key] as string;
    };
    const position = () => {
      const id = uuid('positionId');
      if (touched.has(id)) throw invalid(i, 'positionId', 'one operation per position in a change');
      touched.add(id);
      return id;
    };
    switch (op?.kind) {
      case 'cancel_position': return { kind: 'cancel_position', positionId: position() };
      case 'change_price': return { kind: 'change_price', positionId: position(), price: price('price', false)! };
      case 'change_product': return { kind: 'change_product', positionId: position(), productId: uuid('productId'), price: price('price', true) };
      case 'add_position': {
        const name = op.attendeeName;
        if (name !== undefined && name !== null && (typeof name !== 'string' || name.length > 200)) throw invalid(i, 'attendeeName', 'at most 200 characters');
        return { kind: 'add_position', productId: uuid('productId'), price: price('price', true), attendeeName: (name as string | null | undefined) ?? null };
      }
      default: throw invalid(i, 'kind', 'one of cancel_position, change_price, change_product, add_position');
    }
  });
}

/**
 * A limited quota that grew past its size through this change refuses it (an already overbooked one
 * may shrink). As when an order is placed, tickets held in buyers' carts (unexpired at `now`) are
 * not free: an added position never takes a seat a cart holds.
 */
async function assertWithinQuota(tx: EntityManager, before: QuotaUse[], now: Date): Promise<void> {
  const limited = before.filter((q) => q.size !== null);
  if (limited.length === 0) return;
  const after = await readQuotaUsage(tx, limited.map((q) => q.id), now);
  for (const q of limited) {
    const row = after.find((a) => a.quota_id === q.id);
    const used = row?.used ?? q.used;
    const held = row?.held ?? 0;
    if (used > q.used && used + held > (q.size as number)) {
      const left = Math.max((q.size as number) - q.used - held, 0);
      throw new KassaError('ORDER_QUOTA_EXCEEDED', { detail: `quota "${q.name}" has ${left} left, ${used - q.used} more requested` });
    }
  }
}
