import { randomBytes, randomInt, randomUUID } from 'node:crypto';
import type { EntityManager } from 'typeorm';
import type { Actor } from '../audit/log-action';
import { KassaError } from '../errors';
import type { Product } from '../event/product.entity';
import { exactSum, money } from '../money/money';
import { reserveExecution } from '../payment/execution-reservation';
import type { OrderPayment } from '../payment/order-payment.entity';
import { paymentMachine } from '../payment/payment.machine';
import type { Catalogue } from '../persistence/catalogue-cache';
import { findPlacedByIdempotencyKey, idempotencyKeyTaken, insertOrderRows, readCatalogue } from '../persistence/order-insert';
import type { OrderRows } from '../persistence/placement-batch';
import { hydrate, isUuid } from '../persistence/rows';
import { changeOrder, changePayment } from '../persistence/state-change';
import { withTransaction } from '../persistence/transaction';
import { assertAvailable } from '../provider/availability';
import { calculateProviderFee } from '../provider/provider-fee';
import type { ProviderContext } from '../provider/provider-types';
import type { OrderFee } from './order-fee.entity';
import { OrderPosition } from './order-position.entity';
import type { Order } from './order.entity';
import { lastDatePassed, newPaymentDeadline } from './order-payability';
import { insertPositionsWithinQuota, type NewPosition } from '../persistence/quota-check';
import type { CoreDeps } from './service-deps';

export interface PlaceOrderInput {
  eventId: string;
  email: string | null;
  locale?: string;
  positions: { productId: string; attendeeName?: string | null }[];
  /** The payment method chosen at checkout. Zero-total orders always get a confirmed `free` payment. */
  provider?: string;
  /**
   * The buyer's country (ISO 3166-1 alpha-2), when it was asked: a method restricted to some
   * countries is only allowed for a buyer in one of them. Stored on the order.
   */
  country?: string | null;
  testmode?: boolean;
  actor?: Actor;
  /**
   * The provider context the caller already built for this event and `provider` (the shop checks
   * the method's availability with it just before), to save reading the settings again. Its
   * settings are used; its event is replaced by the one read here.
   */
  providerContext?: ProviderContext;
  /**
   * Runs inside the placing transaction once the order row exists (before the quota check), so
   * whatever it writes commits if and only if the order does: e.g. an idempotency ledger binding
   * its token to the order, with no window in which the order exists unbound.
   */
  onPlaced?: (tx: EntityManager, order: Order) => Promise<void>;
  /**
   * Makes the call idempotent per event: when an order of this event already carries the key,
   * nothing is placed and that order is returned with `replayed: true` (also when the first call
   * is still committing: its insert decides). 1 to 200 characters; the shop uses its confirm-form
   * token, an API client its Idempotency-Key.
   */
  idempotencyKey?: string;
  /**
   * The caller executes the first payment right away (executePayment with the returned payment
   * object as `loaded.payment`): it is written already initiated, which saves executePayment its
   * initiate statement. Only the returned object carries that right, once (payment/execution-reservation.ts).
   */
  startPayment?: boolean;
  /**
   * The buyer's cart (CartService): its unexpired hold becomes this order's quota use in the
   * placing statement, and is gone once the order is placed. Without it (or after the hold ran out)
   * the order takes only what is free: seats held in other carts are never sold.
   */
  cartId?: string;
}

export interface PlacedOrder {
  order: Order;
  positions: OrderPosition[];
  fees: OrderFee[];
  /** The first payment (state created), or the confirmed `free` payment of a zero-total order. */
  payment: OrderPayment | null;
  /** True when the idempotency key named an existing order: nothing was placed, this is that order. */
  replayed: boolean;
}

export const FREE_PROVIDER = 'free';
const CODE_ALPHABET = 'ABCDEFGHJKLMNPQRSTUVWXYZ3456789'; // no 0/O, 1/I: codes are read out on the phone
const CODE_LENGTH = 5;

/**
 * Places an order, after pretix's _perform_order: prices come from the products (never the
 * buyer), the payment fee from the provider's settings, quota is checked under lock so it is
 * never oversold, and the order, its positions, fees and first payment are written at once
 * together with the log entry and the 'order.placed' event: by one self-committing statement
 * shared with the orders of the event queued meanwhile (placement-batch.ts), or, for free
 * orders and `onPlaced` callers, in one transaction.
 */
