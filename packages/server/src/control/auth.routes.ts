import type { FastifyPluginAsync } from 'fastify';
import { isKassaError } from '@kassa/core/host';
import type { LoginService } from '../auth/login.service';
import type { RateLimit } from '../deps';
import { limiter, rateLimits } from '../infra/rate-limits';
import { fieldErrors, renderPage } from './page';

const loginBody = {
  type: 'object',
  required: ['email', 'password'],
  properties: {
    email: { type: 'string', minLength: 3, maxLength: 320 },
    password: { type: 'string', minLength: 1, maxLength: 1024 },
    next: { type: 'string', maxLength: 2048 },
    _csrf: { type: 'string' },
  },
  additionalProperties: false,
} as const;

/** Only local control-panel paths: an open redirect after login would hand a phisher our domain. */
function safeNext(next: string | undefined): string {
  return next && /^\/control(\/[A-Za-z0-9/_?=&%.-]*)?$/.test(next) ? next : '/control';
}

/**
 * Login (rate-limited per address and per account, scrypt-verified, session regenerated against
 * fixation) and logout.
 */
export const authRoutes: FastifyPluginAsync<{ login: LoginService; loginRateLimit?: RateLimit; loginAccountRateLimit?: RateLimit }> = async (app, opts) => {
  // Counted for every attempt before the password is checked (a burst of parallel guesses cannot
  // all slip in before the first failure is counted), and alike for known and unknown emails.
  const perAccount = limiter(app, 'login-account', opts.loginAccountRateLimit ?? rateLimits.loginAccount,
    (req) => String((req.body as { email?: unknown }).email ?? '').trim().toLowerCase());

  app.get<{ Querystring: { next?: string } }>('/control/login', {
    config: { permission: 'public' },
    schema: { querystring: { type: 'object', properties: { next: { type: 'string', maxLength: 2048 } } } },
  }, async (req, reply) => {
    if (req.session.userId) return reply.redirect(safeNext(req.query.next), 303);
    return renderPage(req, reply, 'login', { title: 'Log in', next: req.query.next ?? '', errors: {}, email: '' });
  });

  app.post<{ Body: { email: string; password: string; next?: string } }>('/control/login', {
    schema: { body: loginBody },
    attachValidation: true,
    config: { permission: 'public', rateLimit: opts.loginRateLimit ?? rateLimits.login },
  }, async (req, reply) => {
    if (req.validationError) {
      const errors = fieldErrors(req.validationError);
      reply.code(400);
      return renderPage(req, reply, 'login', { title: 'Log in', next: '', errors, email: String((req.body as { email?: unknown } | undefined)?.email ?? '') });
    }
    await perAccount(req, reply);
    try {
      const user = await opts.login.authenticate(req.body.email, req.body.password);
      await req.session.regenerate();
      req.session.userId = user.id;
      req.session.organizerId = user.organizerId;
      await opts.login.remember(user);
      // The new session's CSRF secret now, not on the first page: pages opened at once in several
      // tabs would otherwise each create one, and only the last one saved would verify.
      reply.generateCsrf();
      return reply.redirect(safeNext(req.body.next), 303);
    } catch (err) {
      if (!isKassaError(err, 'AUTH_INVALID_CREDENTIALS')) throw err;
      reply.code(401);
      return renderPage(req, reply, 'login', { title: 'Log in', next: req.body.next ?? '', errors: { form: err.message }, email: req.body.email });
    }
  });

  app.post('/control/logout', { config: { permission: 'public' } }, async (req, reply) => {
    await req.session.destroy();
    return reply.redirect('/control/login', 303);
  });
};
