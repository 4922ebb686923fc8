import { readFileSync } from 'node:fs';
import { KassaError, errorCodes, isKassaError, loadPlugins } from '@kassa/core/host';
import { renderPluginErrorsSection } from '../../../../packages/core/scripts/errors-doc';
import { docPath } from '../../../../packages/core/scripts/generated-doc';
import { createStripePlugin, stripeError, stripeErrors } from '../../src';

describe('the Stripe plugin\'s own error codes', () => {
  it('are declared by the plugin, not by core, and load next to core\'s without collision', () => {
    expect(Object.keys(errorCodes).filter((c) => c.startsWith('STRIPE_'))).toEqual([]);
    const loaded = loadPlugins([createStripePlugin()]);
    expect(loaded.errors).toEqual([{ plugin: 'stripe', errors: stripeErrors }]);
  });

  it('are KassaErrors with the plugin\'s status and message', () => {
    const err = stripeError('STRIPE_PAYMENT_BUSY', { payment: 'p1' });
    expect(err).toBeInstanceOf(KassaError);
    expect(isKassaError(err, 'STRIPE_PAYMENT_BUSY')).toBe(true);
    expect(err.status).toBe(503);
    expect(err.toJSON()).toEqual({ code: 'STRIPE_PAYMENT_BUSY', message: 'Payment p1 is being updated by another worker; retry shortly', params: { payment: 'p1' } });
  });

  it('have their section in docs/errors.md (run `pnpm docs:errors` after changing them)', () => {
    expect(readFileSync(docPath('errors.md'), 'utf8')).toContain(renderPluginErrorsSection({ plugin: 'stripe', errors: stripeErrors }));
  });
});
