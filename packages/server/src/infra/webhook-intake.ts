import { createServer, type IncomingMessage, type RequestListener, type Server, type ServerOptions, type ServerResponse } from 'node:http';
import { KassaError, type PluginHttpResponse, type PluginRoute, type PluginRuntime } from '@kassa/core/host';
import { errorBody, toKassaError, type ErrorBody } from './error-handler';

interface Match { readonly entry: IntakeRoute; readonly params: Readonly<Record<string, string>> }

/** Largest webhook body accepted (the same limit on both paths); larger → 413, nothing read further. */
export const WEBHOOK_BODY_LIMIT = 1024 * 1024;

/** A webhook route as the intake serves it: the handler and the plugin's runtime for requests of no organizer. */
export interface IntakeRoute {
  plugin: string;
  route: PluginRoute;
  runtime: () => PluginRuntime;
}

export interface IntakeLog {
  info(data: Record<string, unknown>, msg: string): void;
  error(data: Record<string, unknown>, msg: string): void;
}

/**
 * Provider webhooks served from node's 'request' event, before fastify sees the request. A webhook
 * route has nothing of the site around it (no session, CSRF, CSP, security headers, rate limit or
 * input guard: the provider proves itself by a signature on the raw body, which the plugin checks),
 * so the router, the request and reply objects, the hooks and the per-request log lines would be
 * pure cost at the rate a provider delivers during a rush. The answers are those of the fastify
 * route (plugin-routes.ts), which stays mounted for `inject()` and for what the intake leaves alone:
 * a path it would have to decode (percent-encoding, a query string, an over-long segment), and every
 * request once the app is closing (fastify then answers 503 while the inbox drains).
 */
export class WebhookIntake {
  private readonly routes: { method: string; prefix: string; segments: (string | { param: string })[]; entry: IntakeRoute }[];
  private readonly matched = new Map<string, Match | null>();
  private closing = false;

  constructor(routes: readonly IntakeRoute[], private readonly log: IntakeLog) {
    this.routes = routes.map((entry) => {
      const prefix = `/plugins/${entry.plugin}/`;
      const segments = entry.route.path.slice(1).split('/').map((s) => (s.startsWith(':') ? { param: s.slice(1) } : s));
      return { method: entry.route.method, prefix, segments, entry };
    });
  }

  /** From now on every request goes to fastify (which refuses it while closing). */
  close(): void {
    this.closing = true;
  }

