import { defineMachine } from '../state-machine';

export const paymentStates = ['created', 'pending', 'confirmed', 'failed', 'canceled', 'refunded'] as const;
export type PaymentState = (typeof paymentStates)[number];
export const paymentEvents = ['pend', 'confirm', 'fail', 'cancel', 'refund', 'unrefund'] as const;
export type PaymentEvent = (typeof paymentEvents)[number];

/** The questions code may ask of a state; see `sets` below. */
export type PaymentSet = 'counting' | 'refundable' | 'externallyRefundable' | 'open' | 'executable' | 'inTransit' | 'settled' | 'abandoned' | 'confirmed';

/** One row per payment attempt, after pretix §1.2. */
export const paymentMachine = defineMachine<PaymentState, PaymentEvent, PaymentSet>({
  name: 'OrderPayment',
  states: paymentStates,
  events: paymentEvents,
  initial: ['created'],
  describe: {
    created: 'the attempt exists; no money has moved yet',
    pending: 'money is on its way (processing, bank transfer, authentication pending)',
    confirmed: 'money received; counts towards the order',
    failed: 'the attempt failed; the buyer can retry or switch method',
    canceled: 'abandoned or replaced; never counts',
    refunded: 'its created, in-transit and done refunds cover its whole amount',
  },
  sets: {
    counting: { states: ['confirmed', 'refunded'], meaning: 'money received: counts towards the order (paid-like), refunds are counted against it' },
    refundable: { states: ['confirmed'], meaning: 'a new refund may be created against it' },
    externallyRefundable: { states: ['confirmed', 'refunded'], meaning: 'an external refund (dashboard, lost dispute) may be recorded against it' },
    open: { states: ['created', 'pending'], meaning: 'not settled yet: may still be confirmed, failed or canceled' },
    executable: { states: ['created'], meaning: 'no money has moved yet: the provider may be asked to execute it' },
    inTransit: { states: ['pending'], meaning: 'money is on its way; the buyer is told to wait' },
    settled: { states: ['confirmed', 'failed', 'refunded'], meaning: 'its outcome is known; its amount can no longer change' },
    abandoned: { states: ['canceled'], meaning: 'abandoned or replaced; never counts and is not shown as an attempt' },
    confirmed: { states: ['confirmed'], meaning: 'money received and not refunded in full' },
  },
  edges: [
    { from: 'created', event: 'pend', to: 'pending', log: 'kassa.order.payment.pending', topic: 'payment.pending', note: 'the provider reports the money is on its way' },
    { from: 'created', event: 'confirm', to: 'confirmed', log: 'kassa.order.payment.confirmed', topic: 'payment.confirmed' },
    { from: 'pending', event: 'confirm', to: 'confirmed', log: 'kassa.order.payment.confirmed', topic: 'payment.confirmed' },
    { from: 'failed', event: 'confirm', to: 'confirmed', log: 'kassa.order.payment.confirmed', topic: 'payment.confirmed', note: 'the provider later reports success: received money is never dropped' },
    { from: 'canceled', event: 'confirm', to: 'confirmed', log: 'kassa.order.payment.confirmed', topic: 'payment.confirmed', note: 'money arrived for an abandoned attempt: kept and flagged' },
    { from: 'created', event: 'fail', to: 'failed', log: 'kassa.order.payment.failed', topic: 'payment.failed' },
    { from: 'pending', event: 'fail', to: 'failed', log: 'kassa.order.payment.failed', topic: 'payment.failed' },
    { from: 'canceled', event: 'fail', to: 'failed', log: 'kassa.order.payment.failed', topic: 'payment.failed', note: 'the provider reports the failure of an attempt we had already abandoned' },
    { from: 'created', event: 'cancel', to: 'canceled', log: 'kassa.order.payment.canceled', topic: 'payment.canceled' },
    { from: 'pending', event: 'cancel', to: 'canceled', log: 'kassa.order.payment.canceled', topic: 'payment.canceled', note: 'only when the provider allows aborting pending payments' },
    { from: 'confirmed', event: 'refund', to: 'refunded', log: 'kassa.order.payment.refunded', topic: 'payment.refunded', note: 'created, in-transit and done refunds reach the payment amount (pretix refunded_amount)' },
    { from: 'refunded', event: 'unrefund', to: 'confirmed', log: 'kassa.order.payment.unrefunded', topic: 'payment.unrefunded', note: 'a counted refund failed or was canceled, so the refunds no longer cover it' },
  ],
});
