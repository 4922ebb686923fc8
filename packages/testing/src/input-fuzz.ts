/*
 * The engine of the malformed-input fuzz tests (the server's, over its own routes, and the
 * distribution's, over every route of the bundled plugins too): seeded, bounded requests that
 * reach validation (logged in, with valid CSRF tokens and mostly valid ids), checked for 5xx
 * answers and for state changed by requests that were all refused. Fastify-free: the caller hands
 * in `inject` and the route list (from fastify's own route tree, see `routesOfTree`).
 */

/** One route as fastify prints it: method and path with `:param` segments. */
export interface FuzzRoute {
  readonly method: string;
  readonly path: string;
}

/** One request, in light-my-request's shape (what `app.inject` takes). */
export interface FuzzRequest {
  method: string;
  url: string;
  headers: Record<string, string>;
  payload?: string;
  remoteAddress?: string;
}

/** The parts of an answer the fuzz looks at. */
export interface FuzzAnswer {
  readonly statusCode: number;
  readonly body: string;
  readonly headers: Record<string, unknown>;
}

/** Who asks: the cookie or bearer header, and the CSRF token to send (null: none). */
export interface FuzzIdentity {
  headers: Record<string, string>;
  csrf: string | null;
}

export interface InputFuzzOptions {
  readonly seed: number;
  /** How many requests in all; each route gets requests / routes of them, give or take one. */
  readonly requests: number;
  readonly routes: readonly FuzzRoute[];
  /** Real values per path parameter name; a parameter is given one 80 % of the time, nasty text otherwise. */
  readonly valid: Readonly<Record<string, readonly string[]>>;
  /** Real values for one route's parameter instead of `valid`'s (undefined: `valid`'s). */
  readonly validFor?: (route: FuzzRoute, param: string) => readonly string[] | undefined;
  /** Who asks: the cookie or bearer header and the CSRF token to send (null: none), per route. */
  readonly identity: (route: FuzzRoute) => FuzzIdentity;
  /** Extra form fields a route's forms need to get anywhere (e.g. the cart's quantity field). */
  readonly extraForm?: (route: FuzzRoute, form: URLSearchParams, nasty: () => string) => void;
  /** A different client address per request, so per-address rate limits do not turn the fuzz away at the door. */
  readonly remoteAddress?: () => string;
  readonly inject: (req: FuzzRequest) => Promise<FuzzAnswer>;
  /** A digest of the state that refused requests must not change. */
  readonly state: () => Promise<string>;
  /** Called after each batch with its requests and answers (e.g. to log in again after a fuzzed logout). */
  readonly afterBatch?: (done: readonly { route: FuzzRoute; statusCode: number }[]) => Promise<void>;
  readonly batchSize?: number;
}

export interface InputFuzzReport {
  /** "<method> <url> <payload> → <status> <body>" of every 5xx answer. */
  readonly serverErrors: string[];
  /** The requests of each batch that was refused entirely and still changed the state. */
  readonly changedOnRefusal: string[];
  readonly statuses: ReadonlyMap<number, number>;
  /** Batches whose requests were all refused (or GETs), i.e. whose state was compared. */
  readonly checkedBatches: number;
  /** "<method> <path>" of routes that answered without `no-store` in Cache-Control → the first such answer (status, request). */
  readonly storable: ReadonlyMap<string, string>;
  /** Routes that were fuzzed at least once. */
  readonly covered: ReadonlySet<string>;
}