  /** Serves the request if it is a webhook route's and answers true; false leaves it to fastify, untouched. */
  serve(req: IncomingMessage, res: ServerResponse): boolean {
    const url = req.url;
    if (this.closing || url === undefined || !url.startsWith('/plugins/') || !plainPath.test(url)) return false;
    const found = this.match(req.method ?? '', url);
    if (!found) return false;
    const declared = Number(req.headers['content-length'] ?? 0);
    if (declared > WEBHOOK_BODY_LIMIT) {
      this.refuseTooLarge(res);
      return true;
    }
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size > WEBHOOK_BODY_LIMIT) {
        if (!res.headersSent) this.refuseTooLarge(res);
        req.removeAllListeners('data');
        return;
      }
      chunks.push(chunk);
    });
    req.on('end', () => {
      if (size > WEBHOOK_BODY_LIMIT) return;
      const rawBody = chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks, size);
      // A copy: the match is shared by every request to this URL, and a handler may change its params.
      this.answer(found.entry, { ...found.params }, req, res, rawBody);
    });
    // A client that goes away mid-body leaves nothing to answer.
    req.on('error', () => undefined);
    return true;
  }

  private match(method: string, url: string): Match | null {
    // A provider posts to the same few URLs (one per account) again and again: each is matched once.
    const key = `${method} ${url}`;
    const known = this.matched.get(key);
    if (known !== undefined) return known;
    const found = this.matchRoutes(method, url);
    if (url.length > MATCH_CACHE_URL_LENGTH) return found;
    if (this.matched.size >= MATCH_CACHE_SIZE) this.matched.clear();
    this.matched.set(key, found);
    return found;
  }

  private matchRoutes(method: string, url: string): Match | null {
    for (const r of this.routes) {
      if (r.method !== method || !url.startsWith(r.prefix)) continue;
      const parts = url.slice(r.prefix.length).split('/');
      if (parts.length !== r.segments.length) continue;
      const params: Record<string, string> = {};
      let ok = true;
      for (let i = 0; i < parts.length && ok; i += 1) {
        const want = r.segments[i]!;
        const part = parts[i]!;
        if (typeof want === 'string') ok = part === want;
        else if (part.length === 0 || part.length > MAX_PARAM_LENGTH) ok = false;
        else params[want.param] = part;
      }
      if (ok) return { entry: r.entry, params };
    }
    return null;
  }

  private answer(entry: IntakeRoute, params: Record<string, string>, req: IncomingMessage, res: ServerResponse, rawBody: Buffer): void {
    let pending: Promise<PluginHttpResponse>;
    try {
      pending = entry.route.handler({ method: req.method!, params, query: noQuery, headers: req.headers, rawBody, body: undefined }, entry.runtime());
    } catch (err) {
      pending = Promise.reject(err);
    }
    pending.then(
      (out) => this.send(entry, req, res, out),
      (err: unknown) => this.sendError(entry, req, res, err),
    ).catch((err: unknown) => {
      // An answer node refuses to write (a header value with a line break, say) is the plugin's
      // bug: 500 if nothing went out yet, else the connection is cut. Never an unhandled rejection.
      if (res.headersSent) res.destroy();
      else {
        try {
          this.sendError(entry, req, res, err);
        } catch {
          res.destroy();
        }
      }
    });
  }

  private send(entry: IntakeRoute, req: IncomingMessage, res: ServerResponse, out: PluginHttpResponse): void {
    if ('view' in out) {
      this.sendError(entry, req, res, new Error(`the webhook route ${entry.route.path} answered with a view; webhook routes answer with a status and body`));
      return;
    }
    if ('redirect' in out) {
      res.writeHead(out.status ?? 303, ['location', out.redirect, 'cache-control', NO_STORE, 'content-length', '0']).end();
      return;
    }
    const known = preparedAnswers.get(out);
    if (known) {
      // A text body is joined to the head in one buffer for the socket; a Buffer body would be a second.
      res.writeHead(known.status, known.headers).end(known.body);
      if (known.status >= 400) this.log.info({ plugin: entry.plugin, url: req.url, statusCode: known.status }, 'webhook refused');
      return;
    }
    const headers: string[] = [];
    let type: string | undefined;
    let cache: string | undefined;
    for (const [k, v] of Object.entries(out.headers ?? {})) {
      const key = k.toLowerCase();
      if (key === 'content-type') type = v;
      else if (key === 'cache-control') cache = v;
      else headers.push(key, v);
    }
    const [body, defaultType] = serialise(out.body);
    type ??= defaultType;
    if (type !== undefined) headers.push('content-type', type);
    headers.push('cache-control', cache ?? NO_STORE, 'content-length', String(body.length));
    if (isConstantAnswer(out)) preparedAnswers.set(out, { status: out.status, headers, body: body.toString('utf8') });
    res.writeHead(out.status, headers).end(body);
    if (out.status >= 400) this.log.info({ plugin: entry.plugin, url: req.url, statusCode: out.status }, 'webhook refused');
  }

  /** As the app's error handler answers a JSON client (toKassaError, errorBody): the catalogued code, 503 for a database away, 500 for anything else. */
  private sendError(entry: IntakeRoute, req: IncomingMessage, res: ServerResponse, err: unknown): void {
    requests += 1;
    const requestId = `webhook-${requests}`;
    const kassa = toKassaError(err, requestId);
    if (kassa.status >= 500) this.log.error({ plugin: entry.plugin, url: req.url, requestId, err }, kassa.code === 'INTERNAL_ERROR' ? 'unhandled error' : kassa.message);
    const headers = ['content-type', JSON_TYPE, 'cache-control', NO_STORE];
    if (kassa.code === 'DATABASE_UNAVAILABLE') headers.push('retry-after', '5');
    if (!res.headersSent) writeJson(res, kassa.status, headers, errorBody(kassa, requestId));
  }

  private refuseTooLarge(res: ServerResponse): void {
    // The rest of the body is not read: the connection closes after the answer.
    writeJson(res, 413, ['content-type', JSON_TYPE, 'cache-control', NO_STORE, 'connection', 'close'],
      errorBody(new KassaError('VALIDATION_FAILED', { field: 'body', detail: 'body is too large' }), ''));
  }
}

