import { defineMachine } from '../state-machine';

export const instalmentStates = ['on_session', 'scheduled', 'processing', 'retrying', 'action_required', 'paid', 'failed', 'canceled'] as const;
export type InstalmentState = (typeof instalmentStates)[number];
export const instalmentEvents = ['succeed', 'process', 'soft_decline', 'need_action', 'reschedule', 'give_up', 'cancel'] as const;
export type InstalmentEvent = (typeof instalmentEvents)[number];

export type InstalmentSet =
  | 'due' | 'onSession' | 'awaitingBuyer' | 'chargeableNow' | 'cancelable' | 'open' | 'settled' | 'paid' | 'organizerDecides' | 'awaitingProvider' | 'settledElsewhere';

/**
 * One instalment of a payment plan (docs/payment-plans.md). Its money lives in its own
 * order_payment row; this machine says where the plan stands with it. A charge run's claim is
 * no state but a lease (`lease_until`, `claimed_by`) on a due instalment: a crashed run's claim
 * simply runs out.
 */
export const instalmentMachine = defineMachine<InstalmentState, InstalmentEvent, InstalmentSet>({
  name: 'PlanInstalment',
  states: instalmentStates,
  events: instalmentEvents,
  initial: ['on_session', 'scheduled'],
  describe: {
    on_session: 'the first instalment (deposit): the buyer pays it in the checkout; the charge run never claims it',
    scheduled: 'waits for its due date, then the charge run charges the stored method off-session',
    processing: 'the provider accepted the charge; the money is on its way',
    retrying: 'a soft decline (e.g. insufficient funds); charged again at next_attempt_at',
    action_required: 'the buyer must act on-session (authentication, expired card, hard decline); they were emailed a link',
    paid: 'its payment is confirmed',
    failed: 'given up by the organizer: no further charge',
    canceled: 'the plan was canceled before it was paid',
  },
  sets: {
    due: { states: ['scheduled', 'retrying'], meaning: 'the charge run claims it (a lease) once next_attempt_at has come' },
    onSession: { states: ['on_session'], meaning: 'the deposit, not paid yet: no later instalment of the plan is charged before it' },
    awaitingBuyer: { states: ['action_required'], meaning: 'waits for the buyer; after the grace period the organizer decides' },
    chargeableNow: { states: ['scheduled', 'retrying', 'action_required'], meaning: 'the organizer may charge it now (charge now / retry)' },
    cancelable: { states: ['on_session', 'scheduled', 'retrying', 'action_required'], meaning: 'no charge is on its way: canceling the plan cancels it' },
    open: { states: ['on_session', 'scheduled', 'processing', 'retrying', 'action_required'], meaning: 'not settled: the plan is still running for it' },
    settled: { states: ['paid', 'failed', 'canceled'], meaning: 'its end state: nothing more happens to it' },
    paid: { states: ['paid'], meaning: 'its payment is confirmed' },
    organizerDecides: { states: ['action_required'], meaning: 'past the grace period the organizer may extend, mark paid or give up' },
    awaitingProvider: { states: ['processing'], meaning: 'the provider reports the outcome later (its payment is pending)' },
    settledElsewhere: { states: ['on_session', 'scheduled', 'processing', 'retrying', 'action_required'], meaning: 'its payment may be confirmed outside a charge run (checkout, webhook, on-session page, marked paid): it is then settled as paid' },
  },
  edges: [
    { from: 'on_session', event: 'succeed', to: 'paid', log: 'kassa.plan.instalment.paid', topic: 'plan.instalment_paid', note: 'the deposit was paid in the checkout' },
    { from: 'scheduled', event: 'succeed', to: 'paid', log: 'kassa.plan.instalment.paid', topic: 'plan.instalment_paid' },
    { from: 'retrying', event: 'succeed', to: 'paid', log: 'kassa.plan.instalment.paid', topic: 'plan.instalment_paid' },
    { from: 'processing', event: 'succeed', to: 'paid', log: 'kassa.plan.instalment.paid', topic: 'plan.instalment_paid' },
    { from: 'action_required', event: 'succeed', to: 'paid', log: 'kassa.plan.instalment.paid', topic: 'plan.instalment_paid', note: 'paid on-session by the buyer, or marked paid by the organizer' },
    { from: 'scheduled', event: 'process', to: 'processing', log: 'kassa.plan.instalment.processing', topic: 'plan.instalment_processing' },
    { from: 'retrying', event: 'process', to: 'processing', log: 'kassa.plan.instalment.processing', topic: 'plan.instalment_processing' },
    { from: 'scheduled', event: 'soft_decline', to: 'retrying', log: 'kassa.plan.instalment.retrying', topic: 'plan.instalment_retrying' },
    { from: 'retrying', event: 'soft_decline', to: 'retrying', log: 'kassa.plan.instalment.retrying', topic: 'plan.instalment_retrying', note: 'declined again: the next retry of the schedule' },
    { from: 'on_session', event: 'need_action', to: 'action_required', log: 'kassa.plan.instalment.action_required', topic: 'plan.action_required', note: 'the deposit failed in the checkout' },
    { from: 'scheduled', event: 'need_action', to: 'action_required', log: 'kassa.plan.instalment.action_required', topic: 'plan.action_required' },
    { from: 'retrying', event: 'need_action', to: 'action_required', log: 'kassa.plan.instalment.action_required', topic: 'plan.action_required', note: 'also when the soft declines used up the retry schedule' },
    { from: 'processing', event: 'need_action', to: 'action_required', log: 'kassa.plan.instalment.action_required', topic: 'plan.action_required', note: 'the processing charge failed' },
    { from: 'action_required', event: 'reschedule', to: 'scheduled', log: 'kassa.plan.instalment.rescheduled', topic: 'plan.instalment_rescheduled', note: 'the organizer extends or charges now; the buyer saved a new card' },
    { from: 'retrying', event: 'reschedule', to: 'scheduled', log: 'kassa.plan.instalment.rescheduled', topic: 'plan.instalment_rescheduled' },
    { from: 'action_required', event: 'give_up', to: 'failed', log: 'kassa.plan.instalment.failed', topic: 'plan.instalment_failed' },
    { from: 'on_session', event: 'cancel', to: 'canceled', log: 'kassa.plan.instalment.canceled', topic: 'plan.instalment_canceled' },
    { from: 'scheduled', event: 'cancel', to: 'canceled', log: 'kassa.plan.instalment.canceled', topic: 'plan.instalment_canceled' },
    { from: 'retrying', event: 'cancel', to: 'canceled', log: 'kassa.plan.instalment.canceled', topic: 'plan.instalment_canceled' },
    { from: 'action_required', event: 'cancel', to: 'canceled', log: 'kassa.plan.instalment.canceled', topic: 'plan.instalment_canceled' },
  ],
});
