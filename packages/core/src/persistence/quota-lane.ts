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
