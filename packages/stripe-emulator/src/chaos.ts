import type { Emulator, Fault } from './emulator';
import { invalidRequest } from './errors';
import type { ChaosOptions } from './options';

/**
 * Replaces the faults of a chaos run: of all API requests (matching `path`), the given shares
 * are answered 500 before executing, left unanswered before executing, or executed (and stored
 * under their idempotency key) and then left unanswered. Faults are tried in order with seeded
 * draws, so each later rate is conditioned on the earlier ones not hitting.
 */
export function applyChaos(emu: Emulator, c: ChaosOptions): Fault[] {
  const shares: [Fault['kind'], number][] = [
    ['error_500', c.error500 ?? 0],
    ['timeout', c.timeout ?? 0],
    ['timeout_after_commit', c.timeoutAfterCommit ?? 0],
  ];
  const total = shares.reduce((n, [, s]) => n + s, 0);
  for (const [kind, s] of shares) if (!(s >= 0 && s <= 1)) throw invalidRequest(`The share of ${kind} must be between 0 and 1.`, { param: kind });
  if (total > 1) throw invalidRequest('The shares of injected failures add up to more than 1.', { param: 'error_500' });
  emu.faults = emu.faults.filter((f) => f.tag !== 'chaos');
  let left = 1;
  const added: Fault[] = [];
  for (const [kind, share] of shares) {
    if (share <= 0) continue;
    const fault: Fault = { id: emu.ids.id('flt_', 10), kind, rate: Math.min(1, share / left), remaining: null, path: c.path, tag: 'chaos' };
    left -= share;
    added.push(fault);
  }
  emu.faults.push(...added);
  return added;
}
