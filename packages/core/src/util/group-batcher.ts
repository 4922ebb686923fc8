interface Pending<I, O> {
  item: I;
  resolve: (out: O) => void;
  reject: (err: unknown) => void;
}

/** One queued item of a batch, for the batch function to settle. */
export type BatchEntry<I, O> = Pending<I, O>;

/**
 * Group commit for work that many concurrent callers each need once: callers that arrive while
 * `maxInFlight` batches are running queue up and leave together when one returns, so batches grow
 * with load and stay at one item when idle (no timer: the first item of an idle batcher goes out
 * on the next turn of the event loop). `run` must settle every entry of its batch.
 */
export class GroupBatcher<I, O> {
  private queue: Pending<I, O>[] = [];
  private inFlight = 0;
  private scheduled = false;

  constructor(
    private readonly run: (batch: BatchEntry<I, O>[]) => Promise<void>,
    private readonly maxInFlight: number,
    private readonly maxBatch: number,
  ) {}

  submit(item: I): Promise<O> {
    return new Promise<O>((resolve, reject) => {
      this.queue.push({ item, resolve, reject });
      this.schedule();
    });
  }

  private schedule(): void {
    if (this.scheduled || this.inFlight >= this.maxInFlight) return;
    this.scheduled = true;
    // setImmediate: callers that got here in the same I/O phase join this batch.
    setImmediate(() => {
      this.scheduled = false;
      this.flush();
    });
  }

  private flush(): void {
    while (this.inFlight < this.maxInFlight && this.queue.length > 0) {
      const batch = this.queue.splice(0, this.maxBatch);
      this.inFlight += 1;
      this.run(batch)
        .catch((err: unknown) => {
          for (const p of batch) p.reject(err); // settling twice is a no-op for the ones already settled
        })
        .finally(() => {
          this.inFlight -= 1;
          if (this.queue.length > 0) this.schedule();
        });
    }
  }
}
