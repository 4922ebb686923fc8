import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { RawResponse, type Router } from '../router';
import { EMULATOR_NOTICE } from '../notice';
import { page } from './pages';

/** Serves the Stripe.js double (plain JS in stripe-js.client.js) at the URLs a page may load it from. */
export function registerStripeJs(r: Router): void {
  // One script for the page: the Express Checkout part lives in its own file but shares the closure.
  const express = readFileSync(join(__dirname, 'express-checkout.client.js'), 'utf8');
  const source = readFileSync(join(__dirname, 'stripe-js.client.js'), 'utf8').replace(/^ *\/\* @express-checkout:.*\*\/$/m, () => express);
  const serve = () => new RawResponse(200, { 'Content-Type': 'application/javascript; charset=utf-8', 'Cache-Control': 'no-cache' }, source);
  for (const path of ['/v3', '/js/stripe.js', '/v3/stripe.js']) r.add('GET', path, serve, 'none');
  r.add('GET', '/', (ctx) =>
    RawResponse.html(
      page(
        'Kassa Stripe emulator',
        `<p>${EMULATOR_NOTICE}</p><p>API base: <code>${ctx.emu.baseUrl}/v1</code>. Stripe.js double: <code>${ctx.emu.baseUrl}/v3/</code>. Test controls under <code>/_emulator/</code>. See docs/stripe-emulator.md.</p>`,
      ),
    ),
  'none');
}
