import type { PluginDb, PluginStatement } from '@kassa/core';

/** One event to store in stripe_webhook_inbox, already verified (or fetched by the poll job). */
export interface InboxRow {
  account: string;
  eventId: string;
  type: string;
  objectId: string;
  objectType: string;
  intentId: string | null;
  source: 'webhook' | 'poll';
  /** The event's JSON text (the verified bytes for a webhook): exactly one JSON value, checked before it gets here. */
  payload: string;
}

/** A row one statement newly stored. */
export interface StoredEvent {
  inboxId: string;
  account: string;
  eventId: string;
}

/**
 * Told of rows newly stored for the callers that passed one, after their statements returned
 * (committed): those of one statement in insert order, and, while its previous call is still
 * settling, those of every statement that returned meanwhile, together (see InboxWriter). Its
 * promise settles once it has handed the rows on; it must not reject (nobody awaits it).
 */
export type StoredBatchHandler = (rows: StoredEvent[]) => Promise<void>;

interface Pending {
  row: InboxRow;
  onStored: StoredBatchHandler | undefined;
  resolve: (id: string | null) => void;
  reject: (err: unknown) => void;
}

// One statement text for every batch size (arrays, not N value lists), so it is prepared once per
// connection. The payloads travel as one JSON array, not a text[]: each is JSON already, so joining
// them needs no escaping here and PostgreSQL parses each once (a text[] literal would escape every
// quote of every payload on the way out and unescape it on the way in). ROWS FROM zips the arrays
// element by element. A single INSERT outside a transaction is its own commit: when it returns,
// every row it inserted is durable. ON CONFLICT DO NOTHING skips events already stored; RETURNING
// names the rows that are new, so each request learns whether it was a duplicate.
const insertBatchSql: PluginStatement = { name: 'kassa_stripe_inbox_insert_batch_json', text: `INSERT INTO stripe_webhook_inbox
  (account, event_id, type, object_id, object_type, intent_id, source, payload)
  SELECT u.account, u.event_id, u.type, u.object_id, u.object_type, u.intent_id, u.source, u.payload
  FROM ROWS FROM (unnest($1::text[]), unnest($2::text[]), unnest($3::text[]), unnest($4::text[]), unnest($5::text[]),
    unnest($6::text[]), unnest($7::text[]), jsonb_array_elements($8::jsonb))
    AS u(account, event_id, type, object_id, object_type, intent_id, source, payload)
  ON CONFLICT (account, event_id) DO NOTHING
  RETURNING account, event_id, id` };

/** Statements in flight at once: the rest wait and go together in the next one (group commit). */
const MAX_IN_FLIGHT = 4;
/** Rows per statement, bounding one statement's size and the latency of the requests in it. */
const MAX_BATCH = 128;
/** Rows per handler call (one job): the job's payload and run stay bounded. */
const MAX_HANDED = 512;
/**
 * Rows waiting for the handler beyond which the oldest are let go: a handler that cannot settle
 * (the queue away for long) must not grow the process without bound. Stored rows are never lost:
 * the sweep processes what no job names.
 */
const MAX_WAITING = 20_000;
/** See InboxWriter's constructor: the delay it adds to an event's processing is at most this. */
const HAND_ON_SPACING_MS = 20;

const keyOf = (account: string, eventId: string) => `${account}\u0000${eventId}`;

/**
 * Group commit for the webhook inbox. Concurrent intake requests share one multi-row INSERT and
 * one commit; each caller's promise settles only after the statement containing its row has
 * returned (committed), so answering 2xx afterwards keeps the "stored durably" promise. The first
 * request of an idle writer goes out on the next turn of the event loop (no timer); requests that
 * arrive while MAX_IN_FLIGHT statements are running queue and leave together when one returns, so
 * batches grow with load and stay at one row when idle.
 *
 * The new rows go to the callers' handler the same way: a statement's rows at once when no call is
 * settling, else with those of the other statements that returned meanwhile in the next call. Under
 * load, one call (one job) thus covers several statements; idle, each row is handed on at once.
 */
export class InboxWriter {
  private queue: Pending[] = [];
  private inFlight = 0;
  private scheduled = false;

  private idle: (() => void)[] = [];
  private handed: StoredEvent[] = [];
  private handler: StoredBatchHandler | null = null;
  private handing = false;
  private lastHandOnAt = -Infinity;
  private spacing: ReturnType<typeof setTimeout> | null = null;

  /**
   * `handOnSpacingMs`: the least time between two handler calls while rows keep coming. Each call
   * is a job on the queue, and a job's enqueue has a fixed cost (BullMQ builds a pipeline per add)
   * that a bigger batch shares out; an idle writer still hands a row on at once.
   */
  constructor(private readonly db: PluginDb, private readonly handOnSpacingMs = HAND_ON_SPACING_MS) {}

