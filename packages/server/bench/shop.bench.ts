/**
 * Shop benchmark (autocannon, 32 connections, real PostgreSQL): the event page, the place-order
 * request, and the whole six-request checkout. Prints its figures; it is not part of the test run.
 *
 *   TSX_TSCONFIG_PATH=tsconfig.base.json npx tsx packages/server/bench/shop.bench.ts
 *
 * Env: BENCH_SECONDS (default 10), BENCH_ORDERS (place-order requests, default 4000), BENCH_PHASES
 * (page,place,flow), BENCH_PROFILE (a directory: V8 CPU profiles of the server per phase, for
 * Chrome DevTools), BENCH_SQL=1 (the checkout's statements per order, by statement), BENCH_RATE (the
 * checkout phase at a fixed pace of requests per second), DATABASE_URL.
 * Targets (issue 4): event page ≥ 3,000 req/s with p99 < 30 ms; ≥ 500 orders placed per second.
 */
import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { loadavg } from 'node:os';
import path from 'node:path';
import { createInterface } from 'node:readline';
import autocannon from 'autocannon';

const connections = Number(process.env.BENCH_CONNECTIONS ?? 32);
const seconds = Number(process.env.BENCH_SECONDS ?? 10);
const orderCount = Number(process.env.BENCH_ORDERS ?? 4000);
/** BENCH_PHASES=page,place,flow (default all). */
const phases = (process.env.BENCH_PHASES ?? 'page,place,flow').split(',');

interface ServerInfo { url: string; base: string; productIds: string[] }
interface Session { cookie: string; csrf: string; token: string }

interface Sample { orders: number; firstAt: number | null; lastAt: number | null; cpuMicros: number; sysMicros: number; pgCpuMicros: number; statements: number }

async function main(): Promise<void> {
  const { child, info, ask } = await startServer();
  try {
    console.log(`shop benchmark · ${connections} connections · ${seconds}s runs · node ${process.version} · load average ${loadavg().map((l) => l.toFixed(1)).join(' ')}`);
    await run({ url: info.url + info.base, connections, duration: 2 }); // warm-up: JIT, pools, templates
    if (phases.includes('page')) await benchEventPage(info, ask);
    if (phases.includes('place')) await benchPlaceOrder(info, ask);
    if (phases.includes('flow')) await benchCheckout(info, ask);
  } finally {
    child.kill('SIGTERM');
  }
}

type Ask = () => Promise<Sample>;

/** Statements sent so far, by statement (set by startServer). */
let askSql: () => Promise<Record<string, number>> = async () => ({});

/** BENCH_SQL=1: the statements of a phase per order, most frequent first. */
function printSql(before: Record<string, number>, after: Record<string, number>, units: number): void {
  const rows = Object.entries(after).map(([k, n]) => [k, (n - (before[k] ?? 0)) / Math.max(units, 1)] as const).filter(([, n]) => n > 0);
  for (const [k, n] of rows.sort((a, b) => b[1] - a[1])) console.log(`    ${n.toFixed(2)} × ${k}`);
}

/** Sends profile-start / profile-stop <file> to the server (set by startServer). */
let profileCommand: (command: string) => Promise<void> = async () => {};

/** Runs one phase under the server's CPU profiler when BENCH_PROFILE names a directory. */
async function profiled<T>(name: string, work: () => Promise<T>): Promise<T> {
  const dir = process.env.BENCH_PROFILE;
  if (!dir) return work();
  await profileCommand('profile-start');
  try {
    return await work();
  } finally {
    await profileCommand(`profile-stop ${path.join(dir, `${name}.cpuprofile`)}`);
  }
}

async function benchEventPage(info: ServerInfo, ask: Ask): Promise<void> {
  const before = await ask();
  const page = await profiled('event-page', () => run({ url: info.url + info.base, connections, duration: seconds }));
  report('event page (GET)', page, page['2xx'], before, await ask(), page['2xx']);
}

