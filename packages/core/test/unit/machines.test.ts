import {
  KassaError, defineMachine, orderMachine, paymentMachine, refundMachine, planMachine, instalmentMachine, type Edge, type Machine, type MachineDefinition,
} from '../../src/host';

type AnyMachine = Machine<string, string>;
const machines: readonly AnyMachine[] = [orderMachine, paymentMachine, refundMachine, planMachine, instalmentMachine];

/** Every (state, event) pair of a table, split into the edges it allows and the pairs it forbids. */
function pairs(m: AnyMachine) {
  const allowed: [string, string, string][] = [];
  const forbidden: [string, string][] = [];
  for (const from of m.states) {
    for (const event of m.events) {
      const edge = m.edges.find((e) => e.from === from && e.event === event);
      if (edge) allowed.push([from, event, edge.to]);
      else forbidden.push([from, event]);
    }
  }
  return { allowed, forbidden };
}

describe.each(machines.map((m) => [m.name, m] as const))('%s machine, generated from its table', (_name, machine) => {
  const { allowed, forbidden } = pairs(machine);

  it('declares the audit action and outbox topic of every edge (written by the persistence kernel with the change)', () => {
    for (const edge of machine.edges) {
      expect({ edge: `${edge.from} -${edge.event}->`, log: typeof edge.log, topic: typeof edge.topic })
        .toEqual({ edge: `${edge.from} -${edge.event}->`, log: 'string', topic: 'string' });
      expect(machine.transition(edge.from, edge.event).effects).toEqual({ log: edge.log, topic: edge.topic });
    }
  });

  it('covers every (state, event) pair exactly once', () => {
    expect(allowed.length + forbidden.length).toBe(machine.states.length * machine.events.length);
    expect(allowed).toHaveLength(machine.edges.length);
  });

  it.each(allowed)('allows %s --%s--> %s', (from, event, to) => {
    expect(machine.transition(from, event).to).toBe(to);
    expect(machine.next(from, event)).toBe(to);
    expect(machine.can(from, event)).toBe(true);
    expect(machine.sourcesOf(event)).toContain(from);
  });

  it.each(forbidden)('refuses %s on %s with STATE_TRANSITION_NOT_ALLOWED', (from, event) => {
    expect(machine.can(from, event)).toBe(false);
    expect(machine.next(from, event)).toBeUndefined();
    expect(machine.sourcesOf(event)).not.toContain(from);
    let error: unknown;
    try {
      machine.transition(from, event);
    } catch (err) {
      error = err;
    }
    expect(error).toBeInstanceOf(KassaError);
    expect(error).toMatchObject({
      code: 'STATE_TRANSITION_NOT_ALLOWED',
      status: 409,
      params: { machine: machine.name, from, event },
      message: `${machine.name} cannot go from ${from} on ${event}`,
    });
  });

  it('describes every state and starts from known states', () => {
    for (const state of machine.states) expect(machine.describe[state]).toMatch(/\S/);
    for (const state of machine.initial) expect(machine.states).toContain(state);
  });
});

// Semantics from pretix (reference/pretix.md §1) that the generated tests above cannot check,
// because they would follow a wrong table faithfully.
describe('pretix semantics the tables must keep', () => {
  it('never drops received money: failed and canceled payments can still be confirmed', () => {
    expect(paymentMachine.transition('failed', 'confirm').to).toBe('confirmed');
    expect(paymentMachine.transition('canceled', 'confirm').to).toBe('confirmed');
  });

  it('a confirmed payment cannot fail or be canceled; only refunds take money back', () => {
    expect(paymentMachine.can('confirmed', 'fail')).toBe(false);
    expect(paymentMachine.can('confirmed', 'cancel')).toBe(false);
    expect(paymentMachine.transition('confirmed', 'refund').to).toBe('refunded');
  });

  it('an expired order can be revived by a late payment, a canceled one cannot', () => {
    expect(orderMachine.transition('expired', 'pay').to).toBe('paid');
    expect(orderMachine.can('canceled', 'pay')).toBe(false);
  });

  it('external refunds wait for the organizer: created as external, then processed or canceled', () => {
    expect(refundMachine.initial).toEqual(expect.arrayContaining(['external']));
    expect(refundMachine.transition('external', 'process').to).toBe('done');
    expect(refundMachine.transition('external', 'cancel').to).toBe('canceled');
    expect(refundMachine.can('external', 'send')).toBe(false);
  });
});