  /**
   * Resolves once every stored row's statement has returned (the host closes after this), and hands
   * on at once the rows that were waiting out the spacing (without waiting for the handler).
   */
  async drain(): Promise<void> {
    if (this.queue.length > 0 || this.inFlight > 0) await new Promise<void>((resolve) => this.idle.push(resolve));
    if (this.spacing) {
      clearTimeout(this.spacing);
      this.spacing = null;
      this.lastHandOnAt = -Infinity;
      this.handOn();
    }
  }

  /**
   * Stores the row; resolves with its inbox id, or null when (account, event id) was already stored.
   * `onStored` hears of the row with the others of its statement (see {@link StoredBatchHandler}).
   * The callers of one writer are one host's, so one handler speaks for all of a statement's rows
   * that asked for one: the first of them is called.
   */
  store(row: InboxRow, onStored?: StoredBatchHandler): Promise<string | null> {
    return new Promise((resolve, reject) => {
      this.queue.push({ row, onStored, resolve, reject });
      this.schedule();
    });
  }

  private schedule(): void {
    if (this.scheduled || this.inFlight >= MAX_IN_FLIGHT) return;
    this.scheduled = true;
    // setImmediate: requests whose bodies arrived in the same I/O phase join this batch.
    setImmediate(() => {
      this.scheduled = false;
      this.flush();
    });
  }

  private flush(): void {
    while (this.inFlight < MAX_IN_FLIGHT && this.queue.length > 0) {
      const batch = this.queue.splice(0, MAX_BATCH);
      this.inFlight += 1;
      void this.write(batch).finally(() => {
        this.inFlight -= 1;
        if (this.queue.length > 0) this.schedule();
        else if (this.inFlight === 0) for (const done of this.idle.splice(0)) done();
      });
    }
  }

  private async write(batch: Pending[]): Promise<void> {
    // The same event twice in one batch: the first occurrence is inserted, the others are duplicates.
    const first = new Map<string, Pending>();
    for (const p of batch) {
      const key = keyOf(p.row.account, p.row.eventId);
      if (!first.has(key)) first.set(key, p);
    }
    const rows = [...first.values()].map((p) => p.row);
    let inserted: { account: string; event_id: string; id: string }[];
    try {
      inserted = await this.db.queryPrepared<{ account: string; event_id: string; id: string }>(insertBatchSql, [
        rows.map((r) => r.account), rows.map((r) => r.eventId), rows.map((r) => r.type), rows.map((r) => r.objectId),
        rows.map((r) => r.objectType), rows.map((r) => r.intentId), rows.map((r) => r.source), `[${rows.map((r) => r.payload).join(',')}]`,
      ]);
    } catch (err) {
      if (batch.length === 1) {
        batch[0]!.reject(err);
        return;
      }
      // One bad row (say, a payload PostgreSQL's jsonb refuses) must not fail the events that
      // happened to share its statement: each is tried again on its own, and only its own error fails it.
      await Promise.all(batch.map((p) => this.write([p])));
      return;
    }
    const ids = new Map(inserted.map((r) => [keyOf(r.account, r.event_id), r.id]));
    let onStored: StoredBatchHandler | undefined;
    const stored: StoredEvent[] = [];
    // The batch's order is the statement's insert order (ROWS FROM keeps the arrays' order).
    for (const p of batch) {
      const key = keyOf(p.row.account, p.row.eventId);
      const id = first.get(key) === p ? ids.get(key) ?? null : null;
      p.resolve(id);
      if (id !== null && p.onStored) {
        onStored ??= p.onStored;
        stored.push({ inboxId: id, account: p.row.account, eventId: p.row.eventId });
      }
    }
    if (!onStored) return;
    this.handed.push(...stored);
    this.handler = onStored;
    if (this.handed.length > MAX_WAITING) this.handed.splice(0, this.handed.length - MAX_WAITING);
    if (!this.handing) this.handOn();
  }

  private handOn(): void {
    const wait = this.lastHandOnAt + this.handOnSpacingMs - performance.now();
    if (wait > 0 && this.handed.length > 0 && this.handed.length < MAX_HANDED) {
      // Rows keep coming: wait out the spacing so that they leave together in one job.
      this.handing = true;
      this.spacing = setTimeout(() => {
        this.spacing = null;
        this.handOn();
      }, wait);
      return;
    }
    const rows = this.handed.splice(0, MAX_HANDED);
    this.handing = rows.length > 0;
    if (!this.handing) return;
    this.lastHandOnAt = performance.now();
    let settled: Promise<void>;
    try {
      settled = this.handler!(rows);
    } catch {
      // A handler that throws breaks its contract; the rows are stored and the sweep has them.
      settled = Promise.resolve();
    }
    void settled.catch(() => undefined).then(() => this.handOn());
  }
}
