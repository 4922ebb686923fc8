import type { FastifyInstance, LightMyRequestResponse } from 'fastify';

/**
 * A buyer's browser over app.inject(): keeps cookies, sends forms url-encoded and asks for HTML,
 * and reads the CSRF and idempotency tokens out of the last page, as a browser would submit them.
 */
export class Buyer {
  private readonly cookies = new Map<string, string>();
  lastPage = '';
  /** The CSRF token of the last page that had one (the token stays valid for the session). */
  private csrf: string | undefined;

  constructor(private readonly app: FastifyInstance) {}

  async get(url: string): Promise<LightMyRequestResponse> {
    const res = await this.app.inject({ method: 'GET', url, headers: this.headers() });
    this.keep(res);
    return res;
  }

  /** Posts a form; `_csrf` is taken from the last page unless given. */
  async post(url: string, form: Record<string, string | number>, opts: { json?: boolean } = {}): Promise<LightMyRequestResponse> {
    const body = new URLSearchParams();
    const csrf = this.field('_csrf') ?? this.csrf;
    if (csrf && !('_csrf' in form)) body.set('_csrf', csrf);
    for (const [k, v] of Object.entries(form)) body.set(k, String(v));
    const headers: Record<string, string> = { ...this.headers(), 'content-type': 'application/x-www-form-urlencoded' };
    if (opts.json) headers.accept = 'application/json';
    const res = await this.app.inject({ method: 'POST', url, payload: body.toString(), headers });
    this.keep(res);
    return res;
  }

  /** GETs the Location of a redirect, and of any redirect after it (at most five hops). */
  async follow(res: LightMyRequestResponse): Promise<LightMyRequestResponse> {
    let current = res;
    for (let hop = 0; hop < 5; hop++) {
      const location = current.headers.location;
      if (typeof location !== 'string') {
        if (hop === 0) throw new Error(`not a redirect: ${current.statusCode} ${current.body.slice(0, 300)}`);
        return current;
      }
      current = await this.get(location);
    }
    throw new Error('too many redirects');
  }

  /** A hidden or text field's value on the last page. */
  /** A cookie's current value (e.g. the signed session cookie). */
  cookie(name: string): string | undefined {
    return this.cookies.get(name);
  }

  field(name: string): string | undefined {
    const m = new RegExp(`name="${name}"[^>]*value="([^"]*)"`).exec(this.lastPage);
    return m?.[1];
  }

  private headers(): Record<string, string> {
    const cookie = [...this.cookies].map(([k, v]) => `${k}=${v}`).join('; ');
    return { accept: 'text/html', ...(cookie ? { cookie } : {}) };
  }

  private keep(res: LightMyRequestResponse): void {
    for (const c of res.cookies) this.cookies.set(c.name, c.value);
    if (String(res.headers['content-type'] ?? '').includes('text/html')) {
      this.lastPage = res.body;
      this.csrf = this.field('_csrf') ?? this.csrf;
    }
  }
}
