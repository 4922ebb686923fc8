import { Writable } from 'node:stream';
import { progressBar } from '../../src/cli/cli-output';

/** A stream that keeps what was written, as a terminal (isTTY) or as a pipe. */
function sink(isTTY: boolean): { stream: NodeJS.WriteStream; text: () => string } {
  const chunks: string[] = [];
  const stream = new Writable({ write(chunk: Buffer, _enc, done) { chunks.push(chunk.toString()); done(); } }) as unknown as NodeJS.WriteStream;
  (stream as { isTTY?: boolean }).isTTY = isTTY;
  return { stream, text: () => chunks.join('') };
}

async function run(isTTY: boolean): Promise<string> {
  const out = sink(isTTY);
  const bar = progressBar(4, out.stream);
  for (const name of ['A1', 'B2', 'C3', 'D4']) {
    bar.step(name);
    bar.done();
  }
  bar.finish();
  await new Promise((r) => setImmediate(r));
  return out.text();
}

it('on a terminal redraws one line: a bar that fills, the count and the current step, ending with a newline', async () => {
  const text = await run(true);
  const frames = text.split('\r\x1b[2K').filter(Boolean);
  expect(frames[0]).toBe(`[${'-'.repeat(24)}] 0/4 A1`);
  expect(frames).toContain(`[${'#'.repeat(12)}${'-'.repeat(12)}] 2/4 B2`);
  expect(frames[frames.length - 1]).toBe(`[${'#'.repeat(24)}] 4/4 D4\n`);
  expect(text.split('\n')).toHaveLength(2);
});

it('into a log or pipe prints one numbered line per step and no control characters', async () => {
  const text = await run(false);
  expect(text).toBe('  [1/4] A1\n  [2/4] B2\n  [3/4] C3\n  [4/4] D4\n');
});
