/**
 * The checkout's server CPU per request, step by step: BENCH_BUYERS buyers (default 2000) walk the
 * six requests of the shop benchmark's checkout one step at a time (every buyer's POST cart, then
 * every buyer's GET contact, …), 16 in flight, and the server process's CPU (and its PostgreSQL
 * backends') is read around each step. Unlike the whole-flow benchmark this says which request
 * costs what. A step's CPU per request is what the server spends on it, wall-clock aside, so it
 * compares across builds run alternately on a busy machine. Not part of the test run.
 *
 *   TSX_TSCONFIG_PATH=tsconfig.base.json npx tsx packages/server/bench/checkout-steps.bench.ts
 *
 * BENCH_NODE_ARGS: node flags for the server process (e.g. `--perf-basic-prof` for perf;
 * `--trace-gc-nvp` adds the bytes allocated per request, which no other process's load changes).
 * BENCH_PROFILE (a directory): a V8 CPU profile of the server per step of the last round.
 * BENCH_ROUNDS (default 2): the walk is repeated, and the last round is the one printed (the first
 * warms the JIT and the pools).
 * BENCH_INTERLEAVE=1: after the steps, the same number of new buyers walk all six steps each (16
 * buyers in flight, as the shop benchmark's flow does), and the server's, PostgreSQL's and this
 * client's CPU per order are printed: the difference to the sum of the steps is what mixing the
 * requests costs (code and data caches, smaller placement and reservation batches).
 */
import { spawn } from 'node:child_process';
import { Agent, request } from 'node:http';
import { loadavg } from 'node:os';
import path from 'node:path';
import { createInterface } from 'node:readline';

const buyers = Number(process.env.BENCH_BUYERS ?? 2000);
const rounds = Number(process.env.BENCH_ROUNDS ?? 2);
const inFlight = 16;

interface Sample { cpuMicros: number; sysMicros: number; pgCpuMicros: number; statements: number; minorGcs: number; allocated: number }
interface Buyer { cookies: Map<string, string>; csrf: string; token: string }
interface Answer { status: number; headers: Record<string, string | string[] | undefined>; body: string; bytes: number }

