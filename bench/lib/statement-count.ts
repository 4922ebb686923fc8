import type { DataSource } from '../../packages/core/src/host';

/**
 * Counts the statements a data source's pool sends (BEGIN/COMMIT included), grouped by their
 * first words: a per-operation count does not depend on the machine's load, unlike rates.
 */
export interface StatementCounter {
  total(): number;
  /** The most frequent statement shapes since `reset`, most frequent first. */
  top(n: number): [string, number][];
  reset(): void;
}

export function countStatements(ds: DataSource): StatementCounter {
  const client = (ds.driver as unknown as { postgres: { Client: { prototype: { query: (...a: unknown[]) => unknown } } } }).postgres.Client.prototype;
  const original = client.query;
  const shapes = new Map<string, number>();
  let n = 0;
  client.query = function (this: unknown, ...args: unknown[]) {
    const q = args[0];
    const text = typeof q === 'string' ? q : (q as { text?: string } | null)?.text ?? '';
    const shape = text.replace(/\s+/g, ' ').trim().slice(0, 70);
    shapes.set(shape, (shapes.get(shape) ?? 0) + 1);
    n++;
    return original.apply(this, args);
  };
  return {
    total: () => n,
    top: (k) => [...shapes.entries()].sort((a, b) => b[1] - a[1]).slice(0, k),
    reset: () => { n = 0; shapes.clear(); },
  };
}
