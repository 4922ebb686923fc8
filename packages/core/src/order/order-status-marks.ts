import type { Actor } from '../audit/log-action';
import { KassaError } from '../errors';
import { getEvent, getOrder } from '../persistence/reads';
import { isUuid, lockOrder } from '../persistence/rows';
import { changeOrder as changeOrderState } from '../persistence/state-change';
import { withTransaction } from '../persistence/transaction';
import { newPaymentDeadline } from './order-payability';
import type { Order } from './order.entity';
import { orderMachine } from './order.machine';
import type { CoreDeps } from './service-deps';

/*
 * pretix's mark_pending and mark_expired, for the organizer (control panel, REST API). Both are
 * edges of the order machine; the machine refuses every other state with
 * STATE_TRANSITION_NOT_ALLOWED, so nothing here checks a state by name.
 */

/**
 * pretix's mark_pending: a paid order is marked unpaid ("the money did not arrive after all").
 * Payments are left as they are; a deadline that has passed is moved to a new one, so the order
 * does not expire in the next minute.
 */
export async function markOrderPending(deps: CoreDeps, orderId: string, actor: Actor): Promise<Order> {
  if (!isUuid(orderId)) throw new KassaError('NOT_FOUND', { entity: `Order ${orderId}` });
  await withTransaction(deps.dataSource, async (tx) => {
    const order = await lockOrder(tx, orderId);
    const from = order.status;
    // unpay also leaves expired (an external refund processed); marking pending is for paid orders only.
    if (!orderMachine.is('paid', from)) throw new KassaError('STATE_TRANSITION_NOT_ALLOWED', { machine: orderMachine.name, from, event: 'mark_pending' });
    const now = deps.clock.now();
    const expires = order.expires > now ? order.expires : newPaymentDeadline(await getEvent(tx, order.eventId), now);
    await changeOrderState(tx, order, 'unpay', {
      actor, data: { from, markedPending: true, expires: expires.toISOString() },
      payload: { from, expires: expires.toISOString(), markedPending: true },
    }, { expires });
  });
  return getOrder(deps.dataSource.manager, orderId);
}

/** pretix's mark_expired: a pending order expires now, before its deadline; its quota is released. */
export async function markOrderExpired(deps: CoreDeps, orderId: string, actor: Actor): Promise<Order> {
  if (!isUuid(orderId)) throw new KassaError('NOT_FOUND', { entity: `Order ${orderId}` });
  await withTransaction(deps.dataSource, async (tx) => {
    const order = await lockOrder(tx, orderId);
    const from = order.status;
    orderMachine.transition(from, 'expire');
    await changeOrderState(tx, order, 'expire', { actor, data: { from, markedExpired: true }, payload: { from, markedExpired: true } });
  });
  return getOrder(deps.dataSource.manager, orderId);
}
