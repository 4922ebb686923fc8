/**
 * The Stripe emulator of the end-to-end rush, as its own process so that its work (intents,
 * confirmations, signed webhook deliveries) is neither counted as Kassa's CPU nor slows the
 * load generator. Prints one JSON line ({ url, stripeJsUrl, publishableKey, account }) for the
 * secret key given as argv[2]; on the line "charges" from stdin it answers the charge report of
 * that key's account (double charges are looked for there, not in Kassa's own rows).
 */
import { createInterface } from 'node:readline';
import { startEmulator } from '../../packages/stripe-emulator/src';

async function main(): Promise<void> {
  const secretKey = process.argv[2] ?? 'sk_test_rush';
  const emu = await startEmulator({ banner: false });
  const keys = emu.keysFor(secretKey);
  process.stdout.write(`${JSON.stringify({ url: emu.url, stripeJsUrl: emu.stripeJsUrl, publishableKey: keys.publishableKey, account: keys.account })}\n`);
  const lines = createInterface({ input: process.stdin });
  lines.on('line', (line) => {
    if (line === 'charges') process.stdout.write(`${JSON.stringify(emu.chargeReport(secretKey, 'kassa_order_id'))}\n`);
    else if (line === 'stats') process.stdout.write(`${JSON.stringify(emu.stats())}\n`);
  });
  lines.on('close', () => void emu.close().then(() => process.exit(0)));
  process.on('SIGTERM', () => void emu.close().then(() => process.exit(0)));
}

void main();
