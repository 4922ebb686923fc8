import { randomUUID } from 'node:crypto';
import fp from 'fastify-plugin';
import Tokens from '@fastify/csrf';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { SealedCookie } from './sealed-cookie';

/**
 * What the buyer's cookie carries. Extended by the shop (checkout-session.ts) with its checkouts.
 */
export interface BuyerSessionData {
  /** A random id per browser (given when the cookie is first written): who owns a confirm form's idempotency token. */
  id?: string;
  /** The secret behind the shop forms' CSRF tokens. */
  csrf?: string;
  /** One-shot message shown on the buyer's next shop page. */
  flash?: { kind: 'success' | 'error' | 'warning' | 'info'; message: string };
}

/** The buyer's session of one request: read from its cookie on first use, written back only when set. */
export interface BuyerSession {
  readonly data: Readonly<BuyerSessionData>;
  set<K extends keyof BuyerSessionData>(key: K, value: BuyerSessionData[K]): void;
  /**
   * The size of the cookie's data before sealing (compare with maxBuyerDataBytes) were `key` set to
   * `value`, with the id and CSRF secret a first write adds. A `set` of the same value next reuses
   * the serialisation made here, so the cookie is serialised once per write.
   */
  bytesWith<K extends keyof BuyerSessionData>(key: K, value: BuyerSessionData[K]): number;
}

declare module 'fastify' {
  interface FastifyRequest {
    /** The buyer's checkout session (the sealed cookie `kassa_checkout`), opened on first use. */
    readonly buyer: BuyerSession;
  }
}

export const buyerCookieName = 'kassa_checkout';
/**
 * Browsers keep about 4 kB per cookie; sealed and in base64 the data grows by a third, so a checkout
 * whose data exceeds this is refused before it is written.
 */
export const maxBuyerDataBytes = 2900;

const tokens = new Tokens({ algorithm: 'sha256' });
const kBuyer = Symbol('kassa.buyer');
type WithBuyer = FastifyRequest & { [kBuyer]: OpenBuyerSession | null };

class OpenBuyerSession implements BuyerSession {
  modified = false;
  /** JSON of `data` when already made (by bytesWith), for the seal; dropped by any other change. */
  private json: string | undefined;
  /** What the last bytesWith measured: taken over as it is by a set of the same key and value. */
  private measured: { key: keyof BuyerSessionData; value: unknown; data: BuyerSessionData; json: string } | undefined;
  /** The id and CSRF secret a first write gives, once drawn in this request. */
  private given: { id: string; csrf: string } | undefined;
  constructor(public data: BuyerSessionData) {}

  set<K extends keyof BuyerSessionData>(key: K, value: BuyerSessionData[K]): void {
    const measured = this.measured;
    this.measured = undefined;
    if (measured && measured.key === key && measured.value === value) {
      this.data = measured.data;
      this.json = measured.json;
    } else {
      this.data = withKey(this.data, key, value);
      this.json = undefined;
    }
    this.modified = true;
  }

  bytesWith<K extends keyof BuyerSessionData>(key: K, value: BuyerSessionData[K]): number {
    const data = this.complete(withKey(this.data, key, value));
    const json = JSON.stringify(data);
    this.measured = { key, value, data, json };
    return Buffer.byteLength(json) + sealedOverhead;
  }

  /** The data to seal, as JSON, with the id and CSRF secret the first write gives. */
  toJson(): string {
    if (!this.data.id || !this.data.csrf) {
      this.data = this.complete(this.data);
      this.json = undefined;
    }
    return (this.json ??= JSON.stringify(this.data));
  }

  /**
   * The data with a browser id and a CSRF secret (what the cookie's first write adds). Drawn once
   * per request: a checkout measured before it is written gets the same id and secret both times.
   */
  private complete(data: BuyerSessionData): BuyerSessionData {
    if (data.id && data.csrf) return data;
    this.given ??= { id: randomUUID(), csrf: tokens.secretSync() };
    return { ...data, id: data.id ?? this.given.id, csrf: data.csrf ?? this.given.csrf };
  }
}

