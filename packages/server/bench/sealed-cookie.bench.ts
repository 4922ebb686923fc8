/**
 * CPU per open and seal of the buyer's sealed cookie, with a checkout like the shop benchmark's: a
 * value this instance sealed (the buyer's next request, answered by the same process) and a value
 * sealed by another instance with the same secret (another server process: decrypted). Alternates
 * the cases in rounds, so a busy machine weighs on each alike. Not part of the test run.
 *
 *   TSX_TSCONFIG_PATH=tsconfig.base.json npx tsx packages/server/bench/sealed-cookie.bench.ts
 */
import { SealedCookie } from '../src/infra/sealed-cookie';

const n = Number(process.env.BENCH_OPS ?? 20000);
const secret = 'bench-secret-'.repeat(4);
const checkout = {
  id: '6c1f8a0e-8d8e-4b7c-9a51-0c6c1d7a2b11', csrf: 'Yb3Xc0k1Vw9Jq2Lm7Np4Rs6T',
  shop: {
    'f3c2a1d0-1111-2222-3333-444455556666': {
      lines: [{ productId: 'a3c2a1d0-1111-2222-3333-444455556666', quantity: 1 }], email: 'flow@example.org',
      payment: { provider: 'manual', session: {} }, token: '1c2a1d0e-1111-2222-3333-444455556666',
      cartId: 'b3c2a1d0-1111-2222-3333-444455556666', heldUntil: '2026-12-07T15:30:00.000Z',
    },
  },
};
const here = new SealedCookie<typeof checkout>('kassa_checkout', secret, 3_600_000);
const elsewhere = new SealedCookie<typeof checkout>('kassa_checkout', secret, 3_600_000);
const now = new Date();

function cpuPerOp(work: () => void): number {
  const start = process.cpuUsage();
  for (let i = 0; i < n; i++) work();
  const used = process.cpuUsage(start);
  return (used.user + used.system) / n;
}

const fromHere = here.seal(checkout, now);
// More distinct values than an instance remembers, opened in turn: every open decrypts.
const fromElsewhere = Array.from({ length: n }, () => elsewhere.seal(checkout, now));
let next = 0;
const cases: [string, () => void][] = [
  ['open, sealed by this instance', () => here.open(fromHere, now)],
  ['open, sealed by another instance', () => here.open(fromElsewhere[next++ % n], now)],
  ['seal', () => here.seal(checkout, now)],
];
const results = new Map<string, number[]>();
for (let round = 0; round < 5; round++) {
  for (const [name, work] of cases) {
    const us = cpuPerOp(work);
    if (round > 0) results.set(name, [...(results.get(name) ?? []), us]);
  }
}
console.log(`sealed cookie · ${n} operations per case and round · ${fromHere.length} characters sealed`);
for (const [name, runs] of results) {
  console.log(`  ${name.padEnd(34)} min ${Math.min(...runs).toFixed(2)} µs · median ${runs.sort((a, b) => a - b)[Math.floor(runs.length / 2)]!.toFixed(2)} µs per operation`);
}
