/**
 * Settings for the embedded default (no Stripe keys configured): the test keys of an in-process
 * emulator, its API as apiBase and its Stripe.js double. The host (server main) seeds these at the
 * global level; the emulator refuses live keys, so nothing here can reach the real Stripe.
 */
export function embeddedStripeSettings(emulator: { url: string; stripeJsUrl: string; keysFor(secretKey: string): { publishableKey: string } }, secretKey = 'sk_test_kassaEmbedded'): Record<string, unknown> {
  return {
    _enabled: true,
    secretKey,
    publishableKey: emulator.keysFor(secretKey).publishableKey,
    apiBase: emulator.url,
    stripeJsUrl: emulator.stripeJsUrl,
  };
}
