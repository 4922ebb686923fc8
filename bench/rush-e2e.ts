/**
 * End-to-end ticket rush (issue 17): Kassa as operators run it — `pnpm start` server process(es) and
 * a `pnpm worker` on a real PostgreSQL and Redis, with the Stripe emulator in its own process — and
 * RUSH_BUYERS simulated buyers (default 10,000) on RUSH_SEATS seats (default 1,000). Each buyer does the
 * whole flow (event page, cart with its reservation, contact, payment method, confirm, place order,
 * pay page, intent, card 4242 at the emulator, return), a share abandons after the cart (the hold then
 * runs out), and buyers turned away while seats are only held come back once the holds expire. The
 * emulator's signed webhooks reach the server and the worker processes them and sends the emails.
 *
 *   TSX_TSCONFIG_PATH=tsconfig.base.json npx tsx bench/rush-e2e.ts
 *
 * Env: RUSH_SERVERS ("1", "2" or "1,2": one server, or two servers behind the buyers' round robin;
 * always with one separate worker; default "1,2"), RUSH_BUYERS, RUSH_SEATS, RUSH_CONCURRENCY (buyers
 * in flight, default 64), RUSH_ABANDON (share that leaves after the cart, default 0.1),
 * RUSH_HOLD_MINUTES (the event's reservation time, default 1 so that abandoned holds run out within
 * the run), DATABASE_URL, REDIS_URL.
 *
 * Prints orders placed and paid per second, p50/p99 per step, CPU per paid order (servers, worker,
 * PostgreSQL), seats sold (must be RUSH_SEATS, never more), double charges at the emulator, the time
 * from the last payment to the last "order paid" email stored, and pgbench's single-row insert rate
 * in the same run.
 */
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import path from 'node:path';
import { createDataSource, orderMachine, type DataSource } from '../packages/core/src/host';
import { pgbenchSingleRowInsert, psql } from './lib/pgbench';
import { percentile } from './lib/stats';
import { buy, STEPS, type BuyerResult, type Step } from './rush/buyer';
import { cpuTicksOf, freePort, runToEnd, startProcess, type Proc } from './rush/processes';

const dbUrl = process.env.DATABASE_URL ?? 'postgres://root@127.0.0.1:5432/test';
const redisUrl = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';
const buyers = Number(process.env.RUSH_BUYERS ?? 10_000);
const seats = Number(process.env.RUSH_SEATS ?? 1_000);
const concurrency = Number(process.env.RUSH_CONCURRENCY ?? 64);
const abandonShare = Number(process.env.RUSH_ABANDON ?? 0.1);
const holdMinutes = Number(process.env.RUSH_HOLD_MINUTES ?? 1);
const modes = (process.env.RUSH_SERVERS ?? '1,2').split(',').map(Number);
const SECRET_KEY = 'sk_test_kassaRush';

interface Rig {
  servers: Proc[];
  worker: Proc;
  emulator: Proc;
  emulatorUrl: string;
  eventPath: string;
  productId: string;
  pool: DataSource;
  appName: string;
  close(): Promise<void>;
}

async function main(): Promise<void> {
  console.log(`end-to-end rush · ${buyers} buyers on ${seats} seats · ${concurrency} in flight · abandon ${abandonShare} · hold ${holdMinutes} min · node ${process.version} · load average ${loadavg().map((l) => l.toFixed(1)).join(' ')}`);
  for (const n of modes) {
    const rig = await setUp(n);
    try {
      await rush(rig, n);
    } finally {
      await rig.close();
    }
  }
}

