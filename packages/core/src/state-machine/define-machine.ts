import { KassaError } from '../errors';

/** One edge of a transition table: in state `from`, event `event` leads to `to`. */
export interface Edge<S extends string, E extends string> {
  readonly from: S;
  readonly event: E;
  readonly to: S;
  /** Why this edge exists; rendered into docs/state-machines.md. */
  readonly note?: string;
}

export interface MachineDefinition<S extends string, E extends string> {
  readonly name: string;
  readonly states: readonly S[];
  readonly events: readonly E[];
  /** States a new row may be created in. */
  readonly initial: readonly S[];
  readonly edges: readonly Edge<S, E>[];
  readonly describe: Readonly<Record<S, string>>;
}

export interface Machine<S extends string, E extends string> extends MachineDefinition<S, E> {
  /** Next state, or undefined when the table has no such edge. */
  next(from: S, event: E): S | undefined;
  can(from: S, event: E): boolean;
  /** Pure transition: the next state, or a catalogued STATE_TRANSITION_NOT_ALLOWED error. */
  transition(from: S, event: E): S;
  /** States from which `event` is allowed. */
  sourcesOf(event: E): readonly S[];
}

/**
 * Validates a table once at module load: every edge must name known states and events,
 * no (from, event) pair may be ambiguous, and every state must be reachable from an initial one.
 */
export function defineMachine<S extends string, E extends string>(def: MachineDefinition<S, E>): Machine<S, E> {
  const index = new Map<string, S>();
  for (const edge of def.edges) {
    if (!def.states.includes(edge.from) || !def.states.includes(edge.to)) {
      throw new Error(`${def.name}: edge ${edge.from} -${edge.event}-> ${edge.to} names an unknown state`);
    }
    if (!def.events.includes(edge.event)) throw new Error(`${def.name}: unknown event ${edge.event}`);
    const key = `${edge.from}\u0000${edge.event}`;
    if (index.has(key)) throw new Error(`${def.name}: ${edge.from} on ${edge.event} is ambiguous`);
    index.set(key, edge.to);
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

  const next = (from: S, event: E) => index.get(`${from}\u0000${event}`);
  return Object.freeze({
    ...def,
    next,
    can: (from: S, event: E) => next(from, event) !== undefined,
    transition(from: S, event: E): S {
      const to = next(from, event);
      if (to === undefined) throw new KassaError('STATE_TRANSITION_NOT_ALLOWED', { machine: def.name, from, event });
      return to;
    },
    sourcesOf: (event: E) => def.edges.filter((e) => e.event === event).map((e) => e.from),
  });
}