export async function placeOrder(deps: CoreDeps, input: PlaceOrderInput): Promise<PlacedOrder> {
  validateInput(deps, input);
  const key = idempotencyKeyOf(input);
  const actor = input.actor ?? { type: 'buyer' };
  const cache = deps.persistence.catalogue;
  const wanted = [...new Set(input.positions.map((p) => p.productId))];
  let catalogue = cache.get(input.eventId, wanted);
  const fromCache = catalogue !== null;
  catalogue ??= await loadCatalogue(deps, input);
  // A last date of payments seen in a cached event may have moved since: refuse only on a fresh read.
  if (fromCache && lastDatePassed(catalogue.event, deps.clock.now())) catalogue = await loadCatalogue(deps, input);
  let priced = await priceOrder(deps, input, catalogue);
  const cartId = input.cartId ?? null;
  const extra = (p: PricedOrder) => ({
    providerId: p.providerId, fee: p.fee, actor, positions: input.positions.length, key, startPayment: input.startPayment === true, cartId,
  });

  if (priced.values.total > 0 && !input.onPlaced) {
    // The common case: one statement that commits by itself, shared with the orders of the event
    // queued meanwhile (placement-batch.ts), priced from the cached catalogue, which the statement
    // checks against the tables.
    for (let attempt = 0; attempt < 10; attempt++) {
      const placed = await deps.persistence.placements.place(orderRows(priced.values, extra(priced), priced.positions), catalogue.event);
      if (placed.kind === 'placed') {
        cache.put(catalogue);
        return withReservation({ ...placed, replayed: false }, input.startPayment === true);
      }
      if (placed.kind === 'stale') {
        // A price, a product or the event changed since it was cached: read afresh and price again.
        cache.drop(input.eventId);
        catalogue = await loadCatalogue(deps, input);
        priced = await priceOrder(deps, input, catalogue);
        if (priced.values.total === 0) break; // now free: the transactional path below
        continue;
      }
      // Nothing was written: the key names an order already, or the random code was taken.
      const existing = key ? await findPlacedByIdempotencyKey(deps.dataSource.manager, input.eventId, key) : null;
      if (existing) return existing;
    }
    if (priced.values.total > 0) throw new KassaError('VALIDATION_FAILED', { detail: 'could not allocate a unique order code' });
  }

  // Free orders and callers with onPlaced: one transaction, priced from a catalogue read just now.
  if (fromCache) {
    catalogue = await loadCatalogue(deps, input);
    priced = await priceOrder(deps, input, catalogue);
  }
  const { values, positions: newPositions } = priced;
  const total = values.total;
  const now = deps.clock.now();
  const placed = await withTransaction(deps.dataSource, async (tx): Promise<PlacedOrder | null> => {
    const inserted = await insertOrder(tx, values, extra(priced));
    if (!inserted) return null; // the idempotency key is taken: answered below, outside this transaction
    const { order, payment, fees } = inserted;
    if (payment && total === 0) await confirmFree(tx, order, payment, now, actor);
    if (input.onPlaced) await input.onPlaced(tx, order);
    // Last, so the quota lock is held only for one statement (check and positions) and the commit;
    // a refusal rolls all back. Inserting the positions is what counts them in the quota's usage.
    const rows = await insertPositionsWithinQuota(tx, order.id, newPositions, { now, cartId });
    const positions = rows.map((r) => hydrate(tx, OrderPosition, r)).sort((a, b) => a.positionNo - b.positionNo);
    return { order, positions, fees, payment, replayed: false };
  });
  if (placed) return withReservation(placed, input.startPayment === true);
  const existing = await findPlacedByIdempotencyKey(deps.dataSource.manager, input.eventId, key as string);
  if (!existing) throw new KassaError('VALIDATION_FAILED', { detail: 'the idempotency key was taken, but no order carries it' });
  return existing;
}

/** Validates the optional idempotency key. */
function idempotencyKeyOf(input: PlaceOrderInput): string | null {
  const key = input.idempotencyKey;
  if (key === undefined) return null;
  if (typeof key !== 'string' || key.length === 0 || key.length > 200) {
    throw new KassaError('VALIDATION_FAILED', { detail: 'idempotencyKey must be a string of 1 to 200 characters' });
  }
  return key;
}

