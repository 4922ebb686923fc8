/**
 * PaymentIntent create+confirm throughput (issue 3: ≥ 2,000 pairs/s on the 2-core box).
 * The emulator runs in its own process (as the CLI would), the load generator here, over
 * keep-alive HTTP with the same form encoding and Idempotency-Key header stripe-node sends.
 *
 *   npx tsx packages/stripe-emulator/bench/create-confirm.bench.ts [--seconds 10] [--concurrency 32]
 */
import { spawn } from 'node:child_process';
import http from 'node:http';
import { cpus } from 'node:os';
import { join } from 'node:path';
import { readFileSync } from 'node:fs';
import { loadavg } from 'node:os';

const arg = (name: string, fallback: number): number => {
  const i = process.argv.indexOf(`--${name}`);
  return i === -1 ? fallback : Number(process.argv[i + 1]);
};
const SECONDS = arg('seconds', 10);
const CONCURRENCY = arg('concurrency', 32);
const WARMUP_MS = 2000;

/** CPU seconds (user+system) the emulator process has used, from /proc (Linux). */
function cpuSeconds(pid: number): number {
  try {
    const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]?.split(' ') ?? [];
    return (Number(fields[11]) + Number(fields[12])) / 100; // utime, stime in clock ticks (USER_HZ 100)
  } catch {
    return NaN;
  }
}

async function startServer(): Promise<{ port: number; pid: number; stop: () => void }> {
  const child = spawn(process.execPath, [join(__dirname, '..', 'bin', 'kassa-stripe-emulator.cjs'), '--port', '0'], { stdio: ['ignore', 'ignore', 'pipe'] });
  const port = await new Promise<number>((resolve, reject) => {
    let buf = '';
    child.stderr.on('data', (d: Buffer) => {
      buf += d.toString();
      const m = /Listening on http:\/\/127\.0\.0\.1:(\d+)/.exec(buf);
      if (m) resolve(Number(m[1]));
    });
    child.on('exit', (code) => reject(new Error(`emulator exited with ${code}: ${buf}`)));
  });
  return { port, pid: child.pid as number, stop: () => child.kill('SIGTERM') };
}

const agent = new http.Agent({ keepAlive: true, maxSockets: CONCURRENCY });
let seq = 0;

function post(port: number, path: string, body: string): Promise<{ status: number; json: { id?: string; status?: string } }> {
  return new Promise((resolve, reject) => {
    const req = http.request(
      {
        host: '127.0.0.1', port, path, method: 'POST', agent,
        headers: {
          Authorization: 'Bearer sk_test_bench',
          'Content-Type': 'application/x-www-form-urlencoded',
          'Content-Length': Buffer.byteLength(body),
          'Stripe-Version': '2026-10-28.endive',
          'Idempotency-Key': `bench-${++seq}`,
        },
      },
      (res) => {
        let data = '';
        res.setEncoding('utf8');
        res.on('data', (c: string) => (data += c));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, json: JSON.parse(data) }));
      },
    );
    req.on('error', reject);
    req.end(body);
  });
}

async function pair(port: number): Promise<void> {
  const created = await post(port, '/v1/payment_intents', 'amount=2500&currency=eur&automatic_payment_methods[enabled]=true&automatic_payment_methods[allow_redirects]=never&metadata[order]=bench');
  if (created.status !== 200 || !created.json.id) throw new Error(`create failed: ${JSON.stringify(created.json)}`);
  const confirmed = await post(port, `/v1/payment_intents/${created.json.id}/confirm`, 'payment_method=pm_card_visa');
  if (confirmed.json.status !== 'succeeded') throw new Error(`confirm failed: ${JSON.stringify(confirmed.json)}`);
}

async function main(): Promise<void> {
  const server = await startServer();
  try {
    let done = 0;
    let counting = false;
    const deadline = Date.now() + WARMUP_MS + SECONDS * 1000;
    const worker = async () => {
      while (Date.now() < deadline) {
        await pair(server.port);
        if (counting) done++;
      }
    };
    let cpuAtStart = 0;
    setTimeout(() => {
      counting = true;
      cpuAtStart = cpuSeconds(server.pid);
    }, WARMUP_MS);
    const started = Date.now() + WARMUP_MS;
    await Promise.all(Array.from({ length: CONCURRENCY }, worker));
    const elapsed = (Date.now() - started) / 1000;
    const rate = done / elapsed;
    const serverCpu = cpuSeconds(server.pid) - cpuAtStart;
    console.log(`create+confirm pairs: ${done} in ${elapsed.toFixed(1)} s → ${Math.round(rate)} pairs/s (${Math.round(rate * 2)} requests/s)`);
    console.log(`emulator CPU: ${serverCpu.toFixed(2)} s → ${((serverCpu * 1000) / done).toFixed(3)} ms per pair → ${Math.round(done / serverCpu)} pairs per CPU-second`);
    console.log(`concurrency ${CONCURRENCY}, ${cpus().length} CPUs (${cpus()[0]?.model ?? 'unknown'}), node ${process.version}, load average ${loadavg().map((l) => l.toFixed(1)).join(' ')}`);
    console.log(rate >= 2000 ? 'OK: ≥ 2,000 pairs/s' : 'BELOW TARGET: < 2,000 pairs/s');
  } finally {
    server.stop();
    agent.destroy();
  }
}

void main();