/** The place-order request alone: buyers prepared up to the confirm page beforehand, one POST each. */
async function benchPlaceOrder(info: ServerInfo, ask: Ask): Promise<void> {
  const sessions = await prepareSessions(info, orderCount);
  const before = await ask();
  let next = 0;
  const place = await profiled('place-order', () => run({
    url: info.url, connections, amount: sessions.length,
    requests: [{
      method: 'POST', path: `${info.base}checkout/confirm`,
      setupRequest: (req) => {
        const s = sessions[next++ % sessions.length]!;
        return { ...req, headers: { cookie: s.cookie, 'content-type': 'application/x-www-form-urlencoded', accept: 'text/html' }, body: form({ _csrf: s.csrf, token: s.token }) };
      },
    }],
  }));
  const after = await ask();
  report('place order (POST confirm → 303)', place, place['3xx'], before, after, after.orders - before.orders);
  // Orders placed in this phase only (none existed before it), timed by the database.
  if (before.orders === 0 && after.firstAt !== null && after.lastAt !== null && after.orders > 1) {
    const span = (after.lastAt - after.firstAt) / 1000;
    console.log(`  orders per second by the orders' own times: ${((after.orders - 1) / span).toFixed(0)}/s (${after.orders} orders between the first and the last, ${span.toFixed(2)} s)`);
  }
}

/** The whole buyer flow, a new buyer per loop on every connection. */
async function benchCheckout(info: ServerInfo, ask: Ask): Promise<void> {
  const before = await ask();
  const sqlBefore = process.env.BENCH_SQL ? await askSql() : {};
  // BENCH_RATE (requests per second, all connections): a fixed pace, so that two builds run side by
  // side on a busy machine do the same work per second and their CPU per order compares.
  const rate = Number(process.env.BENCH_RATE ?? 0);
  // The load generator shares the two cores: its own CPU per order says how much of them it took.
  const clientBefore = process.cpuUsage();
  const flow = await profiled('checkout', () => run({ url: info.url, connections, duration: seconds, requests: checkoutSequence(info), ...(rate > 0 ? { overallRate: rate } : {}) }));
  const after = await ask();
  report('whole checkout (6 requests per order)', flow, flow['2xx'] + flow['3xx'], before, after, after.orders - before.orders);
  const client = process.cpuUsage(clientBefore);
  console.log(`  load generator (autocannon) CPU per order: ${((client.user + client.system) / 1000 / Math.max(after.orders - before.orders, 1)).toFixed(3)} ms`);
  if (process.env.BENCH_SQL) printSql(sqlBefore, await askSql(), after.orders - before.orders);
}

function run(opts: autocannon.Options): Promise<autocannon.Result> {
  return new Promise((resolve, reject) => {
    autocannon(opts, (err, result) => (err ? reject(err) : resolve(result)));
  });
}

/**
 * Prints throughput and latency, the orders written, and the CPU per page or order of the server
 * process and of its PostgreSQL backends: unlike throughput, that hardly depends on how busy the
 * machine is, and 2 cores give at most 2,000 CPU-ms per second.
 */
function report(name: string, r: autocannon.Result, ok: number, before: Sample, after: Sample, units: number): void {
  const wrong = r['1xx'] + r['4xx'] + r['5xx'] + (name.includes('GET') ? r['3xx'] : 0);
  const node = (after.cpuMicros - before.cpuMicros) / Math.max(units, 1) / 1000;
  const pg = (after.pgCpuMicros - before.pgCpuMicros) / Math.max(units, 1) / 1000;
  const orders = after.orders - before.orders;
  const per = name.includes('GET') ? 'page' : 'order';
  console.log(`${name}: ${(ok / r.duration).toFixed(0)} req/s · p50 ${r.latency.p50} ms · p99 ${r.latency.p99} ms · max ${r.latency.max} ms · wrong status ${wrong} · errors ${r.errors} · timeouts ${r.timeouts}`);
  console.log(`  ${ok} answered in ${r.duration.toFixed(2)} s · orders placed ${orders} (${(orders / r.duration).toFixed(0)}/s)`);
  const sys = (after.sysMicros - before.sysMicros) / Math.max(units, 1) / 1000;
  console.log(`  SQL statements per ${per}: ${((after.statements - before.statements) / Math.max(units, 1)).toFixed(2)}`);
  console.log(`  CPU per ${per}: node ${node.toFixed(3)} ms (of which kernel ${sys.toFixed(3)} ms) + PostgreSQL ${pg.toFixed(3)} ms → at most ~${(2000 / (node + pg)).toFixed(0)} ${per}s/s on 2 idle cores`);
}

