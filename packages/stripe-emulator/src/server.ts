import http from 'node:http';
import type { Socket } from 'node:net';
import { ApiError, authenticationError, invalidRequest, permissionError } from './errors';
import type { Emulator, Fault } from './emulator';
import { expandResponse } from './expand';
import { decodeForm, FormDecodeError, type FormObject } from './form-decode';
import { begin, finish, fingerprint, type StoredResponse } from './idempotency';
import { RawResponse, type Ctx, type Router } from './router';
import type { AccountState } from './store';
import { isKnownApiVersion } from './versions';
import { PINNED_API_VERSION } from './options';

export const EMULATOR_HEADER = 'stripe-emulator; development and tests only';
/** Stripe bodies are small; a runaway client should not exhaust memory. */
const MAX_BODY = 1_000_000;
const API_VERSION_RE = /^\d{4}-\d{2}-\d{2}(\.[a-z]+)?$/;
/** Errors that Stripe raises before execution starts are not stored under the idempotency key (§6.1). */
const NOT_STORED_CODES = new Set(['parameter_unknown', 'parameter_missing', 'parameter_invalid_integer', 'parameter_invalid_string', 'idempotency_key_in_use']);

const CORS: Record<string, string> = {
  'Access-Control-Allow-Origin': '*',
  'Access-Control-Allow-Methods': 'GET, POST, DELETE, OPTIONS',
  'Access-Control-Allow-Headers': 'Authorization, Content-Type, Stripe-Account, Stripe-Version, Idempotency-Key',
  'Access-Control-Expose-Headers': 'Request-Id, Idempotent-Replayed, Stripe-Version',
  'Access-Control-Max-Age': '600',
};

export function createHttpServer(emu: Emulator, router: Router): { server: http.Server; sockets: Set<Socket> } {
  const sockets = new Set<Socket>();
  const server = http.createServer((req, res) => {
    let body = '';
    let tooLarge = false;
    req.setEncoding('utf8');
    req.on('data', (chunk: string) => {
      body += chunk;
      if (body.length > MAX_BODY && !tooLarge) {
        tooLarge = true;
        send(res, 413, { error: { type: 'invalid_request_error', message: `Request body larger than ${MAX_BODY} bytes.` } }, {});
        req.destroy();
      }
    });
    req.on('end', () => {
      if (tooLarge) return;
      try {
        handle(emu, router, req, res, body);
      } catch (err) {
        send(res, 500, { error: { type: 'api_error', message: `Emulator failure: ${(err as Error).message}` } }, {});
      }
    });
  });
  server.keepAliveTimeout = 65_000;
  server.on('connection', (s) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
  });
  return { server, sockets };
}

function send(res: http.ServerResponse, status: number, body: unknown, headers: Record<string, string>): string {
  const text = typeof body === 'string' ? body : JSON.stringify(body);
  headers['Content-Type'] = 'application/json';
  headers['X-Kassa-Emulator'] = EMULATOR_HEADER;
  headers['Content-Length'] = String(Buffer.byteLength(text));
  res.writeHead(status, headers);
  res.end(text);
  return text;
}

/** `expand` as `expand[]=a`, `expand[0]=a` or a single `expand=a`. */
function expandPaths(v: unknown): string[] {
  if (typeof v === 'string') return v ? [v] : [];
  return Array.isArray(v) ? v.filter((x): x is string => typeof x === 'string') : [];
}

function header(req: http.IncomingMessage, name: string): string | undefined {
  const v = req.headers[name];
  return Array.isArray(v) ? v[0] : v;
}

function parseKey(req: http.IncomingMessage): string | undefined {
  const auth = header(req, 'authorization');
  if (!auth) return undefined;
  if (auth.startsWith('Bearer ')) return auth.slice(7).trim();
  if (auth.startsWith('Basic ')) return Buffer.from(auth.slice(6), 'base64').toString('utf8').split(':')[0];
  return auth.trim();
}

