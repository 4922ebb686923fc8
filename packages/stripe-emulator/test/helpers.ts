import http from 'node:http';
import type { AddressInfo } from 'node:net';
import Stripe from 'stripe';
import { startEmulator, type EmulatorOptions, type RunningEmulator } from '../src';

/** A stripe-node 23 client pointed at the emulator (tests only: the emulator never imports stripe). */
export function stripeFor(emu: RunningEmulator, key = 'sk_test_kassa', config: Record<string, unknown> = {}): Stripe {
  return new Stripe(key, { ...emu.stripeNodeConfig, maxNetworkRetries: 0, ...config });
}

let counter = 0;
/** A fresh sk_test_ key, so each test runs in its own isolated account. */
export const freshKey = (): string => `sk_test_${process.pid}_${Date.now()}_${++counter}`;

export async function withEmulator(options: EmulatorOptions = {}): Promise<RunningEmulator> {
  return startEmulator({ webhooks: { retryDelaysMs: [20, 40, 80] }, ...options });
}

/** Raw HTTP against the emulator, for things stripe-node cannot send (bad bodies, live keys, controls). */
export async function raw(
  emu: RunningEmulator,
  method: string,
  path: string,
  body?: string,
  headers: Record<string, string> = {},
  // eslint-disable-next-line @typescript-eslint/no-explicit-any -- arbitrary JSON bodies, asserted field by field
): Promise<{ status: number; headers: http.IncomingHttpHeaders; json: any; text: string }> {
  const res = await fetch(`${emu.url}${path}`, {
    method,
    body,
    headers: body !== undefined ? { 'Content-Type': 'application/x-www-form-urlencoded', ...headers } : headers,
    redirect: 'manual',
  });
  const text = await res.text();
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    json = undefined;
  }
  const h: http.IncomingHttpHeaders = {};
  res.headers.forEach((v, k) => (h[k] = v));
  return { status: res.status, headers: h, json, text };
}

export interface Received {
  body: string;
  signature: string;
  headers: http.IncomingHttpHeaders;
}

/** A local webhook receiver; `status` decides what it answers (per request). */
export async function webhookReceiver(status: (n: number, r: Received) => number = () => 200): Promise<{ url: string; received: Received[]; close: () => Promise<void> }> {
  const received: Received[] = [];
  const server = http.createServer((req, res) => {
    let body = '';
    req.setEncoding('utf8');
    req.on('data', (c: string) => (body += c));
    req.on('end', () => {
      const r = { body, signature: String(req.headers['stripe-signature'] ?? ''), headers: req.headers };
      received.push(r);
      res.statusCode = status(received.length, r);
      res.end('ok');
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}/webhooks`,
    received,
    close: () => new Promise<void>((resolve) => { server.closeAllConnections(); server.close(() => resolve()); }),
  };
}