function form(fields: Record<string, string>): string {
  return new URLSearchParams(fields).toString();
}

/** Spawns bench-server.ts and reads its JSON line; `ask()` returns the number of orders in the schema. */
async function startServer(): Promise<{ child: ChildProcessWithoutNullStreams; info: ServerInfo; ask: () => Promise<Sample> }> {
  const child = spawn(process.execPath, ['--import', 'tsx', path.join(__dirname, 'bench-server.ts')], {
    env: { ...process.env, TSX_TSCONFIG_PATH: process.env.TSX_TSCONFIG_PATH ?? 'tsconfig.base.json', NODE_ENV: 'production' },
    stdio: ['pipe', 'pipe', 'pipe'],
  });
  child.stderr.pipe(process.stderr);
  const lines = createInterface({ input: child.stdout });
  const waiting: ((line: string) => void)[] = [];
  lines.on('line', (line) => waiting.shift()?.(line));
  const nextLine = () => new Promise<string>((resolve) => waiting.push(resolve));
  const info = JSON.parse(await nextLine()) as ServerInfo;
  const ask = async () => {
    const answer = nextLine();
    child.stdin.write('count\n');
    return JSON.parse(await answer) as Sample;
  };
  profileCommand = async (command: string) => {
    const answer = nextLine();
    child.stdin.write(`${command}\n`);
    await answer;
  };
  askSql = async () => {
    const answer = nextLine();
    child.stdin.write('sql\n');
    return JSON.parse(await answer) as Record<string, number>;
  };
  return { child, info, ask };
}

/** Walks `n` buyers up to the confirm page (32 at a time), outside the measurement. */
async function prepareSessions(info: ServerInfo, n: number): Promise<Session[]> {
  const sessions: Session[] = [];
  let started = 0;
  async function worker(): Promise<void> {
    while (started < n) {
      started++;
      sessions.push(await oneBuyer(info));
    }
  }
  await Promise.all(Array.from({ length: connections }, worker));
  return sessions;
}

async function oneBuyer(info: ServerInfo): Promise<Session> {
  const base = info.url + info.base;
  const jar = new Map<string, string>();
  const cookie = () => [...jar].map(([k, v]) => `${k}=${v}`).join('; ');
  // As a browser does: every answer may set cookies.
  const keep = (res: Response) => {
    for (const c of res.headers.getSetCookie()) {
      const pair = c.split(';')[0]!;
      const eq = pair.indexOf('=');
      jar.set(pair.slice(0, eq), pair.slice(eq + 1));
    }
    return res;
  };
  const post = async (url: string, body: Record<string, string>) => keep(await fetch(url, {
    method: 'POST', redirect: 'manual', headers: { cookie: cookie(), 'content-type': 'application/x-www-form-urlencoded', accept: 'text/html' }, body: form(body),
  }));
  const get = async (url: string) => (keep(await fetch(url, { headers: { cookie: cookie(), accept: 'text/html' }, redirect: 'manual' }))).text();
  await post(`${base}cart`, { [`qty_${info.productIds[0]}`]: '1', [`qty_${info.productIds[1]}`]: '1' });
  const csrf = hidden(await get(`${base}checkout/contact`), '_csrf');
  await post(`${base}checkout/contact`, { _csrf: csrf, email: 'bench@example.org' });
  await post(`${base}checkout/payment`, { _csrf: csrf, provider: 'manual' });
  const confirm = await get(`${base}checkout/confirm`);
  return { cookie: cookie(), csrf, token: hidden(confirm, 'token') };
}