async function setUp(serverCount: number): Promise<Rig> {
  const tag = randomBytes(4).toString('hex');
  const schema = `rush_${tag}`;
  const appName = `kassa-rush-${tag}`;
  const dataDir = mkdtempSync(path.join(tmpdir(), 'kassa-rush-'));
  await psql(dbUrl, `CREATE SCHEMA ${schema}`);
  const emulator = startProcess('emulator', 'bench/rush/emulator-process.ts', [SECRET_KEY], {});
  const emu = JSON.parse(await emulator.waitFor(/^\{/)) as { url: string; stripeJsUrl: string; publishableKey: string };
  const ports = [await freePort(), await freePort()];
  const url = new URL(dbUrl);
  url.searchParams.set('application_name', appName);
  const env = (port: number): NodeJS.ProcessEnv => ({
    DATABASE_URL: url.toString(), KASSA_DB_SCHEMA: schema, KASSA_JOBS_SCHEMA: `${schema}_jobs`, REDIS_URL: redisUrl, KASSA_JOBS_PREFIX: `rush-${tag}`,
    KASSA_SECRET_KEY: secretKeyHex, KASSA_DATA_DIR: dataDir, LOG_LEVEL: 'warn', KASSA_TRUSTED_PROXIES: 'loopback', HOST: '127.0.0.1',
    PORT: String(port), BASE_URL: `http://127.0.0.1:${port}`,
    KASSA_INSTANCE_SETTINGS: JSON.stringify({
      'payment.stripe': { _enabled: true, secretKey: SECRET_KEY, publishableKey: emu.publishableKey, apiBase: emu.url, stripeJsUrl: emu.stripeJsUrl },
    }),
  });
  const servers = [startProcess('server-1', 'packages/app/src/main.ts', [], env(ports[0]!))];
  await servers[0]!.waitFor(/Kassa is running at/, 120_000);
  const pool = createDataSource({ url: dbUrl, schema, poolSize: 2 });
  await pool.initialize();
  const { eventPath, productId } = await createRushEvent(pool);
  // The instance operator creates the instance's webhook endpoint at the emulator, as on a real instance.
  const login = JSON.parse(readFileSync(path.join(dataDir, 'demo-login.json'), 'utf8')) as { email: string; password: string };
  await runToEnd('packages/app/src/cli/kassa-cli.ts', ['create-operator', login.email], env(ports[0]!));
  const webhooks = await createInstanceWebhookEndpoint(`http://127.0.0.1:${ports[0]}`, login).then(() => 'delivered', (err: unknown) => `NOT delivered (${err instanceof Error ? err.message : String(err)})`);
  console.log(`  webhooks from the emulator: ${webhooks}`);
  for (let i = 1; i < serverCount; i++) {
    // Every server shares BASE_URL (the load balancer's address); here the first server's.
    servers.push(startProcess(`server-${i + 1}`, 'packages/app/src/main.ts', [], { ...env(ports[i]!), BASE_URL: `http://127.0.0.1:${ports[0]}` }));
    await servers[i]!.waitFor(/Kassa is running at/, 120_000);
  }
  const worker = startProcess('worker', 'packages/app/src/worker.ts', [], env(ports[0]!));
  await worker.waitFor(/worker started/, 120_000);
  return {
    servers, worker, emulator, emulatorUrl: emu.url, eventPath, productId, pool, appName,
    async close() {
      await Promise.all([...servers, worker].map((p) => p.stop()));
      await emulator.stop();
      await pool.destroy();
      await psql(dbUrl, `DROP SCHEMA IF EXISTS ${schema} CASCADE; DROP SCHEMA IF EXISTS ${schema}_jobs CASCADE`).catch(() => {});
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

const secretKeyHex = randomBytes(32).toString('hex');

/** The rush event: one product in one quota of `seats`, under the demo organizer the first start seeded. */
async function createRushEvent(pool: DataSource): Promise<{ eventPath: string; productId: string }> {
  const [organizer] = (await pool.query(`SELECT id, slug FROM organizer WHERE slug = 'demo'`)) as { id: string; slug: string }[];
  const [event] = (await pool.query(
    `INSERT INTO event (organizer_id, slug, name, currency, timezone, locale, payment_term_days, payment_term_accept_late, live, reservation_minutes)
     VALUES ($1, 'rush', 'On-sale rush', 'EUR', 'UTC', 'en', 14, false, true, $2) RETURNING id`, [organizer!.id, holdMinutes])) as { id: string }[];
  const [product] = (await pool.query(
    `INSERT INTO product (event_id, name, price, active, position) VALUES ($1, 'Standing ticket', 4500, true, 0) RETURNING id`, [event!.id])) as { id: string }[];
  const [quota] = (await pool.query(
`INSERT INTO quota (event_id, name, size) VALUES ($1, 'Floor', $2) RETURNING id`, [event!.id, seats])) as { id: string }[];
  await pool.query(`INSERT INTO quota_product (quota_id, product_id) VALUES ($1, $2)`, [quota!.id, product!.id]);
  return { eventPath: `/${organizer!.slug}/rush/`, productId: product!.id };
}

async function createInstanceWebhookEndpoint(base: string, login: { email: string; password: string }): Promise<void> {
  const jar = new Map<string, string>();
  const cookie = () => [...jar].map(([k, v]) => `${k}=${v}`).join('; ');
  const keep = (res: Response) => {
    for (const c of res.headers.getSetCookie()) {
      const [pair] = c.split(';');
      const eq = pair!.indexOf('=');
      jar.set(pair!.slice(0, eq), pair!.slice(eq + 1));
    }
    return res;
  };
  const csrfOf = (html: string) => /name="_csrf" value="([^"]*)"/.exec(html)?.[1] ?? '';
  const loginPage = await keep(await fetch(`${base}/control/login`)).text();
  const signedIn = keep(await fetch(`${base}/control/login`, {
    method: 'POST', redirect: 'manual', headers: { cookie: cookie(), 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({ _csrf: csrfOf(loginPage), email: login.email, password: login.password, next: '' }).toString(),
  }));
  if (signedIn.status !== 303) throw new Error(`operator login: ${signedIn.status}`);
  const page = await keep(await fetch(`${base}/plugins/stripe/control/instance`, { headers: { cookie: cookie() } })).text();
  const requestId = /name="requestId" value="([^"]*)"/.exec(page)?.[1] ?? '';
  const res = await fetch(`${base}/plugins/stripe/control/instance/webhook-endpoint`, {
    method: 'POST', redirect: 'manual', headers: { cookie: cookie(), 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({ _csrf: csrfOf(page), requestId }).toString(),
  });
  if (res.status >= 400) throw new Error(`instance webhook endpoint: ${res.status} ${await res.text()}`);
}

/** CPU of the rig's PostgreSQL backends (application_name), followed across pool churn by sampling. */
function followPostgres(pool: DataSource, appName: string): { stop(): Promise<number> } {
  const seen = new Map<number, { first: number; last: number }>();
  const sample = async () => {
    const rows = (await pool.query('SELECT pid FROM pg_stat_activity WHERE application_name = $1', [appName])) as { pid: number }[];
    for (const { pid } of rows) {
      const t = cpuTicksOf(pid);
      const s = seen.get(pid);
      if (s) s.last = Math.max(s.last, t);
      else seen.set(pid, { first: t, last: t });
    }
  };
  const timer = setInterval(() => void sample().catch(() => {}), 250);
  void sample();
  return {
    async stop() {
      clearInterval(timer);
      await sample();
      let ticks = 0;
      for (const s of seen.values()) ticks += s.last - s.first;
      return ticks * 10;
    },
  };
}

async function rush(rig: Rig, serverCount: number): Promise<void> {
  const serverUrls = await Promise.all(rig.servers.map(async (s) => /(http:\/\/\S+)/.exec(await s.waitFor(/Kassa is running at/))![1]!.replace(/\/$/, '')));
  const cpuBefore = { servers: rig.servers.map((s) => s.cpuMs()), worker: rig.worker.cpuMs() };
  const pgCpu = followPostgres(rig.pool, rig.appName);
  const t0 = performance.now();
  const results: BuyerResult[] = [];
  let next = 0;
  let returning = 0;
  const run = async (count: number, offset: number) => {
    let i = 0;
    const one = async (): Promise<void> => {
      while (i < count) {
        const n = offset + i++;
        results.push(await buy({
          base: serverUrls[n % serverUrls.length]!, eventPath: rig.eventPath, productId: rig.productId, emulatorUrl: rig.emulatorUrl,
          abandon: n < buyers && (n * 7919) % 1000 < abandonShare * 1000, address: `10.${(n >> 16) & 255}.${(n >> 8) & 255}.${n & 255}`,
          email: `buyer${n}@rush.test`, t0,
        }));
      }
    };
    await Promise.all(Array.from({ length: concurrency }, one));
  };
  await run(buyers, 0);
  next = buyers;
  const firstWaveMs = performance.now() - t0;
  // Holds of buyers who walked away run out after the reservation time; buyers turned away come back.
  for (let round = 0; round < 5 && (await soldSeats(rig.pool)) < seats; round++) {
    await new Promise((r) => setTimeout(r, holdMinutes * 60_000 + 2_000));
    const before = results.length;
    await run(Math.min(buyers, (seats - (await soldSeats(rig.pool))) * 2 + concurrency), next);
    next += results.length - before;
    returning += results.length - before;
  }
  const paid = results.filter((r) => r.outcome === 'paid');
  const lastPaidAt = Math.max(...paid.map((r) => r.paidAt ?? 0));
  const lastPaidWall = Date.now() - (performance.now() - t0 - lastPaidAt);
  // The aftermath: every paid order's "order paid" email stored by the worker.
  const mails = await waitForMails(rig.pool, paid.length);
  const pgMs = await pgCpu.stop();
  const serverMs = rig.servers.reduce((sum, s, i) => sum + s.cpuMs() - cpuBefore.servers[i]!, 0);
  const workerMs = rig.worker.cpuMs() - cpuBefore.worker;
  const sold = await soldSeats(rig.pool);
  const charges = JSON.parse(await rig.emulator.ask('charges')) as { succeeded: number; double_charges: number };
  const placedTimes = results.filter((r) => r.placedAt !== undefined).map((r) => r.placedAt!);
  const span = (xs: number[]) => (xs.length > 1 ? (Math.max(...xs) - Math.min(...xs)) / 1000 : Number.NaN);
  const count = (o: BuyerResult['outcome']) => results.filter((r) => r.outcome === o).length;

  console.log(`\n${serverCount} server process${serverCount > 1 ? 'es' : ''} + 1 worker · ${results.length} buyers (${returning} came back after holds ran out) · first wave ${(firstWaveMs / 1000).toFixed(1)} s`);
  console.log(`  outcomes: paid ${count('paid')} · sold out ${count('sold-out')} · abandoned after cart ${count('abandoned')} · failed ${count('failed')}${count('failed') ? ` (first: ${results.find((r) => r.outcome === 'failed')!.error})` : ''}`);
  // Rates over the first wave (the rush itself); the buyers who come back later only pick up expired holds.
  const firstPlaced = placedTimes.filter((t) => t <= firstWaveMs);
  const firstPaid = paid.map((r) => r.paidAt!).filter((t) => t <= firstWaveMs);
  const placedRate = firstPlaced.length / span(firstPlaced);
  const paidRate = firstPaid.length / span(firstPaid);
  console.log(`  first wave: orders placed ${firstPlaced.length} (${placedRate.toFixed(0)}/s) · paid ${firstPaid.length} (${paidRate.toFixed(0)}/s); in all ${placedTimes.length} placed, ${paid.length} paid`);
  console.log(`  seats sold ${sold} of ${seats}${sold > seats ? ' — OVERSOLD' : ''} · charges at the emulator ${charges.succeeded}, double charges ${charges.double_charges}`);
  for (const step of STEPS) {
    const xs = results.map((r) => r.timings[step as Step]).filter((x): x is number => x !== undefined).sort((a, b) => a - b);
    if (xs.length) console.log(`  ${step.padEnd(9)} n ${String(xs.length).padStart(6)} · p50 ${percentile(xs, 50).toFixed(1)} ms · p99 ${percentile(xs, 99).toFixed(1)} ms`);
  }
  const per = Math.max(paid.length, 1);
  console.log(`  CPU per paid order (everything the run did, turned-away buyers included): servers ${(serverMs / per).toFixed(2)} ms · worker ${(workerMs / per).toFixed(2)} ms · PostgreSQL ${(pgMs / per).toFixed(2)} ms`);
  const inbox = await waitForWebhooks(rig.pool, lastPaidWall);
  console.log(`  signed webhooks stored ${inbox.n}, processed by the worker ${inbox.done}${inbox.last ? ` · last processed ${((inbox.last - lastPaidWall) / 1000).toFixed(1)} s after the last payment` : ''}`);
  console.log(`  "order paid" emails stored ${mails.count} of ${paid.length} · last one ${mails.last ? ((mails.last - lastPaidWall) / 1000).toFixed(1) : '—'} s after the last payment`);
  const bench = await pgbenchSingleRowInsert(dbUrl, { clients: 32, durationSeconds: 10, protocol: 'extended' });
  console.log(`  pgbench single-row insert (32 clients, same run): ${bench.tps.toFixed(0)} tps · paid orders per second (first wave) = ${(paidRate / bench.tps * 100).toFixed(2)} % of it`);
  console.log(`  load average ${loadavg().map((l) => l.toFixed(1)).join(' ')}`);
}

async function soldSeats(pool: DataSource): Promise<number> {
  const rows: { n: string }[] = await pool.query(
    `SELECT count(*) AS n FROM order_position p JOIN kassa_order o ON o.id = p.order_id JOIN event e ON e.id = o.event_id
      WHERE e.slug = 'rush' AND NOT p.canceled AND ${orderMachine.sqlIn('quotaHolding', 'o.status')}`);
  return Number(rows[0]!.n);
}

async function waitForMails(pool: DataSource, expected: number): Promise<{ count: number; last: number | null }> {
  for (let i = 0; i < 600; i++) {
    const rows: { n: string; last: Date | null }[] = await pool.query(
      `SELECT count(*) AS n, max(created_at) AS last FROM email_message WHERE template = 'order-paid'`);
    const count = Number(rows[0]!.n);
    if (count >= expected) return { count, last: rows[0]!.last?.getTime() ?? null };
    await new Promise((r) => setTimeout(r, 200));
  }
  const rows: { n: string; last: Date | null }[] = await pool.query(`SELECT count(*) AS n, max(created_at) AS last FROM email_message WHERE template = 'order-paid'`);
  return { count: Number(rows[0]!.n), last: rows[0]!.last?.getTime() ?? null };
}

/**
 * The emulator delivers a payment's webhooks after the buyer's return page, so the last few may
 * still be on their way when the emails are in: wait (up to 30 s) until every stored webhook is
 * processed, and say when the last one was. An event left unprocessed after that was not enqueued
 * (the inbox sweep would pick it up later), which the printed counts then show.
 */
async function waitForWebhooks(pool: DataSource, since: number): Promise<{ n: number; done: number; last: number | null }> {
  const ask = async () => ((await pool.query(
    `SELECT count(*)::int AS n, count(processed_at)::int AS done, max(processed_at) AS last FROM stripe_webhook_inbox WHERE source = 'webhook'`)
    .catch(() => [{ n: -1, done: -1, last: null }])) as { n: number; done: number; last: Date | null }[])[0]!;
  let row = await ask();
  for (let i = 0; i < 150 && row.n >= 0 && row.done < row.n; i++) {
    await new Promise((r) => setTimeout(r, 200));
    row = await ask();
  }
  const last = row.last ? new Date(row.last).getTime() : null;
  return { n: row.n, done: row.done, last: last !== null && last >= since ? last : null };
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
