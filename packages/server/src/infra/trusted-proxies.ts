import type { ServerConfig } from '../deps';

/**
 * Fastify's `trustProxy` from the operator's list (KASSA_TRUSTED_PROXIES, proxy-addr syntax:
 * addresses, CIDR ranges, `loopback`, `linklocal`, `uniquelocal`). Without a list no peer is
 * trusted: X-Forwarded-For/-Proto/-Host are ignored and req.ip is the TCP peer. Trusting whole
 * private ranges by default would let any machine on the same network (another tenant's container,
 * a compromised box) name any client address and so walk past the per-address login limit.
 */
export function trustProxyOption(config: Pick<ServerConfig, 'trustProxy'>): string | false {
  const list = (config.trustProxy ?? '').split(',').map((s) => s.trim()).filter(Boolean);
  return list.length > 0 ? list.join(', ') : false;
}

/**
 * What the operator should hear at start-up about the proxy set-up. An https BASE_URL makes the
 * session cookie Secure; Kassa itself serves plain HTTP, so it only knows a browser's connection was
 * HTTPS from the X-Forwarded-Proto of a trusted proxy. With no proxy trusted the cookie is never
 * set, and every login fails without any error to show for it.
 */
export function startupWarnings(config: Pick<ServerConfig, 'baseUrl' | 'trustProxy'>): string[] {
  const warnings: string[] = [];
  if (config.baseUrl.startsWith('https://') && trustProxyOption(config) === false) {
    warnings.push(
      `BASE_URL is ${config.baseUrl} (https) but KASSA_TRUSTED_PROXIES is not set: Kassa serves plain HTTP and trusts no proxy's `
      + 'X-Forwarded-Proto, so it cannot tell that browsers reach it over HTTPS, never sets the Secure session cookie, and every login '
      + 'fails. Set KASSA_TRUSTED_PROXIES to the address of the TLS-terminating proxy (e.g. 127.0.0.1 when it runs on this host), '
      + 'and make the proxy send X-Forwarded-Proto and X-Forwarded-For.',
    );
  }
  return warnings;
}
