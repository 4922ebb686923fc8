import { createHash } from 'node:crypto';
import type { FastifyInstance } from 'fastify';
import { KassaError, type DataSource } from '@kassa/core/host';
import type { AppDeps } from '../deps';
import { principalOf } from './principal';

/** How long an answer is kept for replay (pretix keeps them a day too). */
const lifetimeMs = 24 * 60 * 60 * 1000;
const keyPattern = /^[\x21-\x7e]{1,200}$/;
const changing = new Set(['POST', 'PATCH', 'DELETE']);

declare module 'fastify' {
  interface FastifyRequest {
    /** The idempotency key this request claimed; its answer is stored in onSend. */
    idempotencyClaim?: { tokenId: string; key: string };
  }
}

/**
 * pretix's X-Idempotency-Key for the REST API: a POST, PATCH or DELETE sent again with the same
 * key (a client retrying after a timeout) gets the first answer again, marked
 * `X-Idempotency-Replayed: true`, and changes nothing. Keys are per API token and kept a day. The
 * same key for a different request (method, path or body) is 422 API_IDEMPOTENCY_KEY_REUSED; a
 * retry while the first is still running is 409 API_IDEMPOTENCY_IN_PROGRESS. Answers 5xx are not
 * kept, so such a request may be retried with the same key. Requests refused by validation never
 * reach the handler and are not kept either (they change nothing).
 */
export function registerIdempotency(v1: FastifyInstance, deps: Pick<AppDeps, 'dataSource' | 'clock'>): void {
  const ds = deps.dataSource;
  v1.addHook('preHandler', async (req, reply) => {
    if (!changing.has(req.method)) return;
    const raw = req.headers['x-idempotency-key'];
    if (raw === undefined) return;
    const key = Array.isArray(raw) ? raw.join(',') : raw;
    if (!keyPattern.test(key)) {
      throw new KassaError('VALIDATION_FAILED', { field: 'X-Idempotency-Key', in: 'header', detail: 'X-Idempotency-Key must be 1 to 200 visible ASCII characters' });
    }
    const { tokenId } = principalOf(req);
    const fingerprint = createHash('sha256').update(`${req.method} ${req.url}\n${JSON.stringify(req.body ?? null)}`).digest('hex');
    const now = deps.clock.now();
    if (await claim(ds, tokenId, key, fingerprint, now)) {
      req.idempotencyClaim = { tokenId, key };
      return;
    }
    const rows: { fingerprint: string; status: number | null; body: string | null }[] = await ds.query(
      'SELECT fingerprint, status, body FROM api_idempotency_key WHERE token_id = $1 AND key = $2', [tokenId, key],
    );
    const row = rows[0];
    if (!row || row.status === null) throw new KassaError('API_IDEMPOTENCY_IN_PROGRESS', { key });
    if (row.fingerprint !== fingerprint) throw new KassaError('API_IDEMPOTENCY_KEY_REUSED', { key, was: 'another method, path or body' });
    reply.code(row.status).header('x-idempotency-replayed', 'true');
    if (row.body === null || row.body === '') return reply.send();
    return reply.type('application/json; charset=utf-8').send(row.body);
  });

  v1.addHook('onSend', async (req, reply, payload) => {
    const claimed = req.idempotencyClaim;
    if (!claimed) return payload;
    req.idempotencyClaim = undefined;
    if (reply.statusCode >= 500) {
      await ds.query('DELETE FROM api_idempotency_key WHERE token_id = $1 AND key = $2', [claimed.tokenId, claimed.key]);
    } else {
      const body = typeof payload === 'string' ? payload : Buffer.isBuffer(payload) ? payload.toString('utf8') : null;
      await ds.query('UPDATE api_idempotency_key SET status = $3, body = $4 WHERE token_id = $1 AND key = $2', [claimed.tokenId, claimed.key, reply.statusCode, body]);
    }
    return payload;
  });
}

/** Takes the key for this request, deleting expired keys in the same statement; false when it is taken. */
async function claim(ds: DataSource, tokenId: string, key: string, fingerprint: string, now: Date): Promise<boolean> {
  const rows: unknown[] = await ds.query(
    `WITH gone AS (DELETE FROM api_idempotency_key WHERE created_at < $5)
     INSERT INTO api_idempotency_key (token_id, key, fingerprint, created_at) VALUES ($1, $2, $3, $4)
     ON CONFLICT (token_id, key) DO NOTHING RETURNING key`,
    [tokenId, key, fingerprint, now, new Date(now.getTime() - lifetimeMs)],
  );
  return rows.length === 1;
}
