import { Client } from 'pg';

/** One `client.query()` issued while the same client was still running or queueing another. */
export interface OverlappingQuery {
  test: string | undefined;
  sql: string;
  stack: string;
}

interface ClientInternals {
  _activeQuery: unknown;
  _queryQueue: unknown[];
  pipeline?: boolean;
}

type QueryFn = (this: ClientInternals, ...args: unknown[]) => unknown;

const installed = Symbol.for('kassa.pgQueryGuard');

function sqlOf(first: unknown): string {
  const text = typeof first === 'string' ? first : (first as { text?: unknown } | null)?.text;
  return typeof text === 'string' ? text.replace(/\s+/g, ' ').slice(0, 160) : String(first);
}

/**
 * Records every query handed to a pg client that is still busy with another one. node-postgres
 * queues such a query (pg 8 warns only from the third, pg 9 refuses it), and inside a transaction
 * it interleaves two logical operations on one connection; after an error the other one runs in
 * an aborted transaction. Recording rather than throwing keeps the code under test unchanged, so
 * the test that caused it fails with the caller's stack instead of some later symptom.
 */
export function installPgQueryGuard(): { take(): OverlappingQuery[] } {
  const proto = Client.prototype as unknown as { query: QueryFn; [installed]?: OverlappingQuery[] };
  const existing = proto[installed];
  const seen: OverlappingQuery[] = existing ?? [];
  if (!existing) {
    const original = proto.query;
    proto.query = function guardedQuery(this: ClientInternals, ...args: unknown[]) {
      if (!this.pipeline && (this._activeQuery || this._queryQueue.length > 0)) {
        seen.push({ test: currentTest(), sql: sqlOf(args[0]), stack: new Error('overlapping pg query').stack ?? '' });
      }
      return original.apply(this, args);
    };
    proto[installed] = seen;
  }
  return { take: () => seen.splice(0) };
}

function currentTest(): string | undefined {
  const g = globalThis as { expect?: { getState?: () => { currentTestName?: string } } };
  return g.expect?.getState?.().currentTestName;
}

/** Jest failure text for overlapping queries, or undefined when there were none. */
export function describeOverlaps(overlaps: OverlappingQuery[]): string | undefined {
  if (overlaps.length === 0) return undefined;
  const lines = overlaps.slice(0, 3).map((o) => `- ${o.sql}\n${o.stack.split('\n').slice(2, 12).join('\n')}`);
  return `${overlaps.length} pg quer${overlaps.length === 1 ? 'y was' : 'ies were'} issued on a client that was still executing another `
    + `(share a transaction's manager or query runner only sequentially):\n${lines.join('\n')}`;
}
