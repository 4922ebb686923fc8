import { LaneBatches, QuotaLanes, type LaneRequest } from '../../src/persistence/quota-lane';

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

interface Request extends LaneRequest { n: number; resolve: (batch: number[]) => void }

/** A LaneBatches whose kind takes the first three requests it is offered; `run` records each batch and settles it by hand. */
function recorder(lanes = new QuotaLanes(), fail: (batch: number[]) => boolean = () => false) {
  const sent: number[][] = [];
  const statements: { batch: Request[]; finish: (again?: Request[]) => void }[] = [];
  const batches = new LaneBatches<Request>(lanes, {
    name: 'test',
    take: (waiting) => ({ batch: waiting.slice(0, 3), rest: waiting.slice(3) }),
    run: (batch) => new Promise((resolve, reject) => {
      const ns = batch.map((r) => r.n);
      sent.push(ns);
      statements.push({ batch, finish: (again = []) => {
        if (fail(ns)) return reject(new Error(`refused ${ns.join(',')}`));
        for (const r of batch) if (!again.includes(r)) r.resolve(ns);
        resolve(again);
      } });
    }),
  });
  const add = (n: number) => new Promise<number[]>((resolve, reject) => batches.add('event-1', { n, resolve, reject }));
  return { batches, sent, statements, add };
}

describe('LaneBatches', () => {
  it('makes up the next batch when the lane frees, so that what arrived meanwhile goes together', async () => {
    const { sent, statements, add } = recorder();
    const first = add(1);
    const rest = [add(2), add(3), add(4), add(5)];
    expect(sent).toEqual([[1]]);
    statements[0]!.finish();
    expect(await first).toEqual([1]);
    await Promise.resolve();
    expect(sent).toEqual([[1], [2, 3, 4]]);
    statements[1]!.finish();
    await new Promise((r) => setImmediate(r));
    statements[2]!.finish();
    expect(await Promise.all(rest)).toEqual([[2, 3, 4], [2, 3, 4], [2, 3, 4], [5]]);
  });

  it('sends again in front of the queue what a batch hands back, in order', async () => {
    const { sent, statements, add } = recorder();
    const a = add(1);
    const later = [add(2), add(3), add(4), add(5)];
    statements[0]!.finish();
    await a;
    await Promise.resolve();
    // The batch [2, 3, 4] decides 2 and hands 3 and 4 back (as a placement behind a refused order).
    statements[1]!.finish(statements[1]!.batch.slice(1));
    await new Promise((r) => setImmediate(r));
    expect(sent[2]).toEqual([3, 4, 5]);
    statements[2]!.finish();
    expect(await Promise.all(later)).toEqual([[2, 3, 4], [3, 4, 5], [3, 4, 5], [3, 4, 5]]);
  });

  it('tries a refused batch request by request, so that only the culprit fails', async () => {
    const { sent, statements, add } = recorder(new QuotaLanes(), (ns) => ns.includes(3));
    const blocker = add(0);
    const rest = [add(2), add(3), add(4)].map((p) => p.then((b) => ({ ok: b }), (e: Error) => ({ err: e.message })));
    statements[0]!.finish();
    await blocker;
    await new Promise((r) => setImmediate(r));
    // Queued while [2, 3, 4] is in flight: it goes behind the three sent again alone, in a batch of its own.
    const late = add(5);
    for (let i = 1; i <= 5; i++) {
      await new Promise((r) => setImmediate(r));
      statements[i]!.finish();
    }
    expect(sent).toEqual([[0], [2, 3, 4], [2], [3], [4], [5]]);
    expect(await Promise.all(rest)).toEqual([{ ok: [2] }, { err: 'refused 3' }, { ok: [4] }]);
    expect(await late).toEqual([5]);
  });

  it('shares the lane with another kind: one statement of the event at a time', async () => {
    const lanes = new QuotaLanes();
    const holds = recorder(lanes);
    const orders = recorder(lanes);
    const h = holds.add(1);
    const o = orders.add(2);
    await Promise.resolve();
    expect(orders.sent).toEqual([]);
    holds.statements[0]!.finish();
    await h;
    await new Promise((r) => setImmediate(r));
    expect(orders.sent).toEqual([[2]]);
    orders.statements[0]!.finish();
    await o;
  });

  it('refuses requests once closed, and its close waits for those already queued', async () => {
    const { batches, statements, add } = recorder();
    const queued = add(1);
    let closed = false;
    const closing = batches.close().then(() => { closed = true; });
    await expect(add(2)).rejects.toThrow('the test batcher is closed');
    await Promise.resolve();
    expect(closed).toBe(false);
    statements[0]!.finish();
    await queued;
    await closing;
    expect(closed).toBe(true);
  });
});
