import { defineMachine } from '../state-machine';

export const instalmentStates = ['on_session', 'scheduled', 'charging', 'processing', 'retrying', 'action_required', 'paid', 'failed', 'canceled'] as const;
export type InstalmentState = (typeof instalmentStates)[number];
export const instalmentEvents = ['claim', 'succeed', 'process', 'soft_decline', 'need_action', 'reschedule', 'give_up', 'cancel'] as const;
export type InstalmentEvent = (typeof instalmentEvents)[number];

export type InstalmentSet = 'due' | 'inFlight' | 'awaitingBuyer' | 'chargeableNow' | 'cancelable' | 'open' | 'settled' | 'paid' | 'organizerDecides' | 'awaitingProvider' | 'settledElsewhere';

/**
 * One instalment of a payment plan (docs/payment-plans.md). Its money lives in its own
 * order_payment row; this machine says where the charge run stands with it.
 */
export const instalmentMachine = defineMachine<InstalmentState, InstalmentEvent, InstalmentSet>({
  name: 'PlanInstalment',
  states: instalmentStates,
  events: instalmentEvents,
  initial: ['on_session', 'scheduled'],
  describe: {
    on_session: 'the first instalment (deposit): the buyer pays it in the checkout; the charge run never claims it',
    scheduled: 'waits for its due date',
    charging: 'a charge run holds it (a lease): the provider is being asked to charge the stored method',
    processing: 'the provider accepted the charge; the money is on its way',
    retrying: 'a soft decline (e.g. insufficient funds); charged again at next_attempt_at',
    action_required: 'the buyer must act on-session (authentication, expired card, hard decline); they were emailed a link',
    paid: 'its payment is confirmed',
    failed: 'given up: no further charge (the organizer decided, or the plan ended)',
    canceled: 'the plan was canceled before it was charged',
  },
  sets: {
    due: { states: ['scheduled', 'retrying'], meaning: 'the charge run claims it once next_attempt_at has come' },
    inFlight: { states: ['charging'], meaning: 'claimed by a charge run; claimed again only when the lease ran out (a crashed worker)' },
    awaitingBuyer: { states: ['action_required'], meaning: 'waits for the buyer; after the grace period the organizer decides' },
    chargeableNow: { states: ['scheduled', 'retrying', 'action_required'], meaning: 'the organizer may charge it now (charge now / retry)' },
    cancelable: { states: ['on_session', 'scheduled', 'retrying', 'action_required'], meaning: 'no charge is in flight: canceling the plan cancels it' },
    open: { states: ['on_session', 'scheduled', 'charging', 'processing', 'retrying', 'action_required'], meaning: 'not settled: the plan is still running for it' },
    settled: { states: ['paid', 'failed', 'canceled'], meaning: 'its end state: nothing more happens to it' },
    paid: { states: ['paid'], meaning: 'its payment is confirmed' },
    awaitingProvider: { states: ['processing'], meaning: 'the provider reports the outcome later (its payment is pending)' },
    settledElsewhere: { states: ['on_session', 'scheduled', 'processing', 'retrying', 'action_required'], meaning: 'its payment may be confirmed outside a charge run (checkout, webhook, on-session page, marked paid): the run then settles it' },
    organizerDecides: { states: ['action_required'], meaning: 'past the grace period the organizer may extend, mark paid or give up' },
  },
  edges: [
    { from: 'scheduled', event: 'claim', to: 'charging' },
    { from: 'retrying', event: 'claim', to: 'charging' },
    { from: 'action_required', event: 'claim', to: 'charging', note: 'the organizer charges it now, or the buyer fixed the card' },
    { from: 'charging', event: 'claim', to: 'charging', note: 'the previous lease ran out (crashed worker); the same idempotency key is sent again' },
    { from: 'charging', event: 'succeed', to: 'paid', log: 'kassa.plan.instalment.paid' },
    { from: 'processing', event: 'succeed', to: 'paid', log: 'kassa.plan.instalment.paid' },
    { from: 'action_required', event: 'succeed', to: 'paid', log: 'kassa.plan.instalment.paid', note: 'paid on-session by the buyer, or marked paid by the organizer' },
    { from: 'retrying', event: 'succeed', to: 'paid', log: 'kassa.plan.instalment.paid', note: 'paid on-session or marked paid while waiting for the retry' },
    { from: 'on_session', event: 'succeed', to: 'paid', log: 'kassa.plan.instalment.paid' },
    { from: 'on_session', event: 'need_action', to: 'action_required', log: 'kassa.plan.instalment.action_required', topic: 'plan.action_required', note: 'the deposit failed in the checkout' },
    { from: 'on_session', event: 'cancel', to: 'canceled', log: 'kassa.plan.instalment.canceled' },
    { from: 'scheduled', event: 'succeed', to: 'paid', log: 'kassa.plan.instalment.paid', note: 'its payment was confirmed another way (marked paid)' },
    { from: 'charging', event: 'process', to: 'processing', log: 'kassa.plan.instalment.processing' },
    { from: 'charging', event: 'soft_decline', to: 'retrying', log: 'kassa.plan.instalment.retrying' },
    { from: 'charging', event: 'need_action', to: 'action_required', log: 'kassa.plan.instalment.action_required', topic: 'plan.action_required' },
    { from: 'processing', event: 'need_action', to: 'action_required', log: 'kassa.plan.instalment.action_required', topic: 'plan.action_required', note: 'the processing charge failed' },
    { from: 'action_required', event: 'reschedule', to: 'scheduled', log: 'kassa.plan.instalment.extended', note: 'the organizer extends: a new due date' },
    { from: 'retrying', event: 'reschedule', to: 'scheduled', log: 'kassa.plan.instalment.extended' },
    { from: 'action_required', event: 'give_up', to: 'failed', log: 'kassa.plan.instalment.failed', topic: 'plan.instalment_failed' },
    { from: 'scheduled', event: 'cancel', to: 'canceled', log: 'kassa.plan.instalment.canceled' },
    { from: 'retrying', event: 'cancel', to: 'canceled', log: 'kassa.plan.instalment.canceled' },
    { from: 'action_required', event: 'cancel', to: 'canceled', log: 'kassa.plan.instalment.canceled' },
  ],
});
