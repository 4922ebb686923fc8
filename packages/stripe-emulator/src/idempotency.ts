import { ApiError } from './errors';

/** A response as sent on the wire, so a replay is byte-for-byte the first answer (§6.1). */
export interface StoredResponse {
  status: number;
  body: string;
  headers: Record<string, string>;
}

interface Entry {
  fingerprint: string;
  createdAt: number;
  response: StoredResponse | null; // null while the first request is in flight
}

export type IdempotencyStore = Map<string, Entry>;

/** Keys kept per account before the oldest are pruned (Stripe keeps them ≥ 24 h; tests never get near this). */
const MAX_KEYS = 200_000;

export const createIdempotencyStore = (): IdempotencyStore => new Map();

export type IdempotencyDecision = { kind: 'replay'; response: StoredResponse } | { kind: 'execute'; slot: string };

/** Canonical form of a request: method, path and the decoded params with sorted keys. */
export function fingerprint(method: string, path: string, params: unknown): string {
  return `${method} ${path} ${canonical(params)}`;
}

function canonical(v: unknown): string {
  if (v === null || typeof v !== 'object') return JSON.stringify(v);
  if (Array.isArray(v)) return `[${v.map(canonical).join(',')}]`;
  const o = v as Record<string, unknown>;
  return `{${Object.keys(o)
    .sort()
    .map((k) => `${JSON.stringify(k)}:${canonical(o[k])}`)
    .join(',')}}`;
}

/**
 * Looks up a key before execution. Same params → replay; different params → 400
 * idempotency_error; still running → 409 idempotency_key_in_use. Otherwise reserves the slot.
 */
export function begin(store: IdempotencyStore, scope: string, key: string, print: string): IdempotencyDecision {
  if (key.length > 255) {
    throw new ApiError(400, 'invalid_request_error', 'Invalid Idempotency-Key: must be at most 255 characters.', { param: 'Idempotency-Key' });
  }
  const slot = `${scope}\u0000${key}`;
  const entry = store.get(slot);
  if (entry) {
    if (entry.fingerprint !== print) {
      throw new ApiError(
        400,
        'idempotency_error',
        `Keys for idempotent requests can only be used with the same parameters they were first used with. Try using a key other than '${key}' if you meant to execute a different request.`,
      );
    }
    if (!entry.response) {
      throw new ApiError(
        409,
        'invalid_request_error',
        'There is currently another in-progress request using this Idempotent Key (that probably means you submitted twice, and the other request is still going through): ' +
          `${key}. Please try again later.`,
        { code: 'idempotency_key_in_use' },
      );
    }
    return { kind: 'replay', response: entry.response };
  }
  store.set(slot, { fingerprint: print, createdAt: Date.now(), response: null });
  if (store.size > MAX_KEYS) {
    // Bounded memory for long dev sessions: drop the oldest keys (Map keeps insertion order).
    for (const old of store.keys()) {
      if (store.size <= MAX_KEYS * 0.9) break;
      if (store.get(old)?.response) store.delete(old);
    }
  }
  return { kind: 'execute', slot };
}

/** Stores the outcome; results that never "reached execution" (§6.1) free the slot instead. */
export function finish(store: IdempotencyStore, slot: string, response: StoredResponse | null): void {
  const entry = store.get(slot);
  if (!entry) return;
  if (response === null) store.delete(slot);
  else entry.response = response;
}

/** Drops keys older than `olderThanMs` (0 = all), standing in for Stripe's 24 h pruning. */
export function expire(store: IdempotencyStore, olderThanMs = 0): number {
  const cutoff = Date.now() - olderThanMs;
  let n = 0;
  for (const [slot, entry] of store) {
    if (entry.response && entry.createdAt <= cutoff) {
      store.delete(slot);
      n++;
    }
  }
  return n;
}
