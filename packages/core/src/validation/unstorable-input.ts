/**
 * Values that pass a JSON Schema but cannot be stored: PostgreSQL refuses a NUL character (U+0000)
 * in text and jsonb, and a number that is not finite (`1e400` parses as Infinity, and ajv's type
 * coercion turns the query string "Infinity" into one) or beyond 2^53 (no longer an exact integer,
 * and beyond every integer column) fails in the database or in a money calculation. Every route's
 * input and every settings write is checked once with this, so such input is refused as bad input
 * naming its field, instead of failing later as an internal error.
 */

/** Where an unstorable value sits (`positions.0.name`, or `''` for the whole value) and why. */
export interface UnstorableInput {
  readonly path: string;
  readonly problem: string;
}

/** Deeper than this is refused too: no form or API body of ours nests nearly as deep. */
const maxDepth = 32;

/**
 * An unstorable value in `value` (strings, numbers, object keys, arrays, at any depth), or
 * null. Iterative, so a hostile, deeply nested body cannot overflow the stack.
 * @example findUnstorableInput({ q: 'a\u0000' }) // { path: 'q', problem: 'contains a NUL character' }
 */
export function findUnstorableInput(value: unknown, basePath = ''): UnstorableInput | null {
  // Most input is nothing or a flat record of strings and numbers (a form, path parameters, a
  // query string): checked without the walk's bookkeeping, with the walk's answer.
  if (value === undefined || value === null) return null;
  if (isRecord(value)) {
    const flat = flatRecordProblem(value, basePath);
    if (flat !== undefined) return flat;
  }
  const stack: { value: unknown; path: string; depth: number }[] = [{ value, path: basePath, depth: 0 }];
  while (stack.length > 0) {
    const item = stack.pop()!;
    const v = item.value;
    const problem = primitiveProblem(v);
    if (problem) return { path: item.path, problem };
    if (v !== null && typeof v === 'object' && !Buffer.isBuffer(v) && !(v instanceof Date)) {
      if (item.depth >= maxDepth) return { path: item.path, problem: 'is nested too deeply' };
      const entries = Array.isArray(v) ? v.map((x, i) => [String(i), x] as const) : Object.entries(v as Record<string, unknown>);
      for (const [key, child] of entries) {
        const path = item.path ? `${item.path}.${key}` : key;
        if (key.includes('\u0000')) return { path: item.path, problem: 'has a field name with a NUL character' };
        stack.push({ value: child, path, depth: item.depth + 1 });
      }
    }
  }
  return null;
}

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v) && !Buffer.isBuffer(v) && !(v instanceof Date);
}

/** The problem a single string or number has, if any. */
function primitiveProblem(v: unknown): string | null {
  if (typeof v === 'string') return v.includes('\u0000') ? 'contains a NUL character' : null;
  if (typeof v !== 'number') return null;
  if (!Number.isFinite(v)) return 'must be a finite number';
  return Math.abs(v) > Number.MAX_SAFE_INTEGER ? 'is out of range' : null;
}

/**
 * findUnstorableInput's answer for a record without nested objects, in the walk's order (field
 * names first, then the values, last field first); undefined when a value is an object.
 */
function flatRecordProblem(record: Record<string, unknown>, basePath: string): UnstorableInput | null | undefined {
  const keys = Object.keys(record);
  for (const key of keys) {
    const child = record[key];
    if (typeof child === 'object' && child !== null) return undefined;
  }
  for (const key of keys) if (key.includes('\u0000')) return { path: basePath, problem: 'has a field name with a NUL character' };
  for (let i = keys.length - 1; i >= 0; i--) {
    const key = keys[i]!;
    const problem = primitiveProblem(record[key]);
    if (problem) return { path: basePath ? `${basePath}.${key}` : key, problem };
  }
  return null;
}
