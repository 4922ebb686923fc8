import { QuotaLanes } from '../../src/persistence/quota-lane';

/** A statement the test finishes by hand. */
function held<T>(value: T) {
  let finish!: () => void;
  const done = new Promise<T>((resolve) => { finish = () => resolve(value); });
  return { done, finish };
}

describe('QuotaLanes', () => {
  it('starts work of one event only when the work before it settled, and work of another event at once', async () => {
    const lanes = new QuotaLanes();
    const started: string[] = [];
    const first = held('placement');
    const a = lanes.run('event-1', () => { started.push('a'); return first.done; });
    const b = lanes.run('event-1', async () => { started.push('b'); return 'reservation'; });
    const c = lanes.run('event-2', async () => { started.push('c'); return 'other'; });
    await c;
    expect(started).toEqual(['a', 'c']);
    first.finish();
    expect(await a).toBe('placement');
    expect(await b).toBe('reservation');
    expect(started).toEqual(['a', 'c', 'b']);
  });

  it('goes on after work that failed, whether it rejected or threw before returning a promise', async () => {
    const lanes = new QuotaLanes();
    await expect(lanes.run('event-1', () => { throw new Error('thrown'); })).rejects.toThrow('thrown');
    await expect(lanes.run('event-1', () => Promise.reject(new Error('rejected')))).rejects.toThrow('rejected');
    const failing = held(null);
    const broken = lanes.run('event-1', async () => { await failing.done; throw new Error('later'); });
    const next = lanes.run('event-1', async () => 'next');
    failing.finish();
    await expect(broken).rejects.toThrow('later');
    await expect(next).resolves.toBe('next');
  });
});
