/**
 * Signed Stripe webhook events accepted per second (signature verified on the raw body, stored in
 * the inbox, 200 answered) at 32 connections, with p99, beside pgbench's single-row insert on the
 * same PostgreSQL in the same run. Every request is a new event (distinct id, fresh signature), so
 * each one is a real insert, never the duplicate short-cut.
 *
 * The load generator shares the machine's cores with the server and PostgreSQL, so it signs every
 * event before the timed run (each a distinct event id with a valid signature, well inside the
 * 300 s tolerance) and sends the prepared bytes over plain sockets (presigned-load.ts); it prints
 * its own CPU per event too. BENCH_CLIENT=autocannon signs each request during the run with
 * autocannon instead (the earlier figures in docs/performance.md were taken that way).
 *
 * Run: TSX_TSCONFIG_PATH=tsconfig.base.json npx tsx plugins/stripe/bench/webhook-accept.bench.ts
 * Knobs: DATABASE_URL, BENCH_SECONDS (default 10), BENCH_CONNECTIONS (default 32), BENCH_CPU_PROF
 * (a folder: the server writes a .cpuprofile of the timed run there), BENCH_TRACE=1 (where the
 * time goes inside the server: intake-trace.ts), BENCH_HOST=bare (the handler behind node:http
 * alone instead of the full server), BENCH_RATE (default 20000: events signed per second of the run;
 * a run that uses them all up ends early and says so), BENCH_CLIENT=autocannon, REDIS_URL (the real
 * enqueue of the events' jobs, one per batch of stored rows as in the server) or BENCH_ENQUEUE=none (no enqueue).
 */
import { spawn } from 'node:child_process';
import { createHmac } from 'node:crypto';
import { loadavg } from 'node:os';
import path from 'node:path';
import { createInterface } from 'node:readline';
import autocannon from 'autocannon';
import { pgbenchSingleRowInsert } from '../../../bench/lib/pgbench';
import { runPresigned } from './presigned-load';

const seconds = Number(process.env.BENCH_SECONDS ?? 10);
const connections = Number(process.env.BENCH_CONNECTIONS ?? 32);
const databaseUrl = process.env.DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/test';
const presignedRate = Number(process.env.BENCH_RATE ?? 20000);
const useAutocannon = process.env.BENCH_CLIENT === 'autocannon';

interface ServerInfo { url: string; account: string; secret: string }

