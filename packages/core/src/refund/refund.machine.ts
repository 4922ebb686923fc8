import { defineMachine } from '../state-machine';

export const refundStates = ['created', 'transit', 'done', 'failed', 'canceled', 'external'] as const;
export type RefundState = (typeof refundStates)[number];
export const refundEvents = ['send', 'done', 'fail', 'cancel', 'process'] as const;
export type RefundEvent = (typeof refundEvents)[number];
export const refundSources = ['buyer', 'admin', 'external'] as const;
export type RefundSource = (typeof refundSources)[number];

/** The questions code may ask of a state; see `sets` below. */
export type RefundSet = 'counting' | 'inFlight' | 'retryable' | 'awaitingDecision' | 'done' | 'inTransit';

/** One row per refund attempt, after pretix §1.3. External refunds wait for the organizer's decision. */
export const refundMachine = defineMachine<RefundState, RefundEvent, RefundSet>({
  name: 'OrderRefund',
  states: refundStates,
  events: refundEvents,
  initial: ['created', 'external'],
  describe: {
    created: 'requested; counts as refunded money while in flight',
    transit: 'sent by the provider, not settled yet; counts as refunded',
    done: 'money returned; counts as refunded',
    failed: 'the provider could not return the money; does not count',
    canceled: 'withdrawn; does not count',
    external: 'made outside Kassa (dashboard refund, lost dispute); not counted until the organizer processes it',
  },
  sets: {
    counting: { states: ['created', 'transit', 'done'], meaning: 'counts as refunded money (pretix counts refunds in flight)' },
    inFlight: { states: ['created', 'transit'], meaning: 'requested or sent, not settled yet' },
    retryable: { states: ['failed'], meaning: 'failed: the organizer may retry it' },
    awaitingDecision: { states: ['external'], meaning: 'made outside Kassa; waits for the organizer to process it' },
    done: { states: ['done'], meaning: 'money returned' },
    inTransit: { states: ['transit'], meaning: 'sent by the provider, not settled yet' },
  },
  edges: [
    { from: 'created', event: 'send', to: 'transit', log: 'kassa.order.refund.transit', topic: 'refund.transit' },
    { from: 'created', event: 'done', to: 'done', log: 'kassa.order.refund.done', topic: 'refund.done' },
    { from: 'transit', event: 'done', to: 'done', log: 'kassa.order.refund.done', topic: 'refund.done' },
    { from: 'external', event: 'process', to: 'done', log: 'kassa.order.refund.done', topic: 'refund.done', note: 'the organizer accepts it: cancel the order or set it back to pending' },
    { from: 'created', event: 'fail', to: 'failed', log: 'kassa.order.refund.failed', topic: 'refund.failed' },
    { from: 'transit', event: 'fail', to: 'failed', log: 'kassa.order.refund.failed', topic: 'refund.failed' },
    { from: 'done', event: 'fail', to: 'failed', log: 'kassa.order.refund.failed', topic: 'refund.failed', note: 'a provider reports a failure after success (Stripe refund.failed)' },
    { from: 'created', event: 'cancel', to: 'canceled', log: 'kassa.order.refund.canceled', topic: 'refund.canceled' },
    { from: 'transit', event: 'cancel', to: 'canceled', log: 'kassa.order.refund.canceled', topic: 'refund.canceled' },
    { from: 'external', event: 'cancel', to: 'canceled', log: 'kassa.order.refund.canceled', topic: 'refund.canceled', note: 'e.g. a dispute won: funds reinstated' },
  ],
});
