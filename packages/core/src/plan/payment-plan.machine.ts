import { defineMachine } from '../state-machine';

export const planStates = ['active', 'attention', 'completed', 'canceled'] as const;
export type PlanState = (typeof planStates)[number];
export const planEvents = ['flag', 'resume', 'complete', 'cancel'] as const;
export type PlanEvent = (typeof planEvents)[number];
export type PlanSet = 'running' | 'closed' | 'needsAttention';

/** A payment plan: an order paid in instalments (docs/payment-plans.md). */
export const planMachine = defineMachine<PlanState, PlanEvent, PlanSet>({
  name: 'PaymentPlan',
  states: planStates,
  events: planEvents,
  initial: ['active'],
  describe: {
    active: 'instalments are charged on their dates',
    attention: 'an instalment waits for the buyer (action required); the organizer sees it',
    completed: 'every instalment is paid',
    canceled: 'the organizer canceled the plan; open instalments were canceled',
  },
  sets: {
    running: { states: ['active', 'attention'], meaning: 'the charge run charges its due instalments' },
    closed: { states: ['completed', 'canceled'], meaning: 'nothing more is charged' },
    needsAttention: { states: ['attention'], meaning: 'shown to the organizer as needing a decision or the buyer' },
  },
  edges: [
    { from: 'active', event: 'flag', to: 'attention', log: 'kassa.plan.attention', topic: 'plan.attention' },
    { from: 'attention', event: 'resume', to: 'active', log: 'kassa.plan.resumed', topic: 'plan.resumed' },
    { from: 'active', event: 'complete', to: 'completed', log: 'kassa.plan.completed', topic: 'plan.completed' },
    { from: 'attention', event: 'complete', to: 'completed', log: 'kassa.plan.completed', topic: 'plan.completed' },
    { from: 'active', event: 'cancel', to: 'canceled', log: 'kassa.plan.canceled', topic: 'plan.canceled' },
    { from: 'attention', event: 'cancel', to: 'canceled', log: 'kassa.plan.canceled', topic: 'plan.canceled' },
  ],
});
