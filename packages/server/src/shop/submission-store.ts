import { createHash } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { KassaError, type DataSource } from '@kassa/core/host';

export type SubmissionKind = 'place_order' | 'pay';

/** What the first submission of a token produced: where to send the browser, and the order. */
export interface SubmissionResult {
  redirect: string;
  orderId: string | null;
}

export interface SubmissionStoreOptions {
  /** How long a duplicate waits for the first submission to finish. */
  waitMs?: number;
  pollMs?: number;
}

/**
 * Makes a buyer's POST idempotent. The first request with a token claims it with an INSERT on the
 * primary key (the database decides the race, not the session); duplicates wait for its result and
 * answer with the same redirect. A failed first attempt deletes its claim, so the buyer can fix the
 * problem and submit again with the same form.
 *
 * No transaction is held while the work runs: the work calls providers over the network and the
 * core services open their own transactions.
 */
export class SubmissionStore {
  readonly waitMs: number;
  readonly pollMs: number;

  constructor(private readonly ds: DataSource, opts: SubmissionStoreOptions = {}) {
    this.waitMs = opts.waitMs ?? 15_000;
    this.pollMs = opts.pollMs ?? 25;
  }

  /** Runs `work` once per token (the order page's pay form; placing an order uses core's idempotency key instead). */
  async run(
    token: string,
    kind: SubmissionKind,
    owner: string,
    work: () => Promise<SubmissionResult>,
  ): Promise<SubmissionResult & { replayed: boolean }> {
    const ownerHash = hashOwner(owner);
    const deadline = Date.now() + this.waitMs;
    for (;;) {
      const claimed = await this.ds.query(
        `INSERT INTO shop_submission (token, kind, owner_hash) VALUES ($1, $2, $3)
         ON CONFLICT (token) DO NOTHING RETURNING token`,
        [token, kind, ownerHash],
      ) as unknown[];
      if (claimed.length === 1) return { ...(await this.runClaimed(token, work)), replayed: false };

      const existing = await this.find(token);
      if (!existing) continue; // the first attempt failed and released the token: claim it now
      if (existing.ownerHash !== ownerHash || existing.kind !== kind) throw new KassaError('SHOP_SUBMISSION_FOREIGN');
      if (existing.redirect) return { redirect: existing.redirect, orderId: existing.orderId, replayed: true };
      if (Date.now() >= deadline) {
        if (existing.orderId) return { redirect: '', orderId: existing.orderId, replayed: true };
        throw new KassaError('SHOP_SUBMISSION_IN_PROGRESS');
      }
      await sleep(this.pollMs);
    }
  }

  private async runClaimed(token: string, work: () => Promise<SubmissionResult>): Promise<SubmissionResult> {
    let result: SubmissionResult;
    try {
      result = await work();
    } catch (err) {
      // Released, so the buyer can fix the problem and submit the same form again.
      await this.ds.query('DELETE FROM shop_submission WHERE token = $1', [token]);
      throw err;
    }
    await this.ds.query('UPDATE shop_submission SET redirect = $2, order_id = $3 WHERE token = $1', [token, result.redirect, result.orderId]);
    return result;
  }

  private async find(token: string): Promise<{ kind: SubmissionKind; ownerHash: string; orderId: string | null; redirect: string | null } | null> {
    const rows = await this.ds.query(
      'SELECT kind, owner_hash AS "ownerHash", order_id AS "orderId", redirect FROM shop_submission WHERE token = $1',
      [token],
    ) as { kind: SubmissionKind; ownerHash: string; orderId: string | null; redirect: string | null }[];
    return rows[0] ?? null;
  }
}

/**
 * Core's idempotency key for placing the order of a confirm form: its token, bound to the session
 * that was shown the form (a token from another session can never name this session's order).
 * Placing an order takes no ledger row: the key is checked by the order's own insert, and the
 * result is kept in the buyer's session (checkout-session.ts `placed`).
 */
export function placementKey(owner: string, token: string): string {
  return `shop:${hashOwner(owner)}:${token}`;
}

function hashOwner(owner: string): string {
  return createHash('sha256').update(owner).digest('base64url');
}

