import { GroupBatcher } from './group-batcher';

/**
 * A GroupBatcher for one statement per batch with a result per item: the items that arrive while
 * a statement is in flight go together as the next one, so a burst costs one round trip and one
 * commit instead of one each. `run` answers one result per item, in order. When a batch of several
 * fails, each item is tried again alone, so one item PostgreSQL refuses fails only itself.
 */
export class InFlightBatcher<I, R> {
  private readonly batcher: GroupBatcher<I, R>;

  constructor(run: (items: I[]) => Promise<R[]>, maxBatch = 256) {
    this.batcher = new GroupBatcher<I, R>(async (batch) => {
      try {
        const results = await run(batch.map((e) => e.item));
        batch.forEach((e, i) => (i < results.length ? e.resolve(results[i]!) : e.reject(new Error(`batch returned no result for item ${i}`))));
      } catch (err) {
        if (batch.length === 1) batch[0]!.reject(err);
        else await Promise.all(batch.map((e) => run([e.item]).then(([r]) => e.resolve(r!), e.reject)));
      }
    }, 1, maxBatch);
  }

  submit(item: I): Promise<R> {
    return this.batcher.submit(item);
  }
}
