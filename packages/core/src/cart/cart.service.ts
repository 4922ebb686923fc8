import { KassaError } from '../errors';
import type { CoreDeps } from '../order/service-deps';
import { cartHolds, releaseCart, type CartLineRow } from '../persistence/cart-reservation.store';
import type { LockedQuota } from '../persistence/quota-check';
import { isUuid } from '../persistence/rows';

/** One cart line: a product of the event and how many tickets of it. */
export interface CartLine { productId: string; quantity: number }

/** A cart's reservation: what it holds and until when. */
export interface CartHold { lines: CartLine[]; expires: Date }

/**
 * What asking for a reservation came to. Refusals are values (the shop shows them and adjusts):
 * `left` says, per product asked for, how many could still be held, counting the quotas the lines
 * share (greedily, in the order of the lines).
 */
export type ReserveOutcome =
  | { ok: true; hold: CartHold }
  | { ok: false; reason: 'unavailable'; product: string }
  | { ok: false; reason: 'full'; left: ReadonlyMap<string, number> };

const MAX_LINES = 100;
const MAX_QUANTITY = 1000;

/**
 * Cart reservations after pretix: adding tickets to a cart holds them against their quotas for
 * the event's reservation time (`event.reservationMinutes`, default 30). Held tickets count as
 * unavailable for every other buyer; an expired hold counts for nobody (no job needed); placing
 * the order with the same `cartId` turns the hold into the order's quota use in the placement
 * statement itself (placement-batch.ts), so an order never takes more than it held plus what is free.
 * The cart id is the caller's (the shop keeps one per checkout); it must be a UUID and should
 * stay secret to the buyer, as anyone who knows it can release the hold.
 */
export class CartService {
  constructor(private readonly deps: Pick<CoreDeps, 'dataSource' | 'clock' | 'persistence'>) {}

  /**
   * Holds exactly `lines` for the cart (replacing what it held) from now for the event's
   * reservation time, or changes nothing and says why not. Asking again extends the hold.
   */
  async reserve(input: { eventId: string; cartId: string; lines: readonly CartLine[] }): Promise<ReserveOutcome> {
    const lines = mergedLines(input);
    const row = await this.deps.persistence.reservations.reserve(input.cartId, input.eventId, lines, this.deps.clock.now());
    if (row.ok) return { ok: true, hold: { lines, expires: row.expires } };
    if (row.reason === 'unavailable') return row;
    return { ok: false, reason: 'full', left: leftPerProduct(lines, row.quotas) };
  }

  /**
   * Holds as much of `lines` as is left (each line cut to what its quotas still have, in order),
   * e.g. for a buyer who comes back after the hold ran out. `adjusted` says whether anything was
   * cut; lines cut to nothing are dropped (an empty result holds nothing).
   */
  async reserveWhatFits(input: { eventId: string; cartId: string; lines: readonly CartLine[] }): Promise<{ hold: CartHold; adjusted: boolean }> {
    let lines = mergedLines(input);
    let adjusted = false;
    // Another buyer may take seats between the look and the hold: a few tries, each with less.
    for (let attempt = 0; attempt < 5 && lines.length > 0; attempt++) {
      const outcome = await this.reserve({ ...input, lines });
      if (outcome.ok) return { hold: outcome.hold, adjusted };
      adjusted = true;
      if (outcome.reason === 'unavailable') lines = lines.filter((l) => l.productId !== outcome.product);
      else lines = lines.map((l) => ({ ...l, quantity: Math.min(l.quantity, outcome.left.get(l.productId) ?? 0) })).filter((l) => l.quantity > 0);
    }
    await this.release(input.cartId);
    return { hold: { lines: [], expires: this.deps.clock.now() }, adjusted: true };
  }

  /** Gives the cart's tickets back at once. */
  async release(cartId: string): Promise<void> {
    if (!isUuid(cartId)) throw new KassaError('VALIDATION_FAILED', { field: 'cartId', detail: 'cartId must be a UUID' });
    await releaseCart(this.deps.dataSource.manager, cartId);
  }

  /** What the cart holds now and until when (the earliest expiry of its lines), or null when nothing. */
  async held(cartId: string): Promise<CartHold | null> {
    if (!isUuid(cartId)) return null;
    const rows = await cartHolds(this.deps.dataSource.manager, cartId, this.deps.clock.now());
    if (rows.length === 0) return null;
    return {
      lines: rows.map((r) => ({ productId: r.productId, quantity: r.quantity })),
      expires: new Date(Math.min(...rows.map((r) => new Date(r.expires).getTime()))),
    };
  }
}

/** Validates the input and merges lines of the same product. */
function mergedLines(input: { eventId: string; cartId: string; lines: readonly CartLine[] }): CartLineRow[] {
  if (!isUuid(input.cartId)) throw new KassaError('VALIDATION_FAILED', { field: 'cartId', detail: 'cartId must be a UUID' });
  if (!isUuid(input.eventId)) throw new KassaError('NOT_FOUND', { entity: `Event ${input.eventId}` });
  if (!Array.isArray(input.lines) || input.lines.length === 0) throw new KassaError('ORDER_EMPTY');
  if (input.lines.length > MAX_LINES) throw new KassaError('VALIDATION_FAILED', { field: 'lines', detail: `at most ${MAX_LINES} lines` });
  const merged = new Map<string, number>();
  for (const l of input.lines) {
    if (!isUuid(l?.productId)) throw new KassaError('ORDER_PRODUCT_UNAVAILABLE', { product: String(l?.productId) });
    if (!Number.isInteger(l.quantity) || l.quantity < 1 || l.quantity > MAX_QUANTITY) {
      throw new KassaError('VALIDATION_FAILED', { field: 'quantity', detail: `quantity must be an integer from 1 to ${MAX_QUANTITY}` });
    }
    merged.set(l.productId, (merged.get(l.productId) ?? 0) + l.quantity);
  }
  if ([...merged.values()].some((n) => n > MAX_QUANTITY)) {
    throw new KassaError('VALIDATION_FAILED', { field: 'quantity', detail: `at most ${MAX_QUANTITY} tickets of one product` });
  }
  return [...merged].map(([productId, quantity]) => ({ productId, quantity }));
}

/** How many of each line could be held, in line order, from the quotas as they were under lock. */
function leftPerProduct(lines: readonly CartLineRow[], quotas: readonly LockedQuota[]): Map<string, number> {
  const room = new Map(quotas.map((q) => [q.id, q.size === null ? Infinity : Math.max(0, q.size - q.used)]));
  const left = new Map<string, number>();
  for (const line of lines) {
    const mine = quotas.filter((q) => q.products.includes(line.productId));
    const can = Math.min(line.quantity, ...mine.map((q) => room.get(q.id) ?? 0));
    const n = mine.length === 0 ? 0 : can;
    for (const q of mine) room.set(q.id, (room.get(q.id) ?? 0) - n);
    left.set(line.productId, n);
  }
  return left;
}
