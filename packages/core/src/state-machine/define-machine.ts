import { KassaError } from '../errors';

/** One edge of a transition table: in state `from`, event `event` leads to `to`. */
export interface Edge<S extends string, E extends string> {
  readonly from: S;
  readonly event: E;
  readonly to: S;
  /** Why this edge exists; rendered into docs/state-machines.md. */
  readonly note?: string;
  /** Audit log action written with this change, e.g. 'kassa.order.paid'. */
  readonly log?: string;
  /** Outbox topic emitted with this change, e.g. 'order.paid'. */
  readonly topic?: string;
}

/** What a change along an edge writes besides the state: its audit action and outbox topic. */
export interface EdgeEffects {
  readonly log?: string;
  readonly topic?: string;
}

/** The result of a transition: the next state and the effects the edge declares. */
export interface Transition<S extends string> {
  readonly to: S;
  readonly effects: EdgeEffects;
}

/** A named set of states with what it means ("counts as paid", "holds quota"); code asks sets, never literal states. */
export interface StateSet<S extends string> {
  readonly states: readonly S[];
  /** What belonging to the set means; rendered into docs/state-machines.md. */
  readonly meaning: string;
}

export interface MachineDefinition<S extends string, E extends string, K extends string = string> {
  readonly name: string;
  readonly states: readonly S[];
  readonly events: readonly E[];
  /** States a new row may be created in. */
  readonly initial: readonly S[];
  readonly edges: readonly Edge<S, E>[];
  readonly describe: Readonly<Record<S, string>>;
  /** The named state sets: the only place that says which states mean what. */
  readonly sets: Readonly<Record<K, StateSet<S>>>;
}

export interface Machine<S extends string, E extends string, K extends string = string> extends MachineDefinition<S, E, K> {
  /** Whether `state` belongs to the named set. */
  is(set: K, state: S): boolean;
  /** The states of the named set. */
  statesOf(set: K): readonly S[];
  /** A SQL predicate `column IN ('a', 'b')` generated from the set (the states are validated identifiers). */
  sqlIn(set: K, column: string): string;
  /** A SQL predicate `column NOT IN ('a', 'b')` generated from the set. */
  sqlNotIn(set: K, column: string): string;
  /** Next state, or undefined when the table has no such edge. */
  next(from: S, event: E): S | undefined;
  can(from: S, event: E): boolean;
  /** Pure transition: the next state and the edge's effects, or a catalogued STATE_TRANSITION_NOT_ALLOWED error. */
  transition(from: S, event: E): Transition<S>;
  /** The effects of the edge (from, event); STATE_TRANSITION_NOT_ALLOWED when there is none. */
  effectsOf(from: S, event: E): EdgeEffects;
  /** States from which `event` is allowed. */
  sourcesOf(event: E): readonly S[];
}

/**
 * Validates a table once at module load: every edge must name known states and events,
 * no (from, event) pair may be ambiguous, and every state must be reachable from an initial one.
 */
export function defineMachine<S extends string, E extends string, K extends string = string>(def: MachineDefinition<S, E, K>): Machine<S, E, K> {
  const index = new Map<string, Transition<S>>();
  for (const state of def.states) {
    // States end up inside generated SQL (sqlIn); only plain identifiers may be states.
    if (!/^[a-z_]+$/.test(state)) throw new Error(`${def.name}: state ${state} is not a plain identifier`);
  }
  const sets = new Map<string, ReadonlySet<S>>();
  for (const [name, set] of Object.entries(def.sets) as [K, StateSet<S>][]) {
    const unknown = set.states.filter((s) => !def.states.includes(s));
    if (unknown.length > 0) throw new Error(`${def.name}: set ${name} names unknown states ${unknown.join(', ')}`);
    if (set.states.length === 0) throw new Error(`${def.name}: set ${name} is empty`);
    sets.set(name, new Set(set.states));
  }
  const setOf = (name: K): ReadonlySet<S> => {
    const set = sets.get(name);
    if (!set) throw new Error(`${def.name}: no state set ${name}`);
    return set;
  };
  const sqlList = (name: K) => [...setOf(name)].map((s) => `'${s}'`).join(', ');
  for (const edge of def.edges) {
    if (!def.states.includes(edge.from) || !def.states.includes(edge.to)) {
      throw new Error(`${def.name}: edge ${edge.from} -${edge.event}-> ${edge.to} names an unknown state`);
    }
    if (!def.events.includes(edge.event)) throw new Error(`${def.name}: unknown event ${edge.event}`);
    const key = `${edge.from}\u0000${edge.event}`;
    if (index.has(key)) throw new Error(`${def.name}: ${edge.from} on ${edge.event} is ambiguous`);
    if (edge.log !== undefined && !/^[a-z_]+(\.[a-z_]+)+$/.test(edge.log)) throw new Error(`${def.name}: edge ${edge.from} -${edge.event}-> has a malformed log action`);
    if (edge.topic !== undefined && !/^[a-z_]+\.[a-z_]+$/.test(edge.topic)) throw new Error(`${def.name}: edge ${edge.from} -${edge.event}-> has a malformed topic`);
    const effects: EdgeEffects = Object.freeze({ ...(edge.log ? { log: edge.log } : {}), ...(edge.topic ? { topic: edge.topic } : {}) });
    index.set(key, Object.freeze({ to: edge.to, effects }));
  }
  const reachable = new Set<S>(def.initial);
  for (let grew = true; grew; ) {
    grew = false;
    for (const edge of def.edges) {
      if (reachable.has(edge.from) && !reachable.has(edge.to)) {
        reachable.add(edge.to);
        grew = true;
      }
    }
  }
  const unreachable = def.states.filter((s) => !reachable.has(s));
  if (unreachable.length > 0) throw new Error(`${def.name}: unreachable states ${unreachable.join(', ')}`);

  const edgeOf = (from: S, event: E) => index.get(`${from}\u0000${event}`);
  const transition = (from: S, event: E): Transition<S> => {
    const found = edgeOf(from, event);
    if (found === undefined) throw new KassaError('STATE_TRANSITION_NOT_ALLOWED', { machine: def.name, from, event });
    return found;
  };
  return Object.freeze({
    ...def,
    next: (from: S, event: E) => edgeOf(from, event)?.to,
    can: (from: S, event: E) => edgeOf(from, event) !== undefined,
    transition,
    effectsOf: (from: S, event: E) => transition(from, event).effects,
    sourcesOf: (event: E) => def.edges.filter((e) => e.event === event).map((e) => e.from),
    is: (set: K, state: S) => setOf(set).has(state),
    statesOf: (set: K) => [...setOf(set)],
    sqlIn: (set: K, column: string) => `${column} IN (${sqlList(set)})`,
    sqlNotIn: (set: K, column: string) => `${column} NOT IN (${sqlList(set)})`,
  });
}