/** Resolves the API key to accounts, refusing live keys loudly: the emulator is test-only. */
function authenticate(emu: Emulator, key: string | undefined, mode: 'secret' | 'publishable'): { platform: AccountState; kind: 'secret' | 'publishable' } {
  if (!key) {
    throw authenticationError(
      'You did not provide an API key. You need to provide your API key in the Authorization header, using Bearer auth (e.g. \'Authorization: Bearer YOUR_SECRET_KEY\').',
    );
  }
  if (/^(sk|rk|pk)_live_/.test(key)) {
    throw new ApiError(401, 'invalid_request_error', 'This is the Kassa Stripe emulator, for development and tests only: it refuses live-mode keys. Use an sk_test_ key (any sk_test_ value is its own account).', {
      code: 'livemode_mismatch',
    });
  }
  if (key.startsWith('sk_test_') || key.startsWith('rk_test_')) return { platform: emu.platformForKey(key), kind: 'secret' };
  const known = emu.keys.get(key);
  if (known && !key.startsWith('pk_')) return { platform: emu.accounts.get(known) as AccountState, kind: 'secret' }; // OAuth access token
  if (key.startsWith('pk_test_')) {
    if (mode === 'secret') {
      throw new ApiError(401, 'invalid_request_error', 'This API call cannot be made with a publishable API key. Please use a secret API key. You can find a list of your API keys at https://dashboard.stripe.com/account/apikeys.', {
        code: 'secret_key_required',
      });
    }
    // The publishable key of sk_test_X is pk_test_X; using it first creates the same account.
    const id = emu.keys.get(key) ?? emu.platformForKey(`sk_test_${key.slice('pk_test_'.length)}`).id;
    return { platform: emu.accounts.get(id) as AccountState, kind: 'publishable' };
  }
  throw authenticationError(`Invalid API Key provided: ${key.slice(0, 12)}${'*'.repeat(Math.max(0, key.length - 12))}`);
}

function pickFault(emu: Emulator, method: string, path: string): Fault | undefined {
  if (emu.faults.length === 0) return undefined;
  for (const f of emu.faults) {
    if (f.path && !path.startsWith(f.path)) continue;
    if (f.method && f.method !== method) continue;
    if (f.remaining !== null && f.remaining <= 0) continue;
    if (f.rate < 1 && emu.random.next() >= f.rate) continue;
    if (f.remaining !== null) f.remaining--;
    return f;
  }
  return undefined;
}

function faultResponse(f: Fault): ApiError {
  const headers: Record<string, string> = f.shouldRetry === undefined ? {} : { 'Stripe-Should-Retry': String(f.shouldRetry) };
  switch (f.kind) {
    case 'rate_limit_429':
      return new ApiError(429, 'invalid_request_error', 'Too many requests hit the API too quickly. We recommend an exponential backoff of your requests.', { code: 'rate_limit' }, headers);
    case 'lock_timeout_429':
      return new ApiError(429, 'invalid_request_error', 'This object cannot be accessed right now because another API request or Stripe process is currently accessing it.', { code: 'lock_timeout' }, headers);
    case 'conflict_409':
      return new ApiError(409, 'invalid_request_error', 'There is currently another in-progress request using this Idempotent Key.', { code: 'idempotency_key_in_use' }, headers);
    default:
      return new ApiError(500, 'api_error', 'An unknown error occurred (injected by the emulator).', {}, headers);
  }
}

