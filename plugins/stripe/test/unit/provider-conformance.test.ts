import { startEmulator, type RunningEmulator } from '@kassa/stripe-emulator';
import { runProviderConformance } from '@kassa/testing';
import type { BasePaymentProvider } from '@kassa/core/host';
import { StripeProvider } from '../../src';

// The suite core's contract relies on, run against the real provider and the emulator (never the network).
let emulator: RunningEmulator;
beforeAll(async () => { emulator = await startEmulator(); });
afterAll(async () => { await emulator.close(); });

const secretKey = 'sk_test_conformance';

// The suite takes the untyped-settings provider type; ours is typed by StripeSettings.
runProviderConformance(() => new StripeProvider() as unknown as BasePaymentProvider, {
  settings: () => ({ secretKey, publishableKey: emulator.keysFor(secretKey).publishableKey, apiBase: emulator.url, maxNetworkRetries: 0 }),
  amount: 2500,
  happyPath: { expect: 'requires_action' },
  shred: {
    info: { intentId: 'pi_1', chargeId: 'ch_1', card: { brand: 'visa', last4: '4242', expMonth: 1, expYear: 2030, country: 'DE' }, billing: { name: 'Jane', email: 'jane@example.org', country: 'DE' } },
    personalKeys: ['card', 'billing'],
  },
  validSettings: { secretKey: 'sk_test_abc', publishableKey: 'pk_test_abc', captureMethod: 'manual', statementDescriptorSuffix: 'KASSA 2030' },
  invalidSettings: [
    { secretKey: 'pk_test_abc', publishableKey: 'pk_test_abc' },
    { secretKey: 'sk_test_abc', publishableKey: 'sk_test_abc' },
    { secretKey: 'sk_test_abc', publishableKey: 'pk_test_abc', webhookSecrets: ['whsec_a'] }, // not a setting: secrets live on endpoint rows
    { secretKey: 'sk_test_abc', publishableKey: 'pk_test_abc', stripeJsUrl: 'javascript:alert(1)' },
    { secretKey: 'sk_test_abc', publishableKey: 'pk_test_abc', captureMethod: 'later' },
    { secretKey: 'sk_test_abc', publishableKey: 'pk_test_abc', statementDescriptorSuffix: '12345' },
    { secretKey: 'sk_test_abc', publishableKey: 'pk_test_abc', maxNetworkRetries: -1 },
  ],
});
