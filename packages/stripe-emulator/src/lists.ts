import { invalidRequest } from './errors';
import type { Params } from './params';

/** The list parameters every list endpoint accepts. */
export const LIST_PARAMS = ['limit', 'starting_after', 'ending_before', 'created'] as const;

export interface ListResult<T> {
  object: 'list';
  data: T[];
  has_more: boolean;
  url: string;
}

/**
 * Stripe-style cursor pagination over `items` (oldest first, as stored): newest first,
 * `limit` 1..100 (default 10), `starting_after` walks back in time, `ending_before` forward,
 * and `created` as an integer or `created[gt|gte|lt|lte]`.
 */
export function paginate<T extends { id: string; created: number }>(items: T[], p: Params, url: string): ListResult<T> {
  const limit = p.int('limit') ?? 10;
  if (limit < 1 || limit > 100) throw invalidRequest('This value must be between 1 and 100.', { param: 'limit' });
  let list = items;
  const created = p.raw.created;
  if (created !== undefined && created !== '') {
    if (typeof created === 'string') {
      const c = p.int('created') as number;
      list = list.filter((x) => x.created === c);
    } else {
      const range = p.obj('created', ['gt', 'gte', 'lt', 'lte']) as Params;
      const gt = range.int('gt');
      const gte = range.int('gte');
      const lt = range.int('lt');
      const lte = range.int('lte');
      list = list.filter(
        (x) => (gt === undefined || x.created > gt) && (gte === undefined || x.created >= gte) && (lt === undefined || x.created < lt) && (lte === undefined || x.created <= lte),
      );
    }
  }
  const newestFirst = [...list].reverse();
  const after = p.str('starting_after');
  const before = p.str('ending_before');
  if (after && before) throw invalidRequest('You may only specify one of these parameters: starting_after, ending_before.', { param: 'starting_after' });
  if (after) {
    const i = newestFirst.findIndex((x) => x.id === after);
    if (i === -1) throw invalidRequest(`No such object: '${after}'`, { param: 'starting_after', code: 'resource_missing' });
    const rest = newestFirst.slice(i + 1);
    return { object: 'list', data: rest.slice(0, limit), has_more: rest.length > limit, url };
  }
  if (before) {
    const i = newestFirst.findIndex((x) => x.id === before);
    if (i === -1) throw invalidRequest(`No such object: '${before}'`, { param: 'ending_before', code: 'resource_missing' });
    const newer = newestFirst.slice(0, i);
    return { object: 'list', data: newer.slice(Math.max(0, newer.length - limit)), has_more: newer.length > limit, url };
  }
  return { object: 'list', data: newestFirst.slice(0, limit), has_more: newestFirst.length > limit, url };
}
