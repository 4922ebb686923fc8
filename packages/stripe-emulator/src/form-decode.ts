/**
 * Decodes `application/x-www-form-urlencoded` bodies and query strings the way Stripe reads
 * them: `a[b][c]=v` nests, `x[0]=a&x[1]=b` (what stripe-node sends) and `x[]=a&x[]=b` (what
 * curl users send) both become arrays. An empty value is kept as '' because Stripe reads it
 * as "unset" (e.g. `metadata[k]=` deletes k).
 */
export type FormValue = string | FormValue[] | { [key: string]: FormValue };
export type FormObject = { [key: string]: FormValue };

export class FormDecodeError extends Error {
  constructor(readonly param: string) {
    super(`Invalid parameter: ${param}`);
  }
}

function decodeComponent(s: string): string {
  const plus = s.indexOf('+') === -1 ? s : s.replace(/\+/g, ' ');
  if (plus.indexOf('%') === -1) return plus;
  try {
    return decodeURIComponent(plus);
  } catch {
    throw new FormDecodeError(plus);
  }
}

/** Splits `a[b][]` into ['a', 'b', '']; rejects unbalanced brackets. */
function splitKey(key: string): string[] {
  const open = key.indexOf('[');
  if (open === -1) return [key];
  const parts = [key.slice(0, open)];
  let i = open;
  while (i < key.length) {
    if (key[i] !== '[') throw new FormDecodeError(key);
    const close = key.indexOf(']', i);
    if (close === -1) throw new FormDecodeError(key);
    parts.push(key.slice(i + 1, close));
    i = close + 1;
  }
  return parts;
}

export function decodeForm(input: string): FormObject {
  const root: FormObject = {};
  if (!input) return root;
  for (const pair of input.split('&')) {
    if (!pair) continue;
    const eq = pair.indexOf('=');
    const rawKey = decodeComponent(eq === -1 ? pair : pair.slice(0, eq));
    const value = decodeComponent(eq === -1 ? '' : pair.slice(eq + 1));
    const parts = splitKey(rawKey);
    if (!parts[0]) throw new FormDecodeError(rawKey);
    assign(root, parts, value, rawKey);
  }
  return normalizeArrays(root) as FormObject;
}

function assign(root: FormObject, parts: string[], value: string, rawKey: string): void {
  let node: FormObject | FormValue[] = root;
  for (let i = 0; i < parts.length; i++) {
    const part = parts[i] as string;
    const last = i === parts.length - 1;
    const nextIsPush = !last && parts[i + 1] === '';
    if (Array.isArray(node)) {
      // `x[]` pushes; `x[][y]` nests into a new element.
      if (part !== '') throw new FormDecodeError(rawKey);
      if (last) {
        node.push(value);
        return;
      }
      const child: FormObject | FormValue[] = nextIsPush ? [] : {};
      node.push(child);
      node = child;
      continue;
    }
    if (part === '') throw new FormDecodeError(rawKey);
    if (last) {
      if (typeof node[part] === 'object') throw new FormDecodeError(rawKey);
      node[part] = value;
      return;
    }
    let child: FormValue | undefined = node[part];
    if (child === undefined) {
      child = nextIsPush ? [] : {};
      node[part] = child;
    } else if (typeof child === 'string' || Array.isArray(child) !== nextIsPush) {
      throw new FormDecodeError(rawKey);
    }
    node = child as FormObject | FormValue[];
  }
}

/** Objects keyed exactly 0..n-1 (stripe-node's indexed arrays) become arrays. */
function normalizeArrays(v: FormValue): FormValue {
  if (typeof v === 'string') return v;
  if (Array.isArray(v)) return v.map(normalizeArrays);
  const keys = Object.keys(v);
  for (const k of keys) v[k] = normalizeArrays(v[k] as FormValue);
  if (keys.length > 0 && keys.every((k, i) => k === String(i))) return keys.map((k) => v[k] as FormValue);
  return v;
}