function withKey<K extends keyof BuyerSessionData>(data: BuyerSessionData, key: K, value: BuyerSessionData[K]): BuyerSessionData {
  const next = { ...data, [key]: value };
  if (value === undefined) delete next[key];
  return next;
}

/** What sealing adds to the data's JSON before encryption (`{"v":…,"e":<ms>}`), as this limit has always counted it. */
const sealedOverhead = '{"v":,"e":0}'.length + 8;

/**
 * The buyer's checkout state in an encrypted, authenticated cookie (sealed-cookie.ts) instead of
 * a server-side session row: a checkout step then costs no session read and no session write in
 * the database, and the checkout forms' CSRF secret travels in the same cookie. The server session
 * (security.ts) stays for what must be revocable on the server: logins of the control panel.
 * A request that never touches `req.buyer` neither opens nor sets the cookie.
 */
export const buyerSessionPlugin = fp<{ secret: string; secure: boolean; maxAgeMs: number; now?: () => Date }>(async (app, opts) => {
  const sealed = new SealedCookie<BuyerSessionData>(buyerCookieName, opts.secret, opts.maxAgeMs);
  const now = opts.now ?? (() => new Date());
  app.decorateRequest(kBuyer, null);
  app.decorateRequest('buyer', {
    getter(this: FastifyRequest) {
      const req = this as WithBuyer;
      let open = req[kBuyer];
      if (!open) {
        const data = sealed.open(req.cookies?.[buyerCookieName], now());
        open = req[kBuyer] = new OpenBuyerSession(data && typeof data === 'object' ? data : {});
      }
      return open;
    },
  });
  // Written once per request that changed it. The first write also gives the browser its id and
  // the forms' CSRF secret, so the first form page after the cart has nothing to add to the cookie.
  const attributes = `; Max-Age=${Math.floor(opts.maxAgeMs / 1000)}; Path=/; HttpOnly; SameSite=Lax${opts.secure ? '; Secure' : ''}`;
  app.addHook('onSend', (req, reply: FastifyReply, payload, done) => {
    const open = (req as WithBuyer)[kBuyer];
    if (open?.modified) {
      // The sealed value is base64url: nothing in it needs encoding (@fastify/cookie's serializer would only check that).
      reply.header('set-cookie', `${buyerCookieName}=${sealed.sealJson(open.toJson(), now())}${attributes}`);
    }
    done(null, payload);
  });
}, { name: 'kassa-buyer-session', dependencies: ['@fastify/cookie'] });

/** Sets the message the buyer's next shop page shows. */
export function setBuyerFlash(req: FastifyRequest, flash: NonNullable<BuyerSessionData['flash']>): void {
  req.buyer.set('flash', flash);
}

/** The message for this page, if any, removed from the cookie (shown once). */
export function takeBuyerFlash(req: FastifyRequest): BuyerSessionData['flash'] {
  const flash = req.buyer.data.flash;
  if (flash) req.buyer.set('flash', undefined);
  return flash;
}

/** The buyer's id, given now if the cookie has none yet. */
export function buyerId(req: FastifyRequest): string {
  let id = req.buyer.data.id;
  if (!id) req.buyer.set('id', (id = randomUUID()));
  return id;
}

/** A CSRF token for a checkout form, bound to the buyer's cookie (its secret is created on first use). */
export function buyerCsrfToken(req: FastifyRequest): string {
  let secret = req.buyer.data.csrf;
  if (!secret) req.buyer.set('csrf', (secret = tokens.secretSync()));
  return tokens.create(secret);
}

/** Whether the request carries a CSRF token made from the secret in the buyer's cookie (the form field or a header). */
export function buyerCsrfValid(req: FastifyRequest): boolean {
  const secret = req.buyer.data.csrf;
  const body = req.body as { _csrf?: unknown } | undefined;
  const token = body?._csrf ?? req.headers['csrf-token'] ?? req.headers['x-csrf-token'];
  return typeof secret === 'string' && typeof token === 'string' && tokens.verify(secret, token);
}
