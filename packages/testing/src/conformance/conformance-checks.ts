import type { ViewModel } from '@kassa/core/host';

const outcomeKinds = ['confirmed', 'pending', 'requires_action', 'declined', 'failed'] as const;

/** Problems with a PaymentOutcome value (empty when valid): the union's shape, and JSON-storable info. */
export function paymentOutcomeProblems(value: unknown): string[] {
  if (typeof value !== 'object' || value === null) return ['executePayment must resolve to an outcome object'];
  const o = value as Record<string, unknown>;
  const problems: string[] = [];
  if (!outcomeKinds.includes(o.kind as never)) problems.push(`kind must be one of ${outcomeKinds.join(', ')}, got ${String(o.kind)}`);
  if (o.kind === 'requires_action' && !isAbsoluteUrl(o.redirectUrl)) problems.push('requires_action needs an absolute redirectUrl');
  if ((o.kind === 'declined' || o.kind === 'failed') && (typeof o.message !== 'string' || o.message === '')) problems.push(`${String(o.kind)} needs a message for the buyer`);
  if (o.code !== undefined && typeof o.code !== 'string') problems.push('code must be a string');
  if (o.info !== undefined) problems.push(...jsonProblems(o.info, 'info'));
  return problems;
}

/** Problems with a render hook's result: null, or { partial, data } with JSON-safe data. */
export function viewModelProblems(value: unknown, hook: string): string[] {
  if (value === null) return [];
  if (typeof value !== 'object' || value === undefined) return [`${hook} must return a view model or null`];
  const vm = value as Partial<ViewModel>;
  const problems: string[] = [];
  if (typeof vm.partial !== 'string' || !/^[a-z0-9@][a-z0-9_\-/]*$/i.test(vm.partial)) problems.push(`${hook}: partial must name a template, e.g. "myplugin/checkout"`);
  if (typeof vm.data !== 'object' || vm.data === null || Array.isArray(vm.data)) problems.push(`${hook}: data must be an object`);
  return problems;
}

/**
 * Values stored in jsonb (payment info) or sent over the API must survive JSON unchanged:
 * no functions, undefined, class instances other than Date, NaN/Infinity, or bigint.
 */
export function jsonProblems(value: unknown, path: string): string[] {
  if (value === null || typeof value === 'string' || typeof value === 'boolean') return [];
  if (typeof value === 'number') return Number.isFinite(value) ? [] : [`${path} is not a finite number`];
  if (Array.isArray(value)) return value.flatMap((v, i) => jsonProblems(v, `${path}[${i}]`));
  if (typeof value === 'object') {
    const proto = Object.getPrototypeOf(value);
    if (proto !== Object.prototype && proto !== null) return [`${path} is a ${proto?.constructor?.name ?? 'class'} instance, not plain JSON`];
    return Object.entries(value).flatMap(([k, v]) => jsonProblems(v, `${path}.${k}`));
  }
  return [`${path} is a ${typeof value}, not JSON`];
}

function isAbsoluteUrl(value: unknown): boolean {
  if (typeof value !== 'string') return false;
  try {
    return ['http:', 'https:'].includes(new URL(value).protocol);
  } catch {
    return false;
  }
}
