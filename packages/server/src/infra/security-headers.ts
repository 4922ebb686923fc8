import { randomBytes } from 'node:crypto';

/** One CSP directive: its name (kebab-case) and its source list (empty for a bare directive). */
export type CspDirective = readonly [name: string, sources: readonly string[]];

/** The nonces of one response: `'nonce-…'` sources of script-src and style-src. */
export interface CspNonces {
  readonly script: string;
  readonly style: string;
}

// Keywords a source list must quote: unquoted, they would name a host.
const mustBeQuoted = new Set(['none', 'self', 'strict-dynamic', 'report-sample', 'unsafe-inline', 'unsafe-eval', 'unsafe-hashes', 'wasm-unsafe-eval']);

/**
 * The security headers of every site response (the set helmet sends, with our CSP), rendered once
 * at boot instead of per response: the headers do not depend on the request, and only the CSP of a
 * page that asks for a nonce changes per response (`withNonces`). A source that would break out of
 * its directive (`;`, `,`) or smuggle in a second one (whitespace), or a keyword left unquoted, fails
 * at boot.
 */
export class SecurityHeaders {
  /** Every header, the CSP without nonces: what a response whose page takes no nonce sends. */
  readonly headers: Readonly<Record<string, string>>;
  private readonly directives: readonly CspDirective[];

  constructor(directives: readonly CspDirective[], opts: { hsts: boolean }) {
    for (const [name, sources] of directives) {
      if (!/^[a-z][a-z-]*$/.test(name)) throw new Error(`Content-Security-Policy: invalid directive name ${JSON.stringify(name)}`);
      for (const source of sources) {
        if (/[;,\s]/.test(source) || source === '' || mustBeQuoted.has(source) || /^(nonce|sha256|sha384|sha512)-/.test(source)) {
          throw new Error(`Content-Security-Policy: invalid source ${JSON.stringify(source)} in ${name}`);
        }
      }
    }
    if (!directives.some(([name]) => name === 'default-src')) throw new Error('Content-Security-Policy needs a default-src');
    this.directives = directives;
    this.headers = Object.freeze({
      'content-security-policy': render(directives),
      'cross-origin-opener-policy': 'same-origin',
      'cross-origin-resource-policy': 'same-origin',
      'origin-agent-cluster': '?1',
      'referrer-policy': 'no-referrer',
      ...(opts.hsts ? { 'strict-transport-security': 'max-age=31536000; includeSubDomains' } : {}),
      'x-content-type-options': 'nosniff',
      'x-dns-prefetch-control': 'off',
      'x-download-options': 'noopen',
      'x-frame-options': 'SAMEORIGIN',
      'x-permitted-cross-domain-policies': 'none',
      'x-xss-protection': '0',
    });
  }

  /** The CSP with the response's nonces added to script-src and style-src. */
  withNonces(nonces: CspNonces): string {
    return render(this.directives.map(([name, sources]): CspDirective => {
      if (name === 'script-src') return [name, [...sources, `'nonce-${nonces.script}'`]];
      if (name === 'style-src') return [name, [...sources, `'nonce-${nonces.style}'`]];
      return [name, sources];
    }));
  }
}

/** Two fresh nonces (128 random bits each, hex). */
export function newNonces(): CspNonces {
  const bytes = randomBytes(32);
  return { script: bytes.toString('hex', 0, 16), style: bytes.toString('hex', 16, 32) };
}

function render(directives: readonly CspDirective[]): string {
  return directives.map(([name, sources]) => (sources.length ? `${name} ${sources.join(' ')}` : name)).join(';');
}
