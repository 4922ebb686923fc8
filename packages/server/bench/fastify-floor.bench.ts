/**
 * The floor under the checkout's per-request CPU: the same fastify, @fastify/formbody and
 * @fastify/cookie as the app, and handlers that do nothing but answer like the checkout does (a
 * 303 with a Set-Cookie for a POST, a 2.3 KB page for a GET), driven exactly as
 * checkout-steps.bench.ts drives the shop (16 in flight, the same headers and bodies). What the
 * shop spends per request above this is Kassa's own (hooks, cookie, templates, SQL, domain work).
 * BENCH_FLOOR_HEADERS=1 adds twelve headers per response in an onRequest hook (the app's security set).
 * Not part of the test run.
 *
 *   TSX_TSCONFIG_PATH=tsconfig.base.json npx tsx packages/server/bench/fastify-floor.bench.ts
 */
import { fork } from 'node:child_process';
import { Agent, request } from 'node:http';
import { loadavg } from 'node:os';
import Fastify from 'fastify';
import fastifyFormbody from '@fastify/formbody';
import fastifyCookie from '@fastify/cookie';

const requests = Number(process.env.BENCH_REQUESTS ?? 12000);
const inFlight = 16;

async function serve(): Promise<void> {
  const app = Fastify({ logger: false });
  await app.register(fastifyFormbody);
  await app.register(fastifyCookie);
  const page = `<!doctype html><html><body>${'<p>checkout step</p>'.repeat(120)}</body></html>`;
  const cookie = `kassa_checkout=${'x'.repeat(600)}; Max-Age=43200; Path=/; HttpOnly; SameSite=Lax`;
  // BENCH_FLOOR_HEADERS=1: plus a security header set like the app's (twelve headers, one onRequest hook).
  if (process.env.BENCH_FLOOR_HEADERS) {
    const headers = Object.fromEntries(Array.from({ length: 12 }, (_, i) => [`x-security-${i}`, i === 0 ? "default-src 'self';base-uri 'self';object-src 'none';frame-ancestors 'none';form-action 'self';img-src 'self' data:;style-src 'self'" : 'same-origin']));
    app.addHook('onRequest', (_req, reply, done) => {
      reply.headers(headers);
      done();
    });
  }
  app.get('/page', async (_req, reply) => reply.type('text/html; charset=utf-8').send(page));
  app.post('/form', async (_req, reply) => reply.header('set-cookie', cookie).redirect('/page', 303));
  await app.listen({ host: '127.0.0.1', port: 0 });
  const address = app.server.address();
  process.send!({ port: typeof address === 'object' && address ? address.port : 0 });
  process.on('message', () => {
    const cpu = process.cpuUsage();
    process.send!({ cpu: cpu.user + cpu.system });
  });
}

async function main(): Promise<void> {
  const child = fork(__filename, [], { env: { ...process.env, FLOOR_SERVER: '1' } });
  const nextMessage = () => new Promise<{ port?: number; cpu?: number }>((resolve) => child.once('message', resolve));
  const { port } = await nextMessage();
  const cpu = async () => {
    const answer = nextMessage();
    child.send('cpu');
    return (await answer).cpu!;
  };
  const agent = new Agent({ keepAlive: true, maxSockets: inFlight });
  const cookie = `kassa_checkout=${'y'.repeat(600)}`;
  const send = (method: string, path: string, body?: string) => new Promise<number>((resolve, reject) => {
    const headers: Record<string, string> = { accept: 'text/html', cookie };
    if (body) headers['content-type'] = 'application/x-www-form-urlencoded';
    const req = request({ host: '127.0.0.1', port, method, path, headers, agent }, (res) => {
      res.resume();
      res.on('end', () => resolve(res.statusCode ?? 0));
    });
    req.on('error', reject);
    req.end(body);
  });
  const kinds: [string, () => Promise<number>][] = [
    ['GET page', () => send('GET', '/page')],
    ['POST form', () => send('POST', '/form', `_csrf=${'z'.repeat(52)}&email=flow%40example.org`)],
  ];
  try {
    console.log(`fastify floor · ${requests} requests per kind · ${inFlight} in flight · node ${process.version} · load average ${loadavg().map((l) => l.toFixed(1)).join(' ')}`);
    for (let round = 1; round <= 2; round++) {
      for (const [name, run] of kinds) {
        const before = await cpu();
        let next = 0;
        await Promise.all(Array.from({ length: inFlight }, async () => {
          while (next++ < requests) await run();
        }));
        const used = (await cpu()) - before;
        if (round === 2) console.log(`  ${name.padEnd(10)} node ${(used / requests).toFixed(0).padStart(4)} µs per request`);
      }
    }
  } finally {
    agent.destroy();
    child.kill('SIGTERM');
  }
}

(process.env.FLOOR_SERVER ? serve() : main()).catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