async function main(): Promise<void> {
  // BENCH_NODE_ARGS: extra node flags for the server (--perf-basic-prof, --trace-deopt, …).
  const nodeArgs = (process.env.BENCH_NODE_ARGS ?? '').split(' ').filter(Boolean);
  const child = spawn(process.execPath, [...nodeArgs, '--import', 'tsx', path.join(__dirname, 'bench-server.ts')], {
    env: { ...process.env, TSX_TSCONFIG_PATH: process.env.TSX_TSCONFIG_PATH ?? 'tsconfig.base.json', NODE_ENV: 'production' },
    stdio: ['pipe', 'pipe', 'inherit'],
  });
  const lines = createInterface({ input: child.stdout });
  const waiting: ((line: string) => void)[] = [];
  // The server's answers are JSON lines; anything else on its stdout (a V8 trace flag's output) is passed on.
  // With BENCH_NODE_ARGS=--trace-gc-nvp the server prints each collection's `allocated=` (bytes since
  // the previous one): summed in the order the lines come, they give the bytes a step allocated
  // (exact up to one young generation per step), a figure no other process's load changes.
  let allocated = 0;
  lines.on('line', (line) => {
    if (line.startsWith('{')) return waiting.shift()?.(line.slice(0, -1) + `,"allocated":${allocated}}`);
    const bytes = / allocated=(\d+)/.exec(line);
    if (bytes) allocated += Number(bytes[1]);
    else console.error(line);
  });
  const nextLine = () => new Promise<string>((resolve) => waiting.push(resolve));
  const info = JSON.parse(await nextLine()) as { url: string; base: string; productIds: string[] };
  const ask = async (): Promise<Sample> => {
    const answer = nextLine();
    child.stdin.write('count\n');
    return JSON.parse(await answer) as Sample;
  };
  const command = async (line: string) => {
    const answer = nextLine();
    child.stdin.write(`${line}\n`);
    await answer;
  };
  const url = new URL(info.url);
  const agent = new Agent({ keepAlive: true, maxSockets: inFlight });
  const send = (method: string, p: string, b: Buyer, body?: Record<string, string>) => new Promise<Answer>((resolve, reject) => {
    const headers: Record<string, string> = { accept: 'text/html' };
    if (b.cookies.size) headers.cookie = [...b.cookies].map(([k, v]) => `${k}=${v}`).join('; ');
    const payload = body ? new URLSearchParams(body).toString() : undefined;
    if (payload !== undefined) headers['content-type'] = 'application/x-www-form-urlencoded';
    const req = request({ host: url.hostname, port: url.port, method, path: info.base + p, headers, agent }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => {
        const raw = res.headers['set-cookie'];
        for (const c of raw ?? []) {
          const pair = c.split(';')[0]!;
          const eq = pair.indexOf('=');
          b.cookies.set(pair.slice(0, eq), pair.slice(eq + 1));
        }
        const body = Buffer.concat(chunks);
        // What the server wrote: the status line, the header lines and the body.
        const headerBytes = res.rawHeaders.reduce((sum, h) => sum + h.length + 2, 0) + 19;
        resolve({ status: res.statusCode ?? 0, headers: res.headers, body: body.toString(), bytes: headerBytes + body.length });
      });
    });
    req.on('error', reject);
    req.end(payload);
  });
  const hidden = (html: string, name: string) => new RegExp(`name="${name}" value="([^"]*)"`).exec(html)?.[1] ?? '';
  const steps: [name: string, expect: number, run: (b: Buyer) => Promise<Answer>][] = [
    ['POST cart', 303, (b) => send('POST', 'cart', b, { [`qty_${info.productIds[0]}`]: '1' })],
    ['GET contact', 200, async (b) => {
      const a = await send('GET', 'checkout/contact', b);
      b.csrf = hidden(a.body, '_csrf');
      return a;
    }],
    ['POST contact', 303, (b) => send('POST', 'checkout/contact', b, { _csrf: b.csrf, email: 'flow@example.org' })],
    ['POST payment', 303, (b) => send('POST', 'checkout/payment', b, { _csrf: b.csrf, provider: 'manual' })],
    ['GET confirm', 200, async (b) => {
      const a = await send('GET', 'checkout/confirm', b);
      b.token = hidden(a.body, 'token');
      return a;
    }],
    ['POST confirm', 303, (b) => send('POST', 'checkout/confirm', b, { _csrf: b.csrf, token: b.token })],
  ];
  try {
    console.log(`checkout steps · ${buyers} buyers · ${inFlight} in flight · node ${process.version} · load average ${loadavg().map((l) => l.toFixed(1)).join(' ')}`);
    for (let round = 1; round <= rounds; round++) {
      // A marker for a profiler attached from outside (perf record -p <server pid>) to start on.
      console.error(`round ${round} of ${rounds}`);
      const walk: Buyer[] = Array.from({ length: buyers }, () => ({ cookies: new Map(), csrf: '', token: '' }));
      let nodeSum = 0;
      let pgSum = 0;
      const rows: string[] = [];
      for (const [name, expect, run] of steps) {
        const profile = process.env.BENCH_PROFILE && round === rounds ? path.join(process.env.BENCH_PROFILE, `${name.replace(' ', '-')}.cpuprofile`) : null;
        if (profile) await command('profile-start');
        const before = await ask();
        let next = 0;
        let wrong = 0;
        let bytes = 0;
        await Promise.all(Array.from({ length: inFlight }, async () => {
          while (next < walk.length) {
            const answer = await run(walk[next++]!);
            bytes += answer.bytes;
            if (answer.status !== expect) wrong++;
          }
        }));
        const after = await ask();
        if (profile) await command(`profile-stop ${profile}`);
        const node = (after.cpuMicros - before.cpuMicros) / buyers;
        const pg = (after.pgCpuMicros - before.pgCpuMicros) / buyers;
        nodeSum += node;
        pgSum += pg;
        rows.push(`  ${name.padEnd(13)} node ${node.toFixed(0).padStart(5)} µs (kernel ${((after.sysMicros - before.sysMicros) / buyers).toFixed(0).padStart(4)}) · PostgreSQL ${pg.toFixed(0).padStart(5)} µs · ${((after.statements - before.statements) / buyers).toFixed(1)} SQL · ${(1000 * (after.minorGcs - before.minorGcs) / buyers).toFixed(1)} scavenges/1000${after.allocated ? ` · ${((after.allocated - before.allocated) / buyers / 1024).toFixed(1)} KB allocated` : ''} · ${(bytes / buyers).toFixed(0)} B${wrong ? ` · ${wrong} wrong status` : ''}`);
      }
      if (process.env.BENCH_INTERLEAVE) rows.push(await walkInterleaved(steps, ask));
      if (round === rounds) {
        for (const row of rows) console.log(row);
        console.log(`  per order     node ${nodeSum.toFixed(0).padStart(5)} µs · PostgreSQL ${pgSum.toFixed(0).padStart(5)} µs · load average ${loadavg()[0]!.toFixed(1)}`);
      }
    }
  } finally {
    agent.destroy();
    child.kill('SIGTERM');
  }
}

/** BENCH_INTERLEAVE: `buyers` new buyers each walk every step in turn, 16 at a time; one report line. */
async function walkInterleaved(steps: [string, number, (b: Buyer) => Promise<Answer>][], ask: () => Promise<Sample>): Promise<string> {
  const walk: Buyer[] = Array.from({ length: buyers }, () => ({ cookies: new Map(), csrf: '', token: '' }));
  const before = await ask();
  const clientBefore = process.cpuUsage();
  let next = 0;
  let wrong = 0;
  await Promise.all(Array.from({ length: inFlight }, async () => {
    while (next < walk.length) {
      const buyer = walk[next++]!;
      for (const [, expect, run] of steps) if ((await run(buyer)).status !== expect) wrong++;
    }
  }));
  const after = await ask();
  const client = process.cpuUsage(clientBefore);
  const per = (micros: number) => (micros / buyers).toFixed(0).padStart(5);
  return `  interleaved   node ${per(after.cpuMicros - before.cpuMicros)} µs · PostgreSQL ${per(after.pgCpuMicros - before.pgCpuMicros)} µs · ${((after.statements - before.statements) / buyers).toFixed(1)} SQL · client ${per(client.user + client.system)} µs per order${wrong ? ` · ${wrong} wrong status` : ''}`;
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
