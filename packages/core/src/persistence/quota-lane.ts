/**
 * One quota-locking batch statement per event in flight from this process, whichever kind: cart
 * reservations (cart-reservation.store.ts) and order placements (placement-batch.ts) of one event
 * lock the same quota rows. Sent side by side, one of them waits in PostgreSQL for the other's lock,
 * and the wait is not free: a lock wait and wake-up, then the locked rows re-checked against their
 * new versions. Queued here instead, a batch waits in Node, and the requests that arrive meanwhile
 * join it, so the next statement carries more of them.
 *
 * Only this process's statements are lined up; other processes and other writers still meet at the
 * row lock in PostgreSQL, which stays what keeps quotas right.
 */
export class QuotaLanes {
  private readonly tails = new Map<string, Promise<void>>();

  /** Runs `work` once every statement queued before it for `eventId` has settled. */
  run<T>(eventId: string, work: () => Promise<T>): Promise<T> {
    const before = this.tails.get(eventId);
    // A work that throws before it returns its promise rejects like one that fails later: the
    // lane must never be left waiting, nor its caller's queue busy for good.
    const result = before ? before.then(work) : startNow(work);
    const tail = result.then(() => undefined, () => undefined);
    this.tails.set(eventId, tail);
    void tail.then(() => {
      if (this.tails.get(eventId) === tail) this.tails.delete(eventId);
    });
    return result;
  }
}

function startNow<T>(work: () => Promise<T>): Promise<T> {
  try {
    return work();
  } catch (err) {
    return Promise.reject(err);
  }
}

/** A request waiting in a LaneBatches queue; the batch that carries it settles it. */
export interface LaneRequest {
  reject: (err: unknown) => void;
  /** Sent in a batch of its own (after a batch it was in failed). */
  alone?: boolean;
}

/** How a batcher makes up and sends its batches (see LaneBatches). */
export interface LaneBatchKind<W extends LaneRequest> {
  /** Named in the error a closed batcher gives. */
  name: string;
  /**
   * Splits the queue (in order, none of it to be sent alone) into the next batch and what stays
   * queued, in order.
   */
  take: (waiting: W[]) => { batch: W[]; rest: W[] };
  /** Sends one batch and settles what it decided; returns those to queue again, in front, in order. */
  run: (batch: W[]) => Promise<W[]>;
}

/**
 * One queue per event in front of the event's lane: the reservation batcher and the placement
 * batcher each keep one. While a batch of one kind is queued or in flight for an event, the
 * requests of that kind wait here; the next batch is made up when the lane frees, so that what
 * arrived meanwhile joins it. A batch PostgreSQL refuses as a whole is sent again request by
 * request, so one bad request fails only itself.
 */
export class LaneBatches<W extends LaneRequest> {
  private readonly queues = new Map<string, { waiting: W[]; busy: boolean }>();
  private closed = false;
  private readonly idle = new Set<() => void>();

  constructor(private readonly lanes: QuotaLanes, private readonly kind: LaneBatchKind<W>) {}

  /** Queues a request of the event; throws once closed. */
  add(eventId: string, request: W): void {
    if (this.closed) throw new Error(`the ${this.kind.name} batcher is closed`);
    let queue = this.queues.get(eventId);
    if (!queue) this.queues.set(eventId, (queue = { waiting: [], busy: false }));
    queue.waiting.push(request);
    if (!queue.busy) this.drain(eventId);
  }

  /** Refuses new requests and resolves once every queued one is settled. */
  close(): Promise<void> {
    this.closed = true;
    if (this.queues.size === 0) return Promise.resolve();
    return new Promise((resolve) => {
      const done = () => {
        this.idle.delete(done);
        resolve();
      };
      this.idle.add(done);
    });
  }

  /**
   * The next batch: a request to be sent alone (a batch it was in failed) is a batch of its own,
   * and no batch reaches past one; the kind makes up its batch from the requests before it.
   */
  private next(waiting: W[]): { batch: W[]; rest: W[] } {
    if (waiting[0]!.alone) return { batch: waiting.slice(0, 1), rest: waiting.slice(1) };
    const end = waiting.findIndex((w) => w.alone);
    if (end < 0) return this.kind.take(waiting);
    const { batch, rest } = this.kind.take(waiting.slice(0, end));
    return { batch, rest: [...rest, ...waiting.slice(end)] };
  }

  private drain(eventId: string): void {
    const queue = this.queues.get(eventId);
    if (!queue || queue.busy) return;
    if (queue.waiting.length === 0) {
      this.queues.delete(eventId);
      if (this.queues.size === 0) for (const done of this.idle) done();
      return;
    }
    queue.busy = true;
    let batch: W[] = [];
    this.lanes.run(eventId, () => {
      const next = this.next(queue.waiting);
      batch = next.batch;
      queue.waiting = next.rest;
      return this.kind.run(batch);
    }).then((again) => {
      queue.waiting = [...again, ...queue.waiting];
      queue.busy = false;
      this.drain(eventId);
    }, (err: unknown) => {
      if (batch.length === 1) batch[0]!.reject(err);
      else queue.waiting = [...batch.map((w) => ({ ...w, alone: true })), ...queue.waiting];
      queue.busy = false;
      this.drain(eventId);
    });
  }
}