function handle(emu: Emulator, router: Router, req: http.IncomingMessage, res: http.ServerResponse, rawBody: string): void {
  const method = req.method ?? 'GET';
  // Split by hand: `new URL` is a measurable share of a request on the hot path.
  const rawUrl = req.url ?? '/';
  const q = rawUrl.indexOf('?');
  const path = q === -1 ? rawUrl : rawUrl.slice(0, q);
  const search = q === -1 ? '' : rawUrl.slice(q + 1);
  const requestId = emu.ids.id('req_', 14);
  // CORS headers only matter to browsers, which always send Origin on cross-origin calls.
  const baseHeaders: Record<string, string> = req.headers.origin ? { ...CORS, 'Request-Id': requestId } : { 'Request-Id': requestId };
  if (method === 'OPTIONS') {
    res.writeHead(204, { ...CORS, 'X-Kassa-Emulator': EMULATOR_HEADER });
    res.end();
    return;
  }
  const fail = (err: ApiError): void => {
    send(res, err.status, err.body(), { ...baseHeaders, ...err.headers });
  };
  const matched = router.match(method, path);
  if (!matched || 'allowed' in matched) {
    fail(new ApiError(404, 'invalid_request_error', `Unrecognized request URL (${method}: ${path}). This is the Kassa Stripe emulator; see docs/stripe-emulator.md for the supported endpoints.`));
    return;
  }
  const { route, args } = matched;

  let params: FormObject;
  try {
    const contentType = header(req, 'content-type') ?? '';
    const query = search ? decodeForm(search) : {};
    const body = rawBody && contentType.includes('json') ? (JSON.parse(rawBody) as FormObject) : decodeForm(rawBody);
    params = { ...query, ...body };
  } catch (err) {
    const param = err instanceof FormDecodeError ? err.param : undefined;
    fail(invalidRequest(`Invalid request: could not parse the request body or query${param ? ` (${param})` : ''}.`, { param }));
    return;
  }

  let ctx: Ctx;
  try {
    const apiVersion = header(req, 'stripe-version') ?? emu.options.defaultApiVersion;
    if (!API_VERSION_RE.test(apiVersion)) throw invalidRequest(`Invalid Stripe API version: ${apiVersion}`, { param: 'Stripe-Version' });
    if (!isKnownApiVersion(emu, apiVersion)) {
      throw invalidRequest(`Invalid Stripe API version: ${apiVersion}. This version does not exist (the newest the emulator knows is ${PINNED_API_VERSION}).`, { param: 'Stripe-Version', code: 'api_version_invalid' });
    }
    baseHeaders['Stripe-Version'] = apiVersion;
    let platform: AccountState;
    let kind: Ctx['keyKind'] = 'none';
    if (route.auth === 'none') {
      platform = undefined as unknown as AccountState; // key-less routes look accounts up themselves
    } else {
      const auth = authenticate(emu, parseKey(req), route.auth);
      platform = auth.platform;
      kind = auth.kind;
    }
    let account = platform;
    const stripeAccount = header(req, 'stripe-account');
    if (stripeAccount && route.auth !== 'none') {
      const target = emu.account(stripeAccount);
      const allowed = target && (target.id === platform.id || target.platformId === platform.id);
      if (!allowed || !target) {
        throw permissionError(
          `The provided key does not have access to account '${stripeAccount}' (or that account does not exist). Application access may have been revoked.`,
          'account_invalid',
        );
      }
      account = target;
    }
    const idempotencyKey = method === 'POST' ? (header(req, 'idempotency-key') ?? null) : null;
    ctx = { emu, method, path, query: new URLSearchParams(search), params, account, platform, keyKind: kind, apiVersion, requestId, idempotencyKey, headers: req.headers };
  } catch (err) {
    if (err instanceof ApiError) return fail(err);
    throw err;
  }

  // The rate limiter and faults act after authentication and before the idempotency layer, as Stripe's rate limiter does.
  const api = route.auth !== 'none' && !path.startsWith('/_emulator');
  if (api) {
    emu.stats.request(ctx.account.id);
    res.on('finish', () => emu.stats.response(res.statusCode));
    if (!emu.rateLimiter.take(ctx.account.id)) {
      emu.stats.limited(ctx.account.id);
      return fail(emu.rateLimiter.error());
    }
  }
  const fault = path.startsWith('/_emulator') ? undefined : pickFault(emu, method, path);
  if (fault) emu.stats.fault(fault.kind);
  if (fault && fault.kind === 'timeout') {
    // Never answer: the client's own timeout fires. The socket is destroyed on close/reset.
    return;
  }
  if (fault && fault.kind !== 'drop_after_commit' && fault.kind !== 'timeout_after_commit' && fault.kind !== 'slow') return fail(faultResponse(fault));

  let slot: string | null = null;
  const store = ctx.platform?.idempotency;
  const scope = `${ctx.account?.id ?? ''}`;
  if (ctx.idempotencyKey && store) {
    try {
      const decision = begin(store, scope, ctx.idempotencyKey, fingerprint(method, path, params));
      if (decision.kind === 'replay') {
        emu.stats.replays++;
        // A replay can be lost on the way back as well.
        if (fault?.kind === 'timeout_after_commit') return;
        if (fault?.kind === 'drop_after_commit') {
          req.socket.destroy();
          return;
        }
        const replayHeaders: Record<string, string> = { ...decision.response.headers, 'Request-Id': requestId };
        if (emu.options.idempotentReplayedHeader) replayHeaders['Idempotent-Replayed'] = 'true';
        send(res, decision.response.status, decision.response.body, req.headers.origin ? { ...CORS, ...replayHeaders } : replayHeaders);
        return;
      }
      slot = decision.slot;
    } catch (err) {
      if (err instanceof ApiError) return fail(err);
      throw err;
    }
  }

  const run = (): void => execute(emu, req, res, ctx, route.handler, args, route.auth !== 'none', fault, slot, baseHeaders);
  if (fault?.kind === 'slow') setTimeout(run, fault.delayMs ?? 100);
  else run();
}