function withReservation(placed: PlacedOrder, startPayment: boolean): PlacedOrder {
  if (startPayment && placed.payment && paymentMachine.is('executable', placed.payment.state)) reserveExecution(placed.payment);
  return placed;
}

type PlacementExtra = {
  providerId: string | null; fee: number; actor: Actor; positions: number; key: string | null; startPayment: boolean; cartId: string | null;
};

/** The rows of a new order, with fresh ids, code and secret (a retry after a taken code calls it again). */
function orderRows(values: NewOrder, extra: PlacementExtra, positions: NewPosition[]): OrderRows {
  const { providerId, fee } = extra;
  const id = randomUUID();
  const code = newCode();
  const feeId = fee > 0 && providerId ? randomUUID() : null;
  return {
    ...values, id, code, secret: randomBytes(24).toString('base64url'), idempotencyKey: extra.key,
    feeId, fee, providerId, paymentId: providerId ? randomUUID() : null, paymentInitiated: extra.startPayment && providerId !== null,
    actor: extra.actor, positions, cartId: extra.cartId,
    logData: { total: values.total, currency: values.currency, positions: extra.positions, provider: providerId, fee },
    eventPayload: { orderId: id, code, total: values.total, currency: values.currency, provider: providerId },
  };
}

/** A zero-total order is paid at once by its `free` payment, inside the placing transaction. */
async function confirmFree(tx: EntityManager, order: Order, payment: OrderPayment, now: Date, actor: Actor): Promise<void> {
  await changePayment(tx, order, payment, 'confirm', {
    actor, data: { localId: payment.localId, provider: payment.provider, amount: 0 },
    payload: { provider: payment.provider, amount: 0, currency: order.currency },
  }, { paymentDate: now });
  await changeOrder(tx, order, 'pay', {
    actor, data: { provider: payment.provider, paymentId: payment.id, date: now.toISOString(), force: false },
    payload: { total: 0, currency: order.currency },
  });
}

interface PricedOrder {
  values: NewOrder;
  positions: NewPosition[];
  providerId: string | null;
  fee: number;
}

/**
 * Prices the order from the catalogue: the products' prices (never the buyer's), the provider's
 * fee from its settings, and the expiry from the event's payment term.
 */
async function priceOrder(deps: CoreDeps, input: PlaceOrderInput, { event, products }: Catalogue): Promise<PricedOrder> {
  const missing = input.positions.find((p) => !products.has(p.productId));
  if (missing) throw new KassaError('ORDER_PRODUCT_UNAVAILABLE', { product: missing.productId });
  // Checked at every step: a sum past the safe-integer range would be rounded, committed and then
  // refused by every reader of the order (the organizer's list first).
  let subtotal = 0;
  for (const p of input.positions) {
    const next = exactSum(subtotal, (products.get(p.productId) as Product).price);
    if (next === null) throw tooLarge(`${input.positions.length} positions`);
    subtotal = next;
  }
  // An order to be paid after the last date of payments could never end up paid (order-payability.ts).
  if (subtotal > 0 && lastDatePassed(event, deps.clock.now())) {
    throw new KassaError('ORDER_NOT_PAYABLE', { code: 'new order', reason: 'the last date of payments has passed' });
  }
  const providerId = subtotal === 0 ? FREE_PROVIDER : input.provider;
  let fee = 0;
  if (providerId && subtotal > 0) {
    // Provider calls happen before the statement: they may read settings or talk to the network.
    const provider = deps.providers.get(providerId);
    const given = input.providerContext;
    const ctx = given && given.event.id === event.id && providerId === input.provider
      ? Object.freeze({ ...given, event })
      : await deps.providerContext(event, providerId);
    const price = money(subtotal, event.currency);
    assertAvailable(provider, ctx, { total: price, now: deps.clock.now(), country: input.country ?? undefined });
    fee = calculateProviderFee(provider, ctx, price).amount;
  }
  const total = exactSum(subtotal, fee);
  if (total === null) throw tooLarge(`the positions plus the payment fee of ${fee}`);
  const now = deps.clock.now();
  return {
    values: {
      organizerId: event.organizerId, eventId: event.id, email: input.email, locale: input.locale ?? event.locale,
      total, currency: event.currency, testmode: input.testmode ?? false, country: input.country ?? null,
      expires: newPaymentDeadline(event, now),
    },
    positions: input.positions.map((p) => ({
      productId: p.productId, price: (products.get(p.productId) as Product).price, attendeeName: p.attendeeName ?? null,
    })),
    providerId: providerId ?? null,
    fee,
  };
}

