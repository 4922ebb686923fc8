import type { Emulator } from './emulator';
import type { FormObject } from './form-decode';
import type { AccountState } from './store';

/** Who may call a route: a secret key, a publishable key too (browser endpoints), or anyone. */
export type AuthMode = 'secret' | 'publishable' | 'none';

export interface Ctx {
  emu: Emulator;
  method: string;
  path: string;
  query: URLSearchParams;
  params: FormObject;
  /** The account acted on: the key's account, or the Stripe-Account connected account. */
  account: AccountState;
  /** The account the key belongs to (platform for Connect calls). */
  platform: AccountState;
  keyKind: 'secret' | 'publishable' | 'none';
  apiVersion: string;
  requestId: string;
  idempotencyKey: string | null;
  headers: Record<string, string | string[] | undefined>;
}

/** A non-JSON or non-200 result (HTML pages, redirects, JS). */
export class RawResponse {
  constructor(
    readonly status: number,
    readonly headers: Record<string, string>,
    readonly body: string,
  ) {}

  static html(body: string, status = 200): RawResponse {
    return new RawResponse(status, { 'Content-Type': 'text/html; charset=utf-8' }, body);
  }

  static redirect(location: string): RawResponse {
    return new RawResponse(302, { Location: location }, '');
  }
}

export type Handler = (ctx: Ctx, args: string[]) => unknown;

interface Route {
  method: string;
  pattern: RegExp;
  handler: Handler;
  auth: AuthMode;
}

/** Routes are bucketed by their first two path segments (`/v1/payment_intents`), so a request only tries a few patterns. */
const bucketOf = (path: string): string => {
  const [, a = '', b = ''] = path.split('/', 3);
  return `${a}/${b}`;
};

export class Router {
  private readonly buckets = new Map<string, Route[]>();

  /** `path` uses `:name` segments, e.g. `/v1/payment_intents/:id/confirm`. */
  add(method: string, path: string, handler: Handler, auth: AuthMode = 'secret'): void {
    const pattern = new RegExp(`^${path.replace(/:[a-z_]+/g, '([^/]+)')}/?$`);
    const key = bucketOf(path);
    if (key.includes(':')) throw new Error(`route ${path}: the first two segments must be literal`);
    const list = this.buckets.get(key) ?? [];
    list.push({ method, pattern, handler, auth });
    this.buckets.set(key, list);
  }

  match(method: string, path: string): { route: Route; args: string[] } | { allowed: string[] } | null {
    const allowed: string[] = [];
    for (const route of this.buckets.get(bucketOf(path)) ?? []) {
      const m = route.pattern.exec(path);
      if (!m) continue;
      if (route.method === method) return { route, args: m.slice(1).map(decodeURIComponent) };
      allowed.push(route.method);
    }
    return allowed.length ? { allowed } : null;
  }
}
