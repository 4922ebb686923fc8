import fp from 'fastify-plugin';
import type { FastifyReply } from 'fastify';
import fastifyCookie from '@fastify/cookie';
import fastifySession from '@fastify/session';
import fastifyCsrf from '@fastify/csrf-protection';
import { KassaError, type DataSource } from '@kassa/core/host';
import { scriptOrigins, withoutForeignScriptNonces } from './script-nonces';
import { PgSessionStore } from './session-store';
import { buyerCsrfValid, buyerSessionPlugin } from './buyer-session';
import { newNonces, SecurityHeaders, type CspNonces } from './security-headers';

declare module 'fastify' {
  interface Session {
    /** Logged-in control-panel user. */
    userId?: string;
    /** The organizer the user works in (one of their teams' organizers). */
    organizerId?: string;
    /** One-shot message shown on the next page. */
    flash?: { kind: 'success' | 'error' | 'warning' | 'info'; message: string };
  }
  interface FastifyContextConfig {
    /**
     * Set to false on routes that are not cookie-authenticated (API with Bearer tokens, webhooks);
     * 'buyer' on the checkout's forms, whose CSRF secret is in the buyer's cookie (buyer-session.ts).
     */
    csrf?: boolean | 'buyer';
    /** false: no security headers (provider webhooks answer a provider's server, never a browser). */
    securityHeaders?: false;
  }
  interface FastifyReply {
    /** This response's CSP nonces, made on first use (security.ts): only then does its CSP carry them. */
    readonly cspNonce: CspNonces;
  }
}

/** Content-Security-Policy additions a provider declares (BasePaymentProvider.contentSecurityPolicy). */
export interface CspAdditions {
  scriptSrc?: string[];
  frameSrc?: string[];
  connectSrc?: string[];
}

export interface SecurityOptions {
  dataSource: DataSource;
  baseUrl: string;
  /** Signs the session cookie; at least 32 characters. */
  sessionSecret: string;
  /** Origins the enabled providers need (Stripe.js and its frames, for instance). */
  csp?: CspAdditions;
  now?: () => Date;
}

/** Session lifetime: a working day. Not rolling, so reading a page never writes the session row. */
export const sessionMaxAgeMs = 12 * 60 * 60 * 1000;

const stateChanging = new Set(['POST', 'PUT', 'PATCH', 'DELETE']);

/**
 * Cookies, the buyer's sealed checkout cookie (buyer-session.ts) and the CSRF check of the routes
 * that use it (`config.csrf: 'buyer'`), for the whole site scope. The shop is registered at this
 * level: a buyer's request never creates, reads or writes a server session. A state-changing route
 * here that names neither its CSRF check nor `csrf: false`, and has no server session (sessionPlugin)
 * to check against, is refused: a forgotten declaration fails closed.
 */
export const buyerScopePlugin = fp<Pick<SecurityOptions, 'baseUrl' | 'sessionSecret' | 'now'>>(async (app, opts) => {
  const secure = opts.baseUrl.startsWith('https://');
  await app.register(fastifyCookie);
  await app.register(buyerSessionPlugin, { secret: opts.sessionSecret, secure, maxAgeMs: sessionMaxAgeMs, now: opts.now });
  // Checked before schema validation, so a forged form is refused as such and never reaches a handler.
  app.addHook('preValidation', (req, _reply, done) => {
    const csrf = req.routeOptions.config?.csrf;
    if (!stateChanging.has(req.method) || csrf === false) return done();
    if (csrf === 'buyer') return done(buyerCsrfValid(req) ? undefined : new KassaError('CSRF_INVALID'));
    if (!req.server.hasDecorator('csrfProtection')) return done(new KassaError('CSRF_INVALID'));
    done();
  });
}, { name: 'kassa-buyer-scope' });

/**
 * PostgreSQL-backed server sessions (logins of the control panel, plugin pages) and CSRF on every
 * state-changing request that is cookie-authenticated through them. Registered inside the site's
 * scope, below buyerScopePlugin and beside the shop (app.ts), so routes outside it (the shop,
 * provider webhooks) neither read nor write a server session.
 */
