import type { FastifyPluginAsync } from 'fastify';
import { KassaError } from '@kassa/core/host';

/** Where Apple Pay's verifier fetches the domain association file (reference/stripe-spec.md §8.1). */
export const APPLE_PAY_ASSOCIATION_PATH = '/.well-known/apple-developer-merchantid-domain-association';

/**
 * Serves Apple Pay's domain association file on every host Kassa answers on (the instance's own and
 * any custom shop domain pointed at it), so each registered payment method domain can verify. The
 * content is the operator's (KASSA_APPLE_PAY_DOMAIN_ASSOCIATION_FILE, the file Stripe offers for
 * download in its Dashboard); without it the path is a 404, as Apple expects of a domain without one.
 * Outside the site scope: no session, no cookie, public and cacheable.
 */
export const wellKnownPlugin: FastifyPluginAsync<{ applePayDomainAssociation?: string }> = async (app, opts) => {
  const content = opts.applePayDomainAssociation;
  app.get(APPLE_PAY_ASSOCIATION_PATH, async (_req, reply) => {
    if (!content) throw new KassaError('NOT_FOUND', { entity: 'Apple Pay domain association file' });
    return reply.header('content-type', 'text/plain; charset=utf-8').header('cache-control', 'public, max-age=3600').send(content);
  });
};