function execute(
  emu: Emulator,
  req: http.IncomingMessage,
  res: http.ServerResponse,
  ctx: Ctx,
  handler: (ctx: Ctx, args: string[]) => unknown,
  args: string[],
  authenticated: boolean,
  fault: Fault | undefined,
  slot: string | null,
  baseHeaders: Record<string, string>,
): void {
  const store = ctx.platform?.idempotency;
  const settle = (stored: StoredResponse | null): void => {
    if (slot && store) finish(store, slot, stored);
  };
  const respondError = (err: unknown): void => {
    const apiErr = err instanceof ApiError ? err : new ApiError(500, 'api_error', `Emulator failure: ${(err as Error).message}`);
    if (!(err instanceof ApiError)) emu.errors.push((err as Error).stack ?? String(err));
    const headers = { ...baseHeaders, ...apiErr.headers };
    const code = apiErr.fields.code as string | undefined;
    const notStored = apiErr.status === 401 || apiErr.status === 429 || (code !== undefined && NOT_STORED_CODES.has(code));
    if (fault?.kind === 'timeout_after_commit' || fault?.kind === 'drop_after_commit') {
      // The error is stored like any answer; the client just never hears it.
      settle(notStored ? null : { status: apiErr.status, body: JSON.stringify(apiErr.body()), headers });
      if (fault.kind === 'drop_after_commit') req.socket.destroy();
      return;
    }
    const text = send(res, apiErr.status, apiErr.body(), headers);
    settle(notStored ? null : { status: apiErr.status, body: text, headers });
  };
  const respond = (result: unknown): void => {
    if (result instanceof RawResponse) {
      res.writeHead(result.status, { 'X-Kassa-Emulator': EMULATOR_HEADER, ...CORS, ...result.headers, 'Content-Length': String(Buffer.byteLength(result.body)) });
      res.end(result.body);
      settle(null);
      return;
    }
    const expand = expandPaths(ctx.params.expand);
    const out = expand.length && authenticated ? expandResponse(ctx.account, result, expand) : result;
    const headers = { ...baseHeaders };
    if (ctx.idempotencyKey) headers['Idempotency-Key'] = ctx.idempotencyKey;
    const text = JSON.stringify(out);
    const stored = { status: 200, body: text, headers };
    if (fault?.kind === 'drop_after_commit') {
      // The work is committed and stored; the client never hears back and retries with the same key.
      settle(stored);
      req.socket.destroy();
      return;
    }
    if (fault?.kind === 'timeout_after_commit') {
      // Committed and stored, then silence until the client's own timeout: did it happen or not?
      settle(stored);
      return;
    }
    send(res, 200, text, headers);
    settle(stored);
  };
  let result: unknown;
  emu.current = { id: ctx.requestId, idempotencyKey: ctx.idempotencyKey, apiVersion: ctx.apiVersion };
  try {
    result = handler(ctx, args);
  } catch (err) {
    respondError(err);
    return;
  } finally {
    emu.current = null;
  }
  if (result instanceof Promise) {
    result.then(
      (v) => {
        try {
          respond(v);
        } catch (err) {
          respondError(err);
        }
      },
      respondError,
    );
    return;
  }
  try {
    respond(result);
  } catch (err) {
    respondError(err);
  }
}
