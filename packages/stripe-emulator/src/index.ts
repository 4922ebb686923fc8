import type { AddressInfo } from 'node:net';
import { registerChallengePages } from './browser/pages';
import { registerStripeJs } from './browser/stripe-js';
import { advanceClock, registerControls } from './controls';
import { Emulator } from './emulator';
import { EMULATOR_NOTICE } from './notice';
import { resolveOptions, type ChaosOptions, type EmulatorOptions, type WebhookOptions } from './options';
import { applyChaos } from './chaos';
import type { ResolvedRateLimit } from './rate-limit';
import { chargeReport, reportAccount } from './stats';
import { registerAccounts } from './resources/accounts';
import { registerCharges } from './resources/charges';
import { registerConnectMoney } from './resources/connect-money';
import { registerCustomers } from './resources/customers';
import { registerExternalAccounts } from './resources/external-accounts';
import { registerDisputes } from './resources/disputes';
import { registerEvents, registerWebhookEndpoints } from './resources/events';
import { registerOAuth } from './resources/oauth';
import { registerPaymentIntents } from './resources/payment-intents';
import { registerApplePayDomains, registerPaymentMethodDomains } from './resources/payment-method-domains';
import { registerPaymentMethods } from './resources/payment-methods';
import { registerRefunds } from './resources/refunds';
import { registerSetupIntents } from './resources/setup-intents';
import { registerWallets } from './resources/wallets';
import { Router } from './router';
import { createHttpServer } from './server';
import type { DeliveryRecord } from './webhooks/delivery';

export { EMULATOR_NOTICE } from './notice';
export { PINNED_API_VERSION, type ChaosOptions, type EmulatorOptions, type WebhookOptions } from './options';
export type { RateLimitOptions } from './rate-limit';
export type { WalletConfig } from './resources/wallets';
export { computeSignature, signatureHeader } from './webhooks/signature';
export { TEST_CARDS, PM_ALIASES } from './cards';
export type { DeliveryRecord } from './webhooks/delivery';

/** A running emulator. Everything a test needs without going through HTTP. */
export interface RunningEmulator {
  /** e.g. http://127.0.0.1:53011 */
  url: string;
  host: string;
  port: number;
  /** URL of the Stripe.js double, to put in a `<script src>`. */
  stripeJsUrl: string;
  /** Spread into `new Stripe(key, {...})` to point stripe-node at the emulator (no `stripe` import here). */
  stripeNodeConfig: { host: string; port: number; protocol: 'http' };
  /** Clears all accounts, objects, events, deliveries, faults. */
  reset(): void;
  /** Runs every pending "later" transition now (refund failures, payouts, async capture). */
  runPending(): number;
  /** Fires waiting webhook retries now and resolves once nothing is queued or in flight. */
  flushWebhooks(): Promise<void>;
  /** Moves the emulator clock forward; expires authorizations and overdue disputes (see docs). */
  advanceClock(seconds: number): { now: number; expired_authorizations: string[]; closed_disputes: string[] };
  /** Every webhook delivery attempt so far. */
  deliveries(): readonly DeliveryRecord[];
  /** Changes webhook delivery knobs at runtime. */
  configureWebhooks(patch: Partial<WebhookOptions>): void;
  /** The pk_test_ key and OAuth client id that belong to an sk_test_ key. */
  keysFor(secretKey: string): { account: string; publishableKey: string; clientId: string };
  /** §6.3: switch the rate limiter on or off and change its rates at run time. */
  configureRateLimit(patch: Partial<Omit<ResolvedRateLimit, 'clock'>>): Record<string, unknown>;
  /** Injected 500s / timeouts for the rest of the run (replaces the previous chaos set; zeros clear it). */
  chaos(options: ChaosOptions): void;
  /** Request counters: requests, answers by status, 429s, injected faults, replays, per account. */
  stats(): Record<string, unknown>;
  /** Successful charges of an account (by `sk_test_` key or `acct_` id) grouped to find double charges. */
  chargeReport(accountOrKey: string, metadataKey?: string): Record<string, unknown>;
  /** Unexpected handler failures (bugs in the emulator), for tests to assert on. */
  errors(): readonly string[];
  close(): Promise<void>;
}

export function createRouter(): Router {
  const r = new Router();
  registerCustomers(r);
  registerPaymentMethods(r);
  registerPaymentIntents(r);
  registerSetupIntents(r);
  registerCharges(r);
  registerRefunds(r);
  registerDisputes(r);
  registerEvents(r);
  registerWebhookEndpoints(r);
  registerPaymentMethodDomains(r);
  registerApplePayDomains(r);
  registerWallets(r);
  registerAccounts(r);
  registerOAuth(r);
  registerConnectMoney(r);
  registerExternalAccounts(r);
  registerChallengePages(r);
  registerControls(r);
  registerStripeJs(r);
  return r;
}

/**
 * Starts the emulator on a loopback port (random by default). For development and tests
 * only: it refuses live keys and never talks to Stripe.
 */
export async function startEmulator(options: EmulatorOptions = {}): Promise<RunningEmulator> {
  const resolved = resolveOptions(options);
  const emu = new Emulator(resolved);
  const { server, sockets } = createHttpServer(emu, createRouter());
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(resolved.port, resolved.host, () => resolve());
  });
  const { port } = server.address() as AddressInfo;
  const hostForUrl = resolved.host.includes(':') ? `[${resolved.host}]` : resolved.host;
  const url = `http://${hostForUrl}:${port}`;
  emu.baseUrl = url;
  if (resolved.banner) process.stderr.write(`\n  ${EMULATOR_NOTICE}\n  Listening on ${url} (API ${url}/v1, Stripe.js ${url}/v3/)\n\n`);
  return {
    url,
    host: resolved.host,
    port,
    stripeJsUrl: `${url}/v3/`,
    stripeNodeConfig: { host: resolved.host, port, protocol: 'http' },
    reset: () => emu.reset(),
    runPending: () => emu.scheduler.runPending(),
    flushWebhooks: async () => {
      emu.delivery.retryNow();
      await emu.delivery.waitForIdle();
    },
    deliveries: () => emu.delivery.log,
    advanceClock: (seconds) => advanceClock(emu, seconds),
    configureWebhooks: (patch) => void emu.delivery.configure(patch),
    keysFor: (secretKey) => {
      const a = emu.platformForKey(secretKey);
      return { account: a.id, publishableKey: a.publishableKey, clientId: a.clientId };
    },
    configureRateLimit: (patch) => emu.rateLimiter.configure(patch) && emu.rateLimiter.view(),
    chaos: (c) => void applyChaos(emu, c),
    stats: () => emu.stats.view(),
    chargeReport: (accountOrKey, metadataKey) => {
      const account = reportAccount(emu, accountOrKey.startsWith('acct_') ? accountOrKey : undefined, accountOrKey);
      if (!account) throw new Error(`No account for ${accountOrKey}`);
      return chargeReport(account, metadataKey);
    },
    errors: () => emu.errors,
    close: () =>
      new Promise<void>((resolve) => {
        emu.close();
        for (const s of sockets) s.destroy();
        server.close(() => resolve());
      }),
  };
}
