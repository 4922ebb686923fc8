import { monitorEventLoopDelay } from 'node:perf_hooks';
import type { DataSource } from '@kassa/core/host';
import { WebhookIntake } from '../../../packages/server/src/infra/webhook-intake';
import { InboxWriter } from '../src/webhooks/inbox-writer';

/**
 * BENCH_TRACE=1: where a webhook's time goes inside the server, for the timed run only. Wraps (in
 * this benchmark process only) the intake's `serve` (request event → answer written), the inbox
 * writer's `store` (row queued → its statement returned) and its statement (`write`: sent →
 * returned, rows per statement, statements in flight), follows the event loop's delay and the share
 * of the time it was busy, the server's user and system CPU per request, and samples
 * the wait events of the backends running the inbox insert, plus pg_stat_wal around the run.
 */
export interface IntakeTrace {
  start(): Promise<void>;
  stop(): Promise<Record<string, unknown>>;
}

type Proto = Record<string, (...args: unknown[]) => unknown>;

export function traceIntake(ds: DataSource): IntakeTrace {
  let on = false;
  const served: number[] = [];
  const queued: number[] = [];
  const statements: number[] = [];
  const rows: number[] = [];
  const inFlightAtSend: number[] = [];
  let inFlight = 0;
  const loop = monitorEventLoopDelay({ resolution: 5 });

  const intake = WebhookIntake.prototype as unknown as Proto;
  const serve = intake.serve!;
  intake.serve = function (this: unknown, ...args: unknown[]) {
    const t0 = performance.now();
    const res = args[1] as { once(e: string, f: () => void): void };
    const taken = serve.apply(this, args);
    if (on && taken) res.once('finish', () => served.push(performance.now() - t0));
    return taken;
  };
  const writer = InboxWriter.prototype as unknown as Proto;
  const store = writer.store!;
  writer.store = function (this: unknown, ...args: unknown[]) {
    const t0 = performance.now();
    const p = store.apply(this, args) as Promise<unknown>;
    if (on) void p.then(() => queued.push(performance.now() - t0), () => undefined);
    return p;
  };
  const write = writer.write!;
  writer.write = function (this: unknown, ...args: unknown[]) {
    const t0 = performance.now();
    const n = (args[0] as unknown[]).length;
    if (on) inFlightAtSend.push(inFlight + 1);
    inFlight += 1;
    const p = write.apply(this, args) as Promise<void>;
    return p.finally(() => {
      inFlight -= 1;
      if (!on) return;
      statements.push(performance.now() - t0);
      rows.push(n);
    });
  };

  const waits = new Map<string, number>();
  let samples = 0;
  let sampler: ReturnType<typeof setInterval> | null = null;
  let walBefore: Record<string, number> = {};
  let cpuBefore = process.cpuUsage();
  let eluBefore = performance.eventLoopUtilization();
  const wal = async () => {
    const [w] = await ds.query('SELECT wal_records, wal_fpi, wal_bytes::bigint AS wal_bytes, wal_write, wal_sync, wal_write_time, wal_sync_time FROM pg_stat_wal');
    return Object.fromEntries(Object.entries(w as Record<string, unknown>).map(([k, v]) => [k, Number(v)]));
  };

  return {
    async start() {
      walBefore = await wal();
      cpuBefore = process.cpuUsage();
      eluBefore = performance.eventLoopUtilization();
      loop.enable();
      on = true;
      let busy = false;
      sampler = setInterval(() => {
        if (busy) return;
        busy = true;
        void ds.query(`SELECT coalesce(wait_event_type || ':' || wait_event, 'CPU') AS w FROM pg_stat_activity WHERE state = 'active' AND query LIKE 'INSERT INTO stripe_webhook_inbox%'`)
          .then((r: { w: string }[]) => {
            samples += 1;
            for (const { w } of r) waits.set(w, (waits.get(w) ?? 0) + 1);
          }, () => undefined).finally(() => { busy = false; });
      }, 20);
    },
    async stop() {
      on = false;
      const cpu = process.cpuUsage(cpuBefore);
      const elu = performance.eventLoopUtilization(eluBefore);
      if (sampler) clearInterval(sampler);
      loop.disable();
      const walAfter = await wal();
      const q = (xs: number[], p: number) => {
        const s = [...xs].sort((a, b) => a - b);
        return s.length === 0 ? 0 : Math.round(s[Math.min(s.length - 1, Math.floor(p * s.length))]! * 100) / 100;
      };
      const mean = (xs: number[]) => (xs.length === 0 ? 0 : Math.round((xs.reduce((a, b) => a + b, 0) / xs.length) * 100) / 100);
      const sum = (xs: number[]) => xs.reduce((a, b) => a + b, 0);
      const d = Object.fromEntries(Object.keys(walAfter).map((k) => [k, walAfter[k]! - (walBefore[k] ?? 0)]));
      return {
        requests: served.length,
        serverCpuPerRequestUs: { user: Math.round(cpu.user / Math.max(served.length, 1)), system: Math.round(cpu.system / Math.max(served.length, 1)) },
        eventLoopBusy: Math.round(elu.utilization * 1000) / 1000,
        servedMs: { p50: q(served, 0.5), p99: q(served, 0.99), mean: mean(served) },
        inWriterMs: { p50: q(queued, 0.5), p99: q(queued, 0.99), mean: mean(queued) },
        statements: statements.length,
        statementMs: { p50: q(statements, 0.5), p99: q(statements, 0.99), mean: mean(statements) },
        rowsPerStatement: { mean: Math.round((sum(rows) / Math.max(rows.length, 1)) * 10) / 10, p50: q(rows, 0.5), max: Math.max(0, ...rows) },
        inFlightAtSend: mean(inFlightAtSend),
        eventLoopDelayMs: { p50: loop.percentile(50) / 1e6, p99: loop.percentile(99) / 1e6, max: loop.max / 1e6, mean: Math.round(loop.mean / 1e4) / 100 },
        waitSamples: samples,
        inboxInsertBackends: Object.fromEntries([...waits].sort((a, b) => b[1] - a[1]).map(([k, v]) => [k, Math.round((v / Math.max(samples, 1)) * 100) / 100])),
        wal: { ...d, perStatement: Math.round((d.wal_sync! / Math.max(statements.length, 1)) * 100) / 100, syncMsEach: Math.round((d.wal_sync_time! / Math.max(d.wal_sync!, 1)) * 100) / 100 },
      };
    },
  };
}