async function main(): Promise<void> {
  const child = spawn(process.execPath, ['--import', 'tsx', path.join(__dirname, 'webhook-server.ts')], {
    env: { ...process.env, TSX_TSCONFIG_PATH: process.env.TSX_TSCONFIG_PATH ?? 'tsconfig.base.json', NODE_ENV: 'production' },
    stdio: ['pipe', 'pipe', 'inherit'],
  });
  const lines = createInterface({ input: child.stdout });
  const waiting: ((line: string) => void)[] = [];
  lines.on('line', (line) => waiting.shift()?.(line));
  const nextLine = () => new Promise<string>((resolve) => waiting.push(resolve));
  const info = JSON.parse(await nextLine()) as ServerInfo;
  let stopped = false;
  const stop = async () => {
    if (stopped) return;
    stopped = true;
    child.kill('SIGTERM');
    await new Promise((resolve) => child.once('exit', resolve));
  };
  const sample = async () => {
    const a = nextLine();
    child.stdin.write('count\n');
    return JSON.parse(await a) as { stored: number; queued: number | null; cpuMicros: number; pgCpuMicros: number; backends: number };
  };

  try {
    let n = 0;
    const bodyFor = () => {
      n += 1;
      // Shaped like a real event (pretty-printed, as Stripe sends it), about 1.5 kB.
      return JSON.stringify({
        id: `evt_bench_${process.pid}_${n}`, object: 'event', api_version: '2026-10-28.endive', created: Math.floor(Date.now() / 1000), livemode: false, pending_webhooks: 1,
        request: { id: null, idempotency_key: null }, type: 'payment_intent.succeeded',
        data: { object: { id: `pi_bench_${n}`, object: 'payment_intent', amount: 2500, amount_received: 2500, currency: 'eur', status: 'succeeded', capture_method: 'automatic', metadata: { kassa_payment_id: '00000000-0000-4000-8000-000000000000', order_code: 'ABC12', event: 'conf' }, latest_charge: `ch_bench_${n}`, payment_method: 'pm_x', description: 'conf-ABC12' } },
      }, null, 2);
    };
    const sign = (body: string) => {
      const t = Math.floor(Date.now() / 1000);
      return `t=${t},v1=${createHmac('sha256', info.secret).update(`${t}.${body}`).digest('hex')}`;
    };
    const target = new URL(info.url);
    const path = `/plugins/stripe/webhook/${info.account}`;
    const prepared = (count: number) => Array.from({ length: count }, () => {
      const body = Buffer.from(bodyFor());
      const head = `POST ${path} HTTP/1.1\r\nhost: ${target.host}\r\ncontent-type: application/json; charset=utf-8\r\n`
        + `stripe-signature: ${sign(body.toString())}\r\ncontent-length: ${body.length}\r\n\r\n`;
      return Buffer.concat([Buffer.from(head), body]);
    });
    // Signed before the warm-up, so that signing costs the run nothing and no pooled connection
    // idles out between the warm-up and the run (the PostgreSQL CPU is read from the pool's backends).
    const timedCount = presignedRate * seconds;
    const warmup = useAutocannon ? [] : prepared(presignedRate * 2);
    const requests = useAutocannon ? [] : prepared(timedCount);
    const load = async (duration: number, batch: Buffer[]) => {
      if (useAutocannon) return run({ url: info.url, connections, duration, requests: [request(info, bodyFor, sign)] });
      return { ...(await runPresigned({ host: target.hostname, port: Number(target.port), connections, seconds: duration, requests: batch })), timeouts: 0 };
    };
    // Warm-up (JIT, pool connections, the secret cache).
    await load(2, warmup);
    const bracket = async (word: 'begin' | 'end') => {
      const a = nextLine();
      child.stdin.write(`${word}\n`);
      return JSON.parse(await a) as Record<string, unknown>;
    };
    await bracket('begin');
    const before = await sample();
    const ownBefore = process.cpuUsage();
    const r = await load(seconds, requests);
    const own = process.cpuUsage(ownBefore);
    const after = await sample();
    const traced = await bracket('end');
    if (process.env.BENCH_TRACE) console.log(`trace: ${JSON.stringify(traced)}`);
    if ('unsent' in r && r.unsent === 0) console.log(`(the run used up all ${timedCount} pre-signed events before ${seconds} s: raise BENCH_RATE)`);
    const accepted = after.stored - before.stored;
    // Server CPU per accepted event hardly depends on how busy the (shared) machine is.
    const cpuPerEvent = (after.cpuMicros - before.cpuMicros) / Math.max(accepted, 1);
    const rate = accepted / r.duration;
    const wrong = r.non2xx;
    console.log(`webhook accept: ${rate.toFixed(0)} events/s stored (${accepted} in ${r.duration.toFixed(1)} s) · p50 ${r.latency.p50} ms · p99 ${r.latency.p99} ms · max ${r.latency.max} ms · non-2xx ${wrong} · errors ${r.errors} · timeouts ${r.timeouts} · ${connections} connections`);
    const pgPerEvent = (after.pgCpuMicros - before.pgCpuMicros) / Math.max(accepted, 1);
    console.log(`load generator CPU: ${((own.user + own.system) / Math.max(accepted, 1)).toFixed(0)} µs per event (${useAutocannon ? 'autocannon, signing during the run' : 'pre-signed, plain sockets'})`);
    console.log(`server CPU: ${cpuPerEvent.toFixed(0)} µs per accepted event → at most ${(1e6 / cpuPerEvent).toFixed(0)} events/s per server core · load average ${loadavg().map((l) => l.toFixed(1)).join(' ')}`);
    console.log(`PostgreSQL CPU: ${pgPerEvent.toFixed(0)} µs per accepted event (the server pool's ${after.backends} backends) · node + PostgreSQL ${(cpuPerEvent + pgPerEvent).toFixed(0)} µs`);
    // The enqueue is not awaited by the answer; a sample taken just after the run may miss the last batch.
    console.log(after.queued === null ? 'enqueue: none (BENCH_ENQUEUE=none)' : `enqueue: ${after.queued} jobs queued in Redis for ${after.stored} stored events (warm-up included): ${(after.queued / Math.max(after.stored, 1)).toFixed(3)} jobs per event`);
    // The yardstick runs after the server has closed its pool (the shared PostgreSQL has a connection limit).
    await stop();
    const pg = await pgbenchWithFallback(connections);
    console.log(`pgbench single-row insert (-M extended, ${pg.clients} clients): ${pg.tps.toFixed(0)} tps · latency avg ${pg.latencyAvgMs.toFixed(2)} ms · ${pg.command}`);
    console.log(`ratio: ${((rate / pg.tps) * 100).toFixed(1)}% of pgbench (target ≥ 60%) · p99 ${r.latency.p99} ms (target < 25 ms)`);
  } finally {
    await stop();
  }
}

async function pgbenchWithFallback(clients: number) {
  try {
    return { clients, ...(await pgbenchSingleRowInsert(databaseUrl, { clients, threads: 2, durationSeconds: seconds, protocol: 'extended' })) };
  } catch (err) {
    if (!String(err).includes('too many clients')) throw err;
    const fewer = Math.max(4, Math.floor(clients / 4));
    return { clients: fewer, ...(await pgbenchSingleRowInsert(databaseUrl, { clients: fewer, threads: 2, durationSeconds: seconds, protocol: 'extended' })) };
  }
}

function request(info: ServerInfo, bodyFor: () => string, sign: (b: string) => string): autocannon.Request {
  return {
    method: 'POST', path: `/plugins/stripe/webhook/${info.account}`,
    setupRequest: (req) => {
      const body = bodyFor();
      return { ...req, body, headers: { 'content-type': 'application/json; charset=utf-8', 'stripe-signature': sign(body) } };
    },
  };
}

function run(opts: autocannon.Options): Promise<autocannon.Result> {
  return new Promise((resolve, reject) => autocannon(opts, (err, result) => (err ? reject(err) : resolve(result))));
}

main().catch((err: unknown) => {
  console.error(err);
  process.exitCode = 1;
});
