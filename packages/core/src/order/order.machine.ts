import { defineMachine } from '../state-machine';

export const orderStates = ['pending', 'paid', 'expired', 'canceled'] as const;
export type OrderStatus = (typeof orderStates)[number];
export const orderEvents = ['pay', 'mark_paid', 'expire', 'extend', 'cancel', 'unpay'] as const;
export type OrderEvent = (typeof orderEvents)[number];

/** The questions code may ask of a state; see `sets` below. */
export type OrderSet = 'quotaHolding' | 'payable' | 'changeable' | 'closed' | 'awaitingPayment' | 'paid' | 'canceled' | 'expired';

/** Order status, after pretix §1.1. Paid/overpaid/underpaid are derived from payments and refunds, not stored. */
export const orderMachine = defineMachine<OrderStatus, OrderEvent, OrderSet>({
  name: 'Order',
  states: orderStates,
  events: orderEvents,
  initial: ['pending'],
  describe: {
    pending: 'placed and not (fully) paid yet',
    paid: 'confirmed payments minus refunds cover the total',
    expired: 'the payment deadline passed; a late payment can still revive it while quota allows',
    canceled: 'canceled; money still held is flagged as overpaid',
  },
  sets: {
    quotaHolding: { states: ['pending', 'paid'], meaning: 'holds its positions against quota (the quota trigger counts these)' },
    payable: { states: ['pending', 'expired'], meaning: 'can still receive a payment and change its payment method (an expired order only while it can be revived)' },
    changeable: { states: ['pending', 'paid'], meaning: 'positions, prices and fees may be changed by the organizer' },
    closed: { states: ['expired', 'canceled'], meaning: 'not expected to be paid: money it holds counts as overpaid' },
    awaitingPayment: { states: ['pending'], meaning: 'open: placed and waiting for its payment; reminders and action-required emails go out' },
    paid: { states: ['paid'], meaning: 'paid in full' },
    canceled: { states: ['canceled'], meaning: 'canceled for good: nothing moves it any more' },
    expired: { states: ['expired'], meaning: 'past its deadline; a late payment may revive it' },
  },
  edges: [
    { from: 'pending', event: 'pay', to: 'paid', log: 'kassa.order.paid', topic: 'order.paid', note: 'payments minus refunds reach the total' },
    { from: 'expired', event: 'pay', to: 'paid', log: 'kassa.order.paid', topic: 'order.paid', note: 'late payment, only when quota allows or when forced' },
    { from: 'expired', event: 'mark_paid', to: 'paid', log: 'kassa.order.paid', topic: 'order.paid', note: 'organizer marks a fully paid order paid (pretix mark as paid); with force past quota and the last date of payments, overbooking' },
    { from: 'pending', event: 'mark_paid', to: 'paid', log: 'kassa.order.paid', topic: 'order.paid', note: 'organizer marks a fully paid order paid, e.g. money that arrived after the last date of payments' },
    { from: 'pending', event: 'expire', to: 'expired', log: 'kassa.order.expired', topic: 'order.expired', note: 'the expiry job, once the deadline has passed' },
    { from: 'expired', event: 'extend', to: 'pending', log: 'kassa.order.expirychanged', topic: 'order.expiry_changed', note: 'organizer extends the deadline; quota re-checked unless forced' },
    { from: 'pending', event: 'extend', to: 'pending', log: 'kassa.order.expirychanged', topic: 'order.expiry_changed', note: 'a new deadline for an open order' },
    { from: 'paid', event: 'unpay', to: 'pending', log: 'kassa.order.unpaid', topic: 'order.unpaid', note: 'a refund (API, control panel, manual) or a processed external refund left money owing: new deadline' },
    { from: 'expired', event: 'unpay', to: 'pending', log: 'kassa.order.unpaid', topic: 'order.unpaid', note: 'a processed external refund sets an expired order back to pending' },
    { from: 'pending', event: 'cancel', to: 'canceled', log: 'kassa.order.canceled', topic: 'order.canceled' },
    { from: 'paid', event: 'cancel', to: 'canceled', log: 'kassa.order.canceled', topic: 'order.canceled' },
    { from: 'expired', event: 'cancel', to: 'canceled', log: 'kassa.order.canceled', topic: 'order.canceled' },
  ],
});
