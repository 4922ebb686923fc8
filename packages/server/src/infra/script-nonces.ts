/**
 * The CSP nonce lets a script run whatever its URL. Templates put it only on inline scripts
 * (external ones run because their origin is in the CSP's host list); this is the runtime guard
 * for every HTML answer, plugin pages included: a `<script src>` whose origin is neither ours nor
 * in the host list loses its nonce, so the CSP blocks it instead of vouching for it.
 */
export function withoutForeignScriptNonces(html: string, allowedOrigins: ReadonlySet<string>, baseUrl: string): string {
  if (!html.includes('nonce')) return html;
  return html.replace(/<script\b[^>]*>/gi, (tag) => {
    const src = /\ssrc\s*=\s*(?:"([^"]*)"|'([^']*)'|([^\s>]+))/i.exec(tag);
    if (!src || !/\snonce\s*=/i.test(tag)) return tag;
    let origin: string;
    try {
      origin = new URL(decodeEntities(src[1] ?? src[2] ?? src[3] ?? ''), baseUrl).origin;
    } catch {
      origin = 'null';
    }
    return allowedOrigins.has(origin) ? tag : tag.replace(/\snonce\s*=\s*(?:"[^"]*"|'[^']*'|[^\s>]+)/gi, '');
  });
}

/** The origins a `<script src>` may come from: ours and the http(s) hosts of the CSP's script-src. */
export function scriptOrigins(baseUrl: string, scriptSrc: readonly string[]): Set<string> {
  const origins = new Set([new URL(baseUrl).origin]);
  for (const source of scriptSrc) {
    try {
      if (/^https?:\/\//i.test(source)) origins.add(new URL(source).origin);
    } catch {
      // A keyword or a host pattern: not an origin a script tag can be checked against.
    }
  }
  return origins;
}

function decodeEntities(value: string): string {
  return value.replace(/&amp;/g, '&').replace(/&#x2F;|&#47;/gi, '/').replace(/&quot;/g, '"').replace(/&#39;/g, "'").replace(/&lt;/g, '<').replace(/&gt;/g, '>');
}