describe('defineMachine validates a table when it is defined', () => {
  type S = 'a' | 'b' | 'c';
  type E = 'go' | 'stop';
  const base: MachineDefinition<S, E> = {
    name: 'Test',
    states: ['a', 'b', 'c'],
    events: ['go', 'stop'],
    initial: ['a'],
    describe: { a: 'start', b: 'middle', c: 'end' },
    sets: { moving: { states: ['a', 'b'], meaning: 'not at the end yet' } },
    edges: [
      { from: 'a', event: 'go', to: 'b' },
      { from: 'b', event: 'go', to: 'c' },
    ],
  };

  it('answers set membership and generates SQL predicates from the sets', () => {
    const m = defineMachine(base);
    expect(m.is('moving', 'a')).toBe(true);
    expect(m.is('moving', 'c')).toBe(false);
    expect(m.statesOf('moving')).toEqual(['a', 'b']);
    expect(m.sqlIn('moving', 'x.state')).toBe("x.state IN ('a', 'b')");
    expect(m.sqlNotIn('moving', 'state')).toBe("state NOT IN ('a', 'b')");
    expect(() => m.is('nothing', 'a')).toThrow(/no state set nothing/);
  });

  it('refuses a set naming an unknown state, an empty set and a state that is not a plain identifier', () => {
    expect(() => defineMachine({ ...base, sets: { bad: { states: ['z' as S], meaning: '' } } })).toThrow(/set bad names unknown states z/);
    expect(() => defineMachine({ ...base, sets: { none: { states: [], meaning: '' } } })).toThrow(/set none is empty/);
    expect(() => defineMachine({ ...base, states: ['a', 'b', "c'"] as S[], edges: [] })).toThrow(/not a plain identifier/);
  });

  it('accepts a valid table', () => {
    expect(defineMachine(base).transition('a', 'go').to).toBe('b');
  });

  it('returns the effects an edge declares with its next state; next() still answers the state', () => {
    const m = defineMachine({ ...base, edges: [{ from: 'a', event: 'go', to: 'b', log: 'test.went', topic: 'test.went' }, { from: 'b', event: 'go', to: 'c' }] });
    expect(m.transition('a', 'go')).toEqual({ to: 'b', effects: { log: 'test.went', topic: 'test.went' } });
    expect(m.transition('b', 'go')).toEqual({ to: 'c', effects: {} });
    expect(m.effectsOf('a', 'go')).toEqual({ log: 'test.went', topic: 'test.went' });
    expect(m.next('a', 'go')).toBe('b');
    expect(() => m.effectsOf('c', 'go')).toThrow(KassaError);
  });

  it('refuses malformed log actions and topics (they are composed into SQL)', () => {
    expect(() => defineMachine({ ...base, edges: [{ from: 'a', event: 'go', to: 'b', log: "x'; DROP" }, { from: 'b', event: 'go', to: 'c' }] })).toThrow(/malformed log action/);
    expect(() => defineMachine({ ...base, edges: [{ from: 'a', event: 'go', to: 'b', topic: 'no-dot' }, { from: 'b', event: 'go', to: 'c' }] })).toThrow(/malformed topic/);
  });

  it('refuses an edge to an unknown state', () => {
    const edges: Edge<S, E>[] = [...base.edges, { from: 'c', event: 'stop', to: 'z' as S }];
    expect(() => defineMachine({ ...base, edges })).toThrow('Test: edge c -stop-> z names an unknown state');
  });

  it('refuses an edge from an unknown state', () => {
    const edges: Edge<S, E>[] = [...base.edges, { from: 'y' as S, event: 'stop', to: 'a' }];
    expect(() => defineMachine({ ...base, edges })).toThrow(/names an unknown state/);
  });

  it('refuses an unknown event', () => {
    const edges: Edge<S, E>[] = [...base.edges, { from: 'c', event: 'jump' as E, to: 'a' }];
    expect(() => defineMachine({ ...base, edges })).toThrow('Test: unknown event jump');
  });

  it('refuses an ambiguous edge (one state, one event, two targets)', () => {
    const edges: Edge<S, E>[] = [...base.edges, { from: 'a', event: 'go', to: 'c' }];
    expect(() => defineMachine({ ...base, edges })).toThrow('Test: a on go is ambiguous');
  });

  it('refuses a state that no initial state can reach', () => {
    const edges: Edge<S, E>[] = [{ from: 'a', event: 'go', to: 'b' }];
    expect(() => defineMachine({ ...base, edges })).toThrow('Test: unreachable states c');
  });
});
