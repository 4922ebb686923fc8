import { InFlightBatcher } from '@kassa/core/host';

/** A run function whose statements the test finishes by hand, recording each batch it was given. */
function controlled() {
  const batches: number[][] = [];
  const pending: { finish: (fail?: boolean) => void }[] = [];
  const run = (items: number[]) => new Promise<string[]>((resolve, reject) => {
    batches.push(items);
    pending.push({ finish: (fail) => (fail ? reject(new Error(`refused ${items.join(',')}`)) : resolve(items.map((i) => `r${i}`))) });
  });
  return { batches, pending, run };
}

/** Lets the batcher's next turn run (a few turns of the event loop). */
const tick = async () => {
  for (let i = 0; i < 3; i++) await new Promise((r) => setImmediate(r));
};

describe('InFlightBatcher', () => {
  it('sends a lone item on the next turn and the items that arrive meanwhile together, each answered with its own result', async () => {
    const c = controlled();
    const b = new InFlightBatcher(c.run);
    const first = b.submit(1);
    await tick();
    expect(c.batches).toEqual([[1]]);
    const rest = [2, 3, 4].map((i) => b.submit(i));
    await tick();
    expect(c.batches).toEqual([[1]]);
    c.pending[0]!.finish();
    expect(await first).toBe('r1');
    await tick();
    expect(c.batches).toEqual([[1], [2, 3, 4]]);
    c.pending[1]!.finish();
    expect(await Promise.all(rest)).toEqual(['r2', 'r3', 'r4']);
  });

  it('keeps batches within the maximum, in arrival order', async () => {
    const c = controlled();
    const b = new InFlightBatcher(c.run, 2);
    const all = [1, 2, 3, 4, 5].map((i) => b.submit(i));
    for (let i = 0; i < 3; i++) {
      await tick();
      c.pending[i]!.finish();
    }
    expect(await Promise.all(all)).toEqual(['r1', 'r2', 'r3', 'r4', 'r5']);
    expect(c.batches).toEqual([[1, 2], [3, 4], [5]]);
  });

  it('tries each item of a failed batch again alone, so only the one that fails gets the error', async () => {
    const c = controlled();
    const b = new InFlightBatcher(c.run);
    const all = [1, 2].map((i) => b.submit(i).catch((e: Error) => e.message));
    await tick();
    c.pending[0]!.finish(true); // [1, 2] together fails
    await tick();
    expect(c.batches).toEqual([[1, 2], [1], [2]]);
    c.pending[1]!.finish(true);
    c.pending[2]!.finish();
    expect(await Promise.all(all)).toEqual(['refused 1', 'r2']);
  });
});
