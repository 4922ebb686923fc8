/**
 * Group commit in Node: the items that arrive while a statement is in flight wait and then go
 * together as the next statement, so a lone item goes at once and a burst costs one round trip and
 * one commit instead of one each; batches grow with the load by themselves. `run` answers one
 * result per item, in order. When a batch of several fails, each item is tried again alone, so one
 * item PostgreSQL refuses fails only itself. (The placement and cart batchers keep a queue per event
 * with rules of their own; this is the plain case.)
 */
export class InFlightBatcher<I, R> {
  private waiting: { item: I; resolve: (result: R) => void; reject: (err: unknown) => void; alone: boolean }[] = [];
  private busy = false;

  constructor(private readonly run: (items: I[]) => Promise<R[]>, private readonly maxBatch = 256) {}

  submit(item: I): Promise<R> {
    return new Promise((resolve, reject) => {
      this.waiting.push({ item, resolve, reject, alone: false });
      if (!this.busy) this.send();
    });
  }

  private send(): void {
    if (this.waiting.length === 0) return;
    let size = 1;
    if (!this.waiting[0]!.alone) while (size < this.waiting.length && size < this.maxBatch && !this.waiting[size]!.alone) size++;
    const batch = this.waiting.splice(0, size);
    this.busy = true;
    this.run(batch.map((w) => w.item)).then((results) => {
      batch.forEach((w, i) => (i < results.length ? w.resolve(results[i]!) : w.reject(new Error(`batch returned no result for item ${i}`))));
    }, (err: unknown) => {
      if (batch.length === 1) batch[0]!.reject(err);
      else this.waiting = [...batch.map((w) => ({ ...w, alone: true })), ...this.waiting];
    }).finally(() => {
      this.busy = false;
      this.send();
    });
  }
}
