import { invalidRequest } from './errors';
import type { AccountState } from './store';

/**
 * Applies `expand[]` paths (`latest_charge`, `data.payment_method`, `payment_intent.latest_charge`)
 * to a response, replacing ids with the objects. Copies along the path only, so stored
 * objects are never modified.
 */
export function expandResponse(account: AccountState, value: unknown, paths: string[]): unknown {
  let out = value;
  for (const path of paths) {
    const segments = path.split('.');
    if (segments.length > 4) throw invalidRequest(`You cannot expand more than 4 levels of a property. Property: ${path}`, { param: 'expand' });
    out = expandPath(account, out, segments, path);
  }
  return out;
}

function expandPath(account: AccountState, value: unknown, segments: string[], full: string): unknown {
  if (segments.length === 0 || value === null || typeof value !== 'object') return value;
  const [head, ...rest] = segments as [string, ...string[]];
  if (Array.isArray(value)) return value.map((v) => expandPath(account, v, segments, full));
  const obj = value as Record<string, unknown>;
  if (!(head in obj)) throw invalidRequest(`This property cannot be expanded (${full}).`, { param: 'expand' });
  let child = obj[head];
  if (typeof child === 'string') {
    const found = account.findById(child);
    if (found === undefined) return obj;
    child = found;
  }
  return { ...obj, [head]: expandPath(account, child, rest, full) };
}