function hidden(html: string, name: string): string {
  const m = new RegExp(`name="${name}" value="([^"]*)"`).exec(html);
  if (!m) throw new Error(`no ${name} field in ${html.slice(0, 400)}`);
  return m[1]!;
}

/** The whole buyer flow as one autocannon request sequence per connection (a new buyer per loop). */
function checkoutSequence(info: ServerInfo): autocannon.Request[] {
  type Ctx = { cookies?: Map<string, string>; cookie?: string; csrf?: string; token?: string };
  const html = { accept: 'text/html' };
  const formHeaders = (c: Ctx) => ({ ...html, cookie: c.cookie ?? '', 'content-type': 'application/x-www-form-urlencoded' });
  // As a browser does: every answer may set cookies, and the next request sends what is kept.
  const keep = (ctx: Ctx, headers: unknown) => {
    const raw = (headers as Record<string, string | string[] | undefined>)['set-cookie'];
    for (const c of Array.isArray(raw) ? raw : raw ? [raw] : []) {
      const pair = c.split(';')[0]!;
      const eq = pair.indexOf('=');
      ctx.cookies!.set(pair.slice(0, eq), pair.slice(eq + 1));
    }
    ctx.cookie = [...ctx.cookies!].map(([k, v]) => `${k}=${v}`).join('; ');
  };
  return [
    {
      method: 'POST', path: `${info.base}cart`,
      setupRequest: (req, ctx: Ctx) => {
        ctx.cookies = new Map();
        return { ...req, headers: { ...html, 'content-type': 'application/x-www-form-urlencoded' }, body: form({ [`qty_${info.productIds[0]}`]: '1' }) };
      },
      onResponse: (_status, _body, ctx: Ctx, headers) => keep(ctx, headers),
    },
    {
      method: 'GET', path: `${info.base}checkout/contact`,
      setupRequest: (req, ctx: Ctx) => ({ ...req, headers: { ...html, cookie: ctx.cookie ?? '' } }),
      onResponse: (_s, body, ctx: Ctx, headers) => { keep(ctx, headers); ctx.csrf = hidden(body, '_csrf'); },
    },
    {
      method: 'POST', path: `${info.base}checkout/contact`,
      setupRequest: (req, ctx: Ctx) => ({ ...req, headers: formHeaders(ctx), body: form({ _csrf: ctx.csrf ?? '', email: 'flow@example.org' }) }),
      onResponse: (_s, _body, ctx: Ctx, headers) => keep(ctx, headers),
    },
    {
      method: 'POST', path: `${info.base}checkout/payment`,
      setupRequest: (req, ctx: Ctx) => ({ ...req, headers: formHeaders(ctx), body: form({ _csrf: ctx.csrf ?? '', provider: 'manual' }) }),
      onResponse: (_s, _body, ctx: Ctx, headers) => keep(ctx, headers),
    },
    {
      method: 'GET', path: `${info.base}checkout/confirm`,
      setupRequest: (req, ctx: Ctx) => ({ ...req, headers: { ...html, cookie: ctx.cookie ?? '' } }),
      onResponse: (_s, body, ctx: Ctx, headers) => { keep(ctx, headers); ctx.token = hidden(body, 'token'); },
    },
    {
      method: 'POST', path: `${info.base}checkout/confirm`,
      setupRequest: (req, ctx: Ctx) => ({ ...req, headers: formHeaders(ctx), body: form({ _csrf: ctx.csrf ?? '', token: ctx.token ?? '' }) }),
    },
  ];
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