/** mulberry32: small, fast, and good enough to spread requests over routes and values. */
export function prng(a: number): () => number {
  return () => {
    a = (a + 0x6d2b79f5) | 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/**
 * Every route of an app, read from fastify's `printRoutes({ commonPrefix: false })` (so a route
 * added later is fuzzed without editing a test). Each line is `<indent>├── <segment> (<methods>)`;
 * a node's path is its parent's plus its segment. HEAD is left out (GET covers it).
 */
export function routesOfTree(tree: string): FuzzRoute[] {
  const routes: FuzzRoute[] = [];
  const stack: string[] = [];
  for (const line of tree.split('\n')) {
    const m = /^((?:[│ ] {3})*)[└├]── (.+?)(?: \(([A-Z, ]+)\))?$/.exec(line);
    if (!m) continue;
    const depth = m[1]!.length / 4;
    stack.length = depth;
    const path = (stack[depth - 1] ?? '') + m[2]!;
    stack[depth] = path;
    for (const method of (m[3] ?? '').split(', ').filter(Boolean)) if (method !== 'HEAD') routes.push({ method, path });
  }
  return routes;
}

/** Text that breaks storage or arithmetic, and text that merely looks odd (which must work or be refused cleanly). */
export const nastyText: readonly string[] = [
  '\u0000', 'a\u0000b', 'Infinity', '-Infinity', '1e400', '-1e400', 'NaN', '1e308', '9007199254740993', '99999999999999999999',
  '2147483648', '-1', '0', '', ' ', '1.5', '0x10', 'true', 'null', '[]', '{}', '%00', '\ud800', '💳', '<script>x</script>',
  "' OR 1=1 --", '../../etc/passwd', 'x'.repeat(5000), 'EUR', 'manual', '00000000-0000-0000-0000-000000000000',
  'https://attacker.example/x.js', 'http://127.0.0.1:6379/', 'acct_1Attacker', '2030-02-30', '2030-01-01T00:00:00Z',
];

/** JSON values spelled as JSON text: 1e400 only exists as text (JSON.parse makes it Infinity). */
export const nastyJson: readonly string[] = [
  '1e400', '-1e400', '1e308', '9007199254740993', '2147483648', '-1', '0', '1.5', '-0', 'true', 'false', 'null', '[]', '{}',
  '"\\u0000"', '"a\\u0000b"', '"\\ud800"', '"Infinity"', '"1e400"', '""', '[1e400]', '{"\\u0000":1}', '[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[1]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]',
  '"x"', '"manual"', '2500', '["\\u0000"]', '"https://attacker.example/hook"', '"http://169.254.169.254/"',
];

/** Field names the app's forms and API bodies use, so payloads hit real schema properties. */
export const fuzzFieldNames: readonly string[] = [
  'name', 'slug', 'email', 'password', 'next', 'amount', 'price', 'size', 'count', 'quantity', 'comment', 'force', 'manual', 'action',
  'paymentId', 'provider', 'token', 'currency', 'locale', 'paymentTermDays', 'productIds', 'live', 'active', 'status', 'q', 'page',
  'pageSize', 'publicName', 'pendingInstructions', '_enabled', 'feeAbs', 'feePercent', 'cancellationFee', 'autoRefund', 'message',
  'expires', 'testmode', 'eventId', 'overpaid', 'pendingRefund', 'externalRefund', 'source', 'state', 'code', '\u0000',
  // Added since: teams, webhooks, exports, plans, bank transfer, Connect, wallets.
  'url', 'eventTypes', 'events', 'enabled', 'format', 'from', 'to', 'until', 'instalments', 'installments', 'deposit', 'iban', 'bic',
  'accountHolder', 'reference', 'orderCode', 'mapping', 'delimiter', 'domain', 'domains', 'walletDomains', 'stripeJsUrl', 'apiBase',
  'secretKey', 'publishableKey', 'chargeModel', 'country', 'permissions', 'canChangeOrders', 'allEvents', 'limitEvents', 'phone',
  'dob', 'first_name', 'last_name', 'line1', 'postal_code', 'account_number', 'routing_number', 'file', 'organizerId', 'isOperator',
];

/** Percent-encoding; a lone surrogate has no UTF-8 form, so it is sent as the invalid bytes a hostile client would send. */
export function encodePart(s: string): string {
  try {
    return encodeURIComponent(s);
  } catch {
    return '%ED%A0%80';
  }
}

/**
 * Sends `requests` malformed requests, spread evenly over the routes, in small concurrent batches
 * (a real server sees concurrent requests). A batch whose every form or API call (anything but
 * GET) was refused must leave the state as it was (a GET never changes it); a batch with an
 * accepted post may change it.
 */
export async function runInputFuzz(o: InputFuzzOptions): Promise<InputFuzzReport> {
  const random = prng(o.seed);
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(random() * xs.length)]!;
  const batchSize = o.batchSize ?? 10;
  // Routes are taken in rounds, each round in a new seeded order: every route gets its share of the
  // requests (requests / routes, give or take one), where picking at random would leave some with
  // a few and miss others unless far more requests were sent.
  let round: FuzzRoute[] = [];
  const nextRoute = (): FuzzRoute => {
    if (round.length === 0) {
      round = [...o.routes];
      for (let i = round.length - 1; i > 0; i--) {
        const j = Math.floor(random() * (i + 1));
        [round[i], round[j]] = [round[j]!, round[i]!];
      }
    }
    return round.pop()!;
  };

  const next = () => {
    const route = nextRoute();
    const api = route.path.startsWith('/api/') || /^\/plugins\/[^/]+\/api\//.test(route.path);
    const url = route.path.replace(/:([A-Za-z]+)/g, (_m, name: string) => {
      const real = o.validFor?.(route, name) ?? o.valid[name];
      return encodePart(random() < 0.8 && real?.length ? pick(real) : pick(nastyText));
    });
    const query = new URLSearchParams();
    if (random() < 0.5) for (let k = 0; k < 1 + Math.floor(random() * 3); k++) query.append(pick(fuzzFieldNames), pick(nastyText));

    const who = o.identity(route);
    const headers: Record<string, string> = { accept: random() < 0.5 ? 'text/html' : 'application/json', ...who.headers };
    let payload: string | undefined;
    if (route.method !== 'GET') {
      const fields = Array.from({ length: Math.floor(random() * 4) }, () => pick(fuzzFieldNames));
      if (api || random() < 0.25) {
        // JSON, written as text so that 1e400 and "\u0000" arrive exactly as a hostile client sends them.
        const parts = fields.map((k) => `${JSON.stringify(k)}:${pick(nastyJson)}`);
        if (who.csrf) parts.push(`"_csrf":${JSON.stringify(who.csrf)}`);
        payload = random() < 0.05 ? pick(nastyJson) : `{${parts.join(',')}}`;
        headers['content-type'] = 'application/json';
      } else {
        const form = new URLSearchParams();
        for (const k of fields) form.append(k, pick(nastyText));
        o.extraForm?.(route, form, () => pick(nastyText));
        if (who.csrf && random() < 0.95) form.set('_csrf', who.csrf);
        payload = form.toString();
        headers['content-type'] = 'application/x-www-form-urlencoded';
      }
    }
    const fullUrl = query.size ? `${url}?${query}` : url;
    const req: FuzzRequest = { method: route.method, url: fullUrl, headers, ...(payload !== undefined ? { payload } : {}), ...(o.remoteAddress ? { remoteAddress: o.remoteAddress() } : {}) };
    return { route, what: `${route.method} ${fullUrl.slice(0, 200)} ${JSON.stringify(payload?.slice(0, 300))}`, req };
  };

  let before = await o.state();
  const serverErrors: string[] = [];
  const changedOnRefusal: string[] = [];
  const statuses = new Map<number, number>();
  const storable = new Map<string, string>();
  const covered = new Set<string>();
  let checkedBatches = 0;
  for (let done = 0; done < o.requests; done += batchSize) {
    const batch = Array.from({ length: Math.min(batchSize, o.requests - done) }, next);
    const answers = await Promise.all(batch.map((r) => o.inject(r.req)));
    for (const [k, res] of answers.entries()) {
      const key = `${batch[k]!.route.method} ${batch[k]!.route.path}`;
      covered.add(key);
      statuses.set(res.statusCode, (statuses.get(res.statusCode) ?? 0) + 1);
      if (res.statusCode >= 500) serverErrors.push(`${batch[k]!.what} → ${res.statusCode} ${res.body.slice(0, 300)}`);
      const cacheControl = String(res.headers['cache-control'] ?? '');
      if (!cacheControl.includes('no-store') && !storable.has(key)) storable.set(key, `${res.statusCode} "${cacheControl}" ${batch[k]!.what}`);
    }
    const after = await o.state();
    if (answers.every((res, k) => batch[k]!.route.method === 'GET' || res.statusCode >= 400)) {
      checkedBatches++;
      if (after !== before) changedOnRefusal.push(batch.map((r, k) => `${r.what} → ${answers[k]!.statusCode}`).join('\n'));
    }
    before = after;
    await o.afterBatch?.(batch.map((r, k) => ({ route: r.route, statusCode: answers[k]!.statusCode })));
  }
  return { serverErrors, changedOnRefusal, statuses, checkedBatches, storable, covered };
}

/**
 * One digest of the given tables' rows, as SQL (md5 of every row's text, in order). `rowText`
 * may leave out columns that legitimately change on any request (e.g. a token's last use).
 */
export function stateDigestSql(tables: readonly string[], rowText: (table: string) => string = () => 'x::text'): string {
  return `SELECT md5(${tables.map((t) => `coalesce((SELECT string_agg(${rowText(t)}, '|' ORDER BY ${rowText(t)}) FROM ${t} x), '')`).join(' || ')}) AS digest`;
}
