/**
 * Latency and throughput figures for the benchmarks. Times are measured with the monotonic
 * high-resolution clock and reported in milliseconds.
 */

export interface Summary {
  /** Operations measured. */
  count: number;
  /** Wall time of the measured run, in ms. */
  elapsedMs: number;
  /** Operations per second over the whole run. */
  perSecond: number;
  p50Ms: number;
  p90Ms: number;
  p99Ms: number;
  maxMs: number;
  /** CPU time this Node process used during the run, as a share of one core (1 = one core busy). */
  nodeCpuCores?: number;
  /** CPU milliseconds the PostgreSQL backends of the pool used during the run (see pg-cpu.ts). */
  pgCpuMs?: number;
  pgBackends?: number;
}

/** Nearest-rank percentile (p in 0..100) of ascending `sorted`; NaN for an empty list. */
export function percentile(sorted: readonly number[], p: number): number {
  if (sorted.length === 0) return Number.NaN;
  if (p <= 0) return sorted[0]!;
  const rank = Math.ceil((p / 100) * sorted.length);
  return sorted[Math.min(sorted.length, rank) - 1]!;
}

export function summarize(latenciesMs: readonly number[], elapsedMs: number): Summary {
  const sorted = [...latenciesMs].sort((a, b) => a - b);
  return {
    count: sorted.length,
    elapsedMs,
    perSecond: elapsedMs > 0 ? (sorted.length * 1000) / elapsedMs : 0,
    p50Ms: percentile(sorted, 50),
    p90Ms: percentile(sorted, 90),
    p99Ms: percentile(sorted, 99),
    maxMs: sorted.length ? sorted[sorted.length - 1]! : Number.NaN,
  };
}

/** Milliseconds since `start` (a process.hrtime.bigint() reading). */
export function msSince(start: bigint): number {
  return Number(process.hrtime.bigint() - start) / 1e6;
}

/** Raw timings of one run: every latency and the CPU this process used. */
export interface RawRun {
  latenciesMs: number[];
  elapsedMs: number;
  nodeCpuMs: number;
}

/**
 * Runs `op(i)` for i = 0..total-1 with `concurrency` operations in flight, timing each one.
 * A failed operation aborts the run: a benchmark of errors measures nothing.
 */
export async function measureRaw(total: number, concurrency: number, op: (i: number) => Promise<unknown>): Promise<RawRun> {
  const latenciesMs: number[] = [];
  let next = 0;
  const cpu = process.cpuUsage();
  const started = process.hrtime.bigint();
  const worker = async () => {
    for (let i = next++; i < total; i = next++) {
      const t = process.hrtime.bigint();
      await op(i);
      latenciesMs.push(msSince(t));
    }
  };
  await Promise.all(Array.from({ length: Math.min(concurrency, total) }, worker));
  const elapsedMs = msSince(started);
  const used = process.cpuUsage(cpu);
  return { latenciesMs, elapsedMs, nodeCpuMs: (used.user + used.system) / 1000 };
}

/** Summary of one or more runs taken together (rates over their summed wall time). */
export function summarizeRuns(runs: readonly RawRun[]): Summary {
  const elapsedMs = runs.reduce((s, r) => s + r.elapsedMs, 0);
  const nodeCpuMs = runs.reduce((s, r) => s + r.nodeCpuMs, 0);
  return { ...summarize(runs.flatMap((r) => r.latenciesMs), elapsedMs), nodeCpuCores: elapsedMs > 0 ? nodeCpuMs / elapsedMs : 0 };
}

/** measureRaw, summarised. */
export async function measure(total: number, concurrency: number, op: (i: number) => Promise<unknown>): Promise<Summary> {
  return summarizeRuns([await measureRaw(total, concurrency, op)]);
}

/** One line per figure, e.g. `confirmations  1234.5/s  p50 3.21 ms  p99 9.87 ms  (n=5000)`. */
export function formatSummary(label: string, s: Summary): string {
  const f = (n: number) => n.toFixed(2);
  return `${label.padEnd(28)} ${s.perSecond.toFixed(1).padStart(8)}/s  p50 ${f(s.p50Ms)} ms  p90 ${f(s.p90Ms)} ms  p99 ${f(s.p99Ms)} ms  max ${f(s.maxMs)} ms  (n=${s.count}, ${(s.elapsedMs / 1000).toFixed(2)} s${s.nodeCpuCores === undefined ? '' : `, node CPU ${(s.nodeCpuCores * 100).toFixed(0)}% of a core`})`;
}

/**
 * CPU per operation, Node and PostgreSQL: the figure that does not depend on how busy the machine
 * is. Two cores give at most 2,000 ms of CPU per second, so 2000 / (node + pg) bounds the rate.
 */
export function formatCpu(label: string, s: Summary): string {
  const nodeMs = s.nodeCpuCores === undefined ? Number.NaN : (s.nodeCpuCores * s.elapsedMs) / s.count;
  if (!s.pgBackends || s.pgCpuMs === undefined) {
    // No backends found (e.g. the embedded database, which has no per-connection processes).
    return `${label.padEnd(28)} node ${nodeMs.toFixed(3)} ms (database CPU not measured)`;
  }
  const pgMs = s.pgCpuMs / s.count;
  const bound = 2000 / (nodeMs + pgMs);
  return `${label.padEnd(28)} node ${nodeMs.toFixed(3)} ms + PostgreSQL ${pgMs.toFixed(3)} ms (${s.pgBackends} backends) → at most ~${Math.round(bound)}/s on 2 cores`;
}