function writeJson(res: ServerResponse, status: number, headers: string[], body: ErrorBody): void {
  const text = Buffer.from(JSON.stringify(body));
  res.writeHead(status, [...headers, 'content-length', String(text.length)]).end(text);
}

let requests = 0;
const NO_STORE = 'private, no-store';
const JSON_TYPE = 'application/json; charset=utf-8';
/** URLs remembered with their route (or none): more than a host's providers and accounts post to, fewer than would matter if a client made up URLs. */
const MATCH_CACHE_SIZE = 1_000;
const MATCH_CACHE_URL_LENGTH = 256;
/** find-my-way's default; a longer segment is fastify's 400 naming the url. */
const MAX_PARAM_LENGTH = 100;
/** Paths the intake matches as they are; anything else (percent-encoding, a query) goes to fastify's router. */
const plainPath = /^[A-Za-z0-9_.~/-]+$/;
const noQuery = Object.freeze({});

// Plugins answer with frozen constants for their common answers: serialised once (only a frozen
// object of plain values, which can never serialise differently).
const serialised = new WeakMap<object, Buffer>();
const isConstant = (body: object) => Object.isFrozen(body) && Object.values(body).every((v) => typeof v !== 'object' || v === null);

/**
 * Answers given as frozen constants (a plugin's "received" answer, say), with their head: one
 * lookup per request instead of building headers and body again.
 */
const preparedAnswers = new WeakMap<object, { status: number; headers: string[]; body: string }>();
function isConstantAnswer(out: PluginHttpResponse & { status: number }): boolean {
  const { headers, body } = out as { headers?: object; body?: unknown };
  return Object.isFrozen(out) && (headers === undefined || (Object.isFrozen(headers) && isConstant(headers)))
    && typeof body === 'object' && body !== null && !Buffer.isBuffer(body) && isConstant(body);
}

function serialise(body: unknown): [Buffer, string | undefined] {
  if (body === undefined) return [empty, undefined];
  if (Buffer.isBuffer(body)) return [body, 'application/octet-stream'];
  if (typeof body === 'string') return [Buffer.from(body), 'text/plain; charset=utf-8'];
  if (typeof body === 'object' && body !== null) {
    const known = serialised.get(body);
    if (known) return [known, JSON_TYPE];
    const text = Buffer.from(JSON.stringify(body));
    if (isConstant(body)) serialised.set(body, text);
    return [text, JSON_TYPE];
  }
  return [Buffer.from(JSON.stringify(body)), JSON_TYPE];
}
const empty = Buffer.alloc(0);

/**
 * The app's HTTP server (fastify's `serverFactory`): webhook requests go to the intake, everything
 * else to fastify. The timeouts are the ones fastify sets on a server it creates itself.
 */
export function webhookFirstServer(
  fastifyHandler: RequestListener, options: { http?: ServerOptions; keepAliveTimeout?: number; requestTimeout?: number; connectionTimeout?: number },
  intake: () => WebhookIntake | undefined,
): Server {
  const server = createServer(options.http ?? {}, (req, res) => {
    if (intake()?.serve(req, res)) return;
    fastifyHandler(req, res);
  });
  if (options.keepAliveTimeout !== undefined) server.keepAliveTimeout = options.keepAliveTimeout;
  if (options.requestTimeout !== undefined) server.requestTimeout = options.requestTimeout;
  if (options.connectionTimeout !== undefined) server.setTimeout(options.connectionTimeout);
  return server;
}
