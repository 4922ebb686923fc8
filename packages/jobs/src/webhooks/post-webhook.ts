import { request as httpRequest, type IncomingMessage } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { guardedLookup, isPrivateAddress } from '@kassa/core/host';
import { isIP } from 'node:net';

/** What one POST to an organizer's endpoint came to. `status` is null when no answer arrived. */
export interface WebhookPostResult {
  status: number | null;
  /** The first bytes of the answer, for the delivery log. */
  body: string | null;
  error: string | null;
}

export interface WebhookPostOptions {
  allowPrivateAddresses: boolean;
  timeoutMs: number;
  headers: Record<string, string>;
}

const maxResponseBytes = 4096;

/**
 * POSTs a JSON body to an organizer's URL. Never throws: every outcome is a value for the log.
 * Redirects are not followed (a 3xx is a failed attempt: the organizer fixes the URL), and the
 * connection goes only to an address the SSRF guard accepted (a literal one is checked here,
 * names through the guarded DNS lookup).
 */
export function postWebhook(url: string, body: string, opts: WebhookPostOptions): Promise<WebhookPostResult> {
  return new Promise((resolve) => {
    let target: URL;
    try {
      target = new URL(url);
    } catch {
      return resolve({ status: null, body: null, error: 'the URL is not valid' });
    }
    const host = target.hostname.replace(/^\[|\]$/g, '');
    if (!opts.allowPrivateAddresses && isIP(host) !== 0 && isPrivateAddress(host)) {
      return resolve({ status: null, body: null, error: `refused: ${host} is a private, loopback or link-local address` });
    }
    const send = target.protocol === 'https:' ? httpsRequest : httpRequest;
    let settled = false;
    const done = (r: WebhookPostResult) => {
      if (!settled) {
        settled = true;
        resolve(r);
      }
    };
    const req = send(target, {
      method: 'POST',
      lookup: guardedLookup(opts.allowPrivateAddresses) as never,
      timeout: opts.timeoutMs,
      headers: { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body), 'user-agent': 'Kassa-Webhooks/1', ...opts.headers },
    }, (res: IncomingMessage) => {
      const chunks: Buffer[] = [];
      let size = 0;
      res.on('data', (c: Buffer) => {
        if (size < maxResponseBytes) chunks.push(c.subarray(0, maxResponseBytes - size));
        size += c.length;
      });
      res.on('end', () => done({ status: res.statusCode ?? null, body: Buffer.concat(chunks).toString('utf8'), error: null }));
      res.on('error', (err) => done({ status: res.statusCode ?? null, body: Buffer.concat(chunks).toString('utf8'), error: err.message }));
    });
    req.on('timeout', () => req.destroy(new Error(`no answer within ${opts.timeoutMs} ms`)));
    req.on('error', (err) => done({ status: null, body: null, error: err.message }));
    req.end(body);
  });
}