function tooLarge(what: string): KassaError {
  return new KassaError('ORDER_TOTAL_TOO_LARGE', { field: 'positions', max: Number.MAX_SAFE_INTEGER, detail: `${what} add up to more` });
}

/** Refuses malformed input before anything is read. */
function validateInput(deps: CoreDeps, input: PlaceOrderInput): void {
  if (!Array.isArray(input.positions) || input.positions.length === 0) throw new KassaError('ORDER_EMPTY');
  if (input.email !== null && (typeof input.email !== 'string' || !/^[^\s@]+@[^\s@]+$/.test(input.email))) {
    throw new KassaError('VALIDATION_FAILED', { detail: `email is not an e-mail address: ${String(input.email)}` });
  }
  if (input.provider !== undefined && (typeof input.provider !== 'string' || !deps.providers.has(input.provider))) {
    throw new KassaError('PAYMENT_PROVIDER_UNKNOWN', { provider: String(input.provider) });
  }
  if (!isUuid(input.eventId)) throw new KassaError('NOT_FOUND', { entity: `Event ${input.eventId}` });
  if (input.cartId !== undefined && !isUuid(input.cartId)) throw new KassaError('VALIDATION_FAILED', { field: 'cartId', detail: 'cartId must be a UUID' });
  if (input.country !== undefined && input.country !== null) {
    if (typeof input.country !== 'string' || !/^[A-Z]{2}$/.test(input.country)) {
      throw new KassaError('VALIDATION_FAILED', { field: 'country', detail: `country must be an upper-case ISO 3166-1 alpha-2 code, got ${String(input.country)}` });
    }
  }
  const bad = input.positions.map((p) => p?.productId).find((id) => !isUuid(id));
  if (bad !== undefined) throw new KassaError('ORDER_PRODUCT_UNAVAILABLE', { product: String(bad) });
}

/** Reads the event and the (active, same-event) products the input names, and caches them. */
async function loadCatalogue(deps: CoreDeps, input: PlaceOrderInput): Promise<Catalogue> {
  const ids = [...new Set(input.positions.map((p) => p.productId))];
  const catalogue = await readCatalogue(deps.dataSource.manager, input.eventId, ids);
  const missing = ids.find((id) => !catalogue.products.has(id));
  if (missing) throw new KassaError('ORDER_PRODUCT_UNAVAILABLE', { product: missing });
  deps.persistence.catalogue.put(catalogue);
  return catalogue;
}



type NewOrder = Pick<Order, 'organizerId' | 'eventId' | 'email' | 'locale' | 'total' | 'currency' | 'testmode' | 'expires' | 'country'>;

/**
 * Inserts the order (fresh short code and secret; retried on the rare taken code) with its fee,
 * first payment, log entry and event. Null when the idempotency key is taken (nothing written).
 */
async function insertOrder(
  tx: EntityManager, values: NewOrder, extra: PlacementExtra,
): Promise<{ order: Order; payment: OrderPayment | null; fees: OrderFee[] } | null> {
  for (let attempt = 0; attempt < 10; attempt++) {
    const r = orderRows(values, extra, []);
    const inserted = await insertOrderRows(tx, r);
    if (inserted) return inserted;
    // ON CONFLICT waited for any concurrent holder of the key, so this read sees it if it exists.
    if (r.idempotencyKey && await idempotencyKeyTaken(tx, r.eventId, r.idempotencyKey)) return null;
  }
  throw new KassaError('VALIDATION_FAILED', { detail: 'could not allocate a unique order code' });
}

function newCode(): string {
  let code = '';
  for (let i = 0; i < CODE_LENGTH; i++) code += CODE_ALPHABET[randomInt(CODE_ALPHABET.length)];
  return code;
}