export const sessionPlugin = fp<Pick<SecurityOptions, 'dataSource' | 'baseUrl' | 'sessionSecret' | 'now'>>(async (app, opts) => {
  const secure = opts.baseUrl.startsWith('https://');
  await app.register(fastifySession, {
    secret: opts.sessionSecret,
    cookieName: 'kassa_session',
    store: new PgSessionStore(opts.dataSource, opts.now),
    saveUninitialized: false,
    rolling: false,
    cookie: { secure, httpOnly: true, sameSite: 'lax', path: '/', maxAge: sessionMaxAgeMs },
  });
  await app.register(fastifyCsrf, { sessionPlugin: '@fastify/session' });

  // After buyerScopePlugin's hook, which has checked the routes that declare `csrf: 'buyer'`.
  app.addHook('preValidation', (req, reply, done) => {
    const csrf = req.routeOptions.config?.csrf;
    if (!stateChanging.has(req.method) || csrf === false || csrf === 'buyer') return done();
    app.csrfProtection(req, reply, done);
  });
}, { name: 'kassa-session', dependencies: ['kassa-buyer-scope'] });

/**
 * Security headers for the whole app (error and not-found pages included) with a CSP of our origin
 * plus the providers' origins (rate limits: rate-limits.ts), built once at boot (security-headers.ts).
 * A response gets CSP nonces only when its page asks for them (`reply.cspNonce`, made on first
 * use): the nonces then join its CSP. A page that asks for none has no inline script the CSP
 * could vouch for, and its CSP names no nonce. A route opts out of the headers with the route
 * config `securityHeaders: false` (provider webhooks).
 */
export const securityHeadersPlugin = fp<Pick<SecurityOptions, 'baseUrl' | 'csp'>>(async (app, opts) => {
  const secure = opts.baseUrl.startsWith('https://');
  const csp = opts.csp ?? {};
  const security = new SecurityHeaders([
    ['default-src', ["'self'"]],
    ['base-uri', ["'self'"]],
    ['object-src', ["'none'"]],
    ['frame-ancestors', ["'none'"]],
    ['form-action', ["'self'"]],
    ['img-src', ["'self'", 'data:']],
    ['style-src', ["'self'"]],
    ['font-src', ["'self'"]],
    ['script-src', ["'self'", ...(csp.scriptSrc ?? [])]],
    ['frame-src', ["'self'", ...(csp.frameSrc ?? [])]],
    ['connect-src', ["'self'", ...(csp.connectSrc ?? [])]],
    ...(secure ? [['upgrade-insecure-requests', []] as const] : []),
  ], { hsts: secure });

  app.decorateReply(kNonces, null);
  app.decorateReply('cspNonce', {
    getter(this: FastifyReply) {
      const reply = this as WithNonces;
      let nonces = reply[kNonces];
      if (!nonces) {
        nonces = reply[kNonces] = newNonces();
        if (reply.hasHeader('content-security-policy')) reply.header('content-security-policy', security.withNonces(nonces));
      }
      return nonces;
    },
  });
  app.addHook('onRequest', (req, reply, done) => {
    if (req.routeOptions.config?.securityHeaders !== false) reply.headers(security.headers);
    done();
  });

  // A nonce never vouches for a script from a host the CSP does not list (script-nonces.ts).
  const allowedScripts = scriptOrigins(opts.baseUrl, csp.scriptSrc ?? []);
  app.addHook('onSend', (_req, reply, payload, done) => {
    // Without a nonce in the CSP, a nonce attribute in the page vouches for nothing.
    if (!(reply as WithNonces)[kNonces] || typeof payload !== 'string' || !String(reply.getHeader('content-type') ?? '').startsWith('text/html')) {
      return done(null, payload);
    }
    done(null, withoutForeignScriptNonces(payload, allowedScripts, opts.baseUrl));
  });
}, { name: 'kassa-security-headers' });

const kNonces = Symbol('kassa.cspNonces');
type WithNonces = FastifyReply & { [kNonces]: CspNonces | null };

/** Merges the CSP additions of several providers, without duplicates. */
export function mergeCsp(parts: readonly CspAdditions[]): CspAdditions {
  const merge = (key: keyof CspAdditions): string[] => [...new Set(parts.flatMap((p) => p[key] ?? []))];
  return { scriptSrc: merge('scriptSrc'), frameSrc: merge('frameSrc'), connectSrc: merge('connectSrc') };
}
