import { randomBytes, randomInt, randomUUID } from 'node:crypto';
import type { EntityManager } from 'typeorm';
import type { Actor } from '../audit/log-action';
import { prepared, queryPrepared, type PreparedStatement } from '../db/prepared-query';
import { withTransaction } from '../db/with-transaction';
import { KassaError } from '../errors';
import { Event } from '../event/event.entity';
import { Product } from '../event/product.entity';
import { money } from '../money/money';
import { OrderPayment } from '../payment/order-payment.entity';
import { assertAvailable } from '../provider/availability';
import { calculateProviderFee } from '../provider/provider-fee';
import type { ProviderContext } from '../provider/provider-types';
import { OrderFee } from './order-fee.entity';
import { OrderPosition } from './order-position.entity';
import { Order } from './order.entity';
import { insertPositionsWithinQuota } from './quota-check';
import type { ServiceDeps } from './service-deps';
import { columnList, hydrate, isUuid, moveOrder, movePayment, record } from './state-writes';

export interface PlaceOrderInput {
  eventId: string;
  email: string | null;
  locale?: string;
  positions: { productId: string; attendeeName?: string | null }[];
  /** The payment method chosen at checkout. Zero-total orders always get a confirmed `free` payment. */
  provider?: string;
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
}

export interface PlacedOrder {
  order: Order;
  positions: OrderPosition[];
  fees: OrderFee[];
  /** The first payment (state created), or the confirmed `free` payment of a zero-total order. */
  payment: OrderPayment | null;
}

export const FREE_PROVIDER = 'free';
const CODE_ALPHABET = 'ABCDEFGHJKLMNPQRSTUVWXYZ3456789'; // no 0/O, 1/I: codes are read out on the phone
const CODE_LENGTH = 5;
const DAY_MS = 86_400_000;

/**
 * Places an order, after pretix's _perform_order: prices come from the products (never the
 * buyer), the payment fee from the provider's settings, quota is checked under lock so it is
 * never oversold, and the order, its positions, fees and first payment are written in one
 * transaction together with the log entry and the 'order.placed' event.
 */
export async function placeOrder(deps: ServiceDeps, input: PlaceOrderInput): Promise<PlacedOrder> {
  const { event, products } = await loadCatalogue(deps, input);
  const subtotal = input.positions.reduce((s, p) => s + (products.get(p.productId) as Product).price, 0);
  const providerId = subtotal === 0 ? FREE_PROVIDER : input.provider;
  let fee = 0;
  if (providerId && subtotal > 0) {
    // Provider calls happen before the transaction: they may read settings or talk to the network.
    const provider = deps.providers.get(providerId);
    const given = input.providerContext;
    const ctx = given && given.event.id === event.id && providerId === input.provider
      ? Object.freeze({ ...given, event })
      : await deps.providerContext(event, providerId);
    const price = money(subtotal, event.currency);
    assertAvailable(provider, ctx, { total: price, now: deps.clock.now() });
    fee = calculateProviderFee(provider, ctx, price).amount;
  }
  const total = subtotal + fee;
  const actor = input.actor ?? { type: 'buyer' };
  const now = deps.clock.now();

  return withTransaction(deps.dataSource, async (tx) => {
    const { order, payment, fees } = await insertOrder(tx, {
      organizerId: event.organizerId, eventId: event.id, email: input.email, locale: input.locale ?? event.locale,
      total, currency: event.currency, testmode: input.testmode ?? false,
      expires: new Date(now.getTime() + event.paymentTermDays * DAY_MS),
    }, { providerId: providerId ?? null, fee, actor, positions: input.positions.length });
    if (payment && total === 0) await confirmFree(tx, order, payment, now, actor);
    if (input.onPlaced) await input.onPlaced(tx, order);
    // Last, so the quota lock is held only for one statement (check and positions) and the commit;
    // a refusal rolls all back. Inserting the positions is what counts them in the quota's usage.
    const rows = await insertPositionsWithinQuota(tx, order.id, input.positions.map((p) => ({
      productId: p.productId, price: (products.get(p.productId) as Product).price, attendeeName: p.attendeeName ?? null,
    })));
    const positions = rows.map((r) => hydrate(tx, OrderPosition, r)).sort((a, b) => a.positionNo - b.positionNo);
    return { order, positions, fees, payment };
  });
}

/** A zero-total order is paid at once by its `free` payment, inside the placing transaction. */
async function confirmFree(tx: EntityManager, order: Order, payment: OrderPayment, now: Date, actor: Actor): Promise<void> {
  await movePayment(tx, payment, 'confirm', { paymentDate: now });
  await record(tx, {
    order, objectType: 'payment', objectId: payment.id, action: 'kassa.order.payment.confirmed', actor,
    data: { localId: payment.localId, provider: payment.provider, amount: 0 },
    topic: 'payment.confirmed', payload: { provider: payment.provider, amount: 0, currency: order.currency },
  });
  await moveOrder(tx, order, 'pay');
  await record(tx, {
    order, objectType: 'order', objectId: order.id, action: 'kassa.order.paid', actor,
    data: { provider: payment.provider, paymentId: payment.id, date: now.toISOString(), force: false },
    topic: 'order.paid', payload: { total: 0, currency: order.currency },
  });
}

/** Validates the input and reads the event and the (active, same-event) products it names. */
async function loadCatalogue(deps: ServiceDeps, input: PlaceOrderInput): Promise<{ event: Event; products: Map<string, Product> }> {
  if (!Array.isArray(input.positions) || input.positions.length === 0) throw new KassaError('ORDER_EMPTY');
  if (input.email !== null && (typeof input.email !== 'string' || !/^[^\s@]+@[^\s@]+$/.test(input.email))) {
    throw new KassaError('VALIDATION_FAILED', { detail: `email is not an e-mail address: ${String(input.email)}` });
  }
  if (input.provider !== undefined && (typeof input.provider !== 'string' || !deps.providers.has(input.provider))) {
    throw new KassaError('PAYMENT_PROVIDER_UNKNOWN', { provider: String(input.provider) });
  }
  if (!isUuid(input.eventId)) throw new KassaError('NOT_FOUND', { entity: `Event ${input.eventId}` });
  const ids = [...new Set(input.positions.map((p) => p?.productId))];
  const m = deps.dataSource.manager;
  // The event and the wanted (active, same-event) products in one prepared statement: one row per
  // product found, or one row with null product columns when none is.
  catalogueSql ??= prepared('load_catalogue', `SELECT ${columnList(m, Event, 'e')}, ${prefixedColumns(m, Product, 'p', 'product__')}
      FROM event e LEFT JOIN product p ON p.event_id = e.id AND p.id = ANY($2::uuid[]) AND p.active
     WHERE e.id = $1`);
  const rows = await queryPrepared(m, catalogueSql, [input.eventId, ids.filter(isUuid)]);
  if (!rows[0]) throw new KassaError('NOT_FOUND', { entity: `Event ${input.eventId}` });
  const bad = ids.find((id) => !isUuid(id));
  if (bad !== undefined) throw new KassaError('ORDER_PRODUCT_UNAVAILABLE', { product: String(bad) });
  const event = hydrate(m, Event, rows[0]);
  const products = new Map<string, Product>();
  for (const row of rows) {
    if (row.product__id === null) continue;
    const product = hydrate(m, Product, Object.fromEntries(Object.entries(row).filter(([k]) => k.startsWith('product__')).map(([k, v]) => [k.slice(9), v])));
    products.set(product.id, product);
  }
  const missing = ids.find((id) => !products.has(id));
  if (missing) throw new KassaError('ORDER_PRODUCT_UNAVAILABLE', { product: missing });
  return { event, products };
}

let catalogueSql: PreparedStatement | undefined;

/** `alias.col AS prefixcol, …` for every column of the entity. */
function prefixedColumns(m: EntityManager, target: typeof Product, alias: string, prefix: string): string {
  return m.connection.getMetadata(target).columns.map((c) => `${alias}.${c.databaseName} AS ${prefix}${c.databaseName}`).join(', ');
}

type NewOrder = Pick<Order, 'organizerId' | 'eventId' | 'email' | 'locale' | 'total' | 'currency' | 'testmode' | 'expires'>;

/*
 * The order with its payment fee, its first payment (local id 1, state created) and the
 * 'kassa.order.placed' log entry and event, in one prepared statement: placeOrder runs for every
 * ticket sold, and each round trip costs CPU on both sides. Ids are made here so that the data of
 * the log entry and the event are known up front. A taken code (or secret) inserts nothing at all
 * (ON CONFLICT DO NOTHING on the order, and every other row is selected from it), and we retry.
 * The log/outbox columns are those of `record`; a change there must be mirrored here.
 */
let insertOrderSql: PreparedStatement | undefined;

function insertOrderStatement(tx: EntityManager): PreparedStatement {
  insertOrderSql ??= prepared('insert_order', `WITH o AS (
      INSERT INTO kassa_order (id, organizer_id, event_id, code, secret, email, locale, total, currency, status, expires, testmode)
      VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, 'pending', $10, $11)
      ON CONFLICT DO NOTHING
      RETURNING ${columnList(tx, Order)}),
    fee AS (
      INSERT INTO order_fee (id, order_id, fee_type, internal_type, value, description, canceled)
      SELECT $12::uuid, o.id, 'payment', $13::text, $14::bigint, '', false FROM o WHERE $14::bigint > 0
      RETURNING id),
    pay AS (
      INSERT INTO order_payment (id, order_id, local_id, state, amount, currency, provider, info, fee_id, process_initiated, payment_date)
      SELECT $15::uuid, o.id, 1, 'created', o.total, o.currency, $13::text, '{}'::jsonb, (SELECT id FROM fee), false, NULL
        FROM o WHERE $13::text IS NOT NULL
      RETURNING created_at),
    entry AS (
      INSERT INTO log_entry (organizer_id, event_id, order_id, object_type, object_id, action, actor_type, actor_id, data)
      SELECT o.organizer_id, o.event_id, o.id, 'order', o.id, 'kassa.order.placed', $16::text, $17::text, $18::jsonb FROM o),
    ev AS (
      INSERT INTO outbox_event (topic, organizer_id, order_id, payload)
      SELECT 'order.placed', o.organizer_id, o.id, $19::jsonb FROM o)
    SELECT o.*, (SELECT created_at FROM pay) AS payment_created_at FROM o`);
  return insertOrderSql;
}

/** Inserts the order (fresh short code and secret; retried on the rare collision) with its fee, first payment, log entry and event. */
async function insertOrder(
  tx: EntityManager, values: NewOrder, extra: { providerId: string | null; fee: number; actor: Actor; positions: number },
): Promise<{ order: Order; payment: OrderPayment | null; fees: OrderFee[] }> {
  const { providerId, fee, actor } = extra;
  const data = { total: values.total, currency: values.currency, positions: extra.positions, provider: providerId, fee };
  for (let attempt = 0; attempt < 10; attempt++) {
    const id = randomUUID();
    const code = newCode();
    const feeId = fee > 0 && providerId ? randomUUID() : null;
    const paymentId = providerId ? randomUUID() : null;
    const payload = { orderId: id, code, total: values.total, currency: values.currency, provider: providerId };
    const [row] = await queryPrepared(tx, insertOrderStatement(tx), [
      id, values.organizerId, values.eventId, code, randomBytes(24).toString('base64url'), values.email, values.locale, values.total,
      values.currency, values.expires, values.testmode, feeId, providerId, feeId ? fee : 0, paymentId, actor.type, actor.id ?? null,
      JSON.stringify(data), JSON.stringify(payload),
    ]);
    if (!row) continue;
    const order = hydrate(tx, Order, row);
    const fees = feeId ? [tx.create(OrderFee, { id: feeId, orderId: id, feeType: 'payment', internalType: providerId as string, value: fee, description: '', canceled: false })] : [];
    const payment = paymentId ? tx.create(OrderPayment, {
      id: paymentId, orderId: id, localId: 1, state: 'created', amount: values.total, currency: order.currency, provider: providerId as string,
      info: {}, feeId, processInitiated: false, paymentDate: null, createdAt: row.payment_created_at as Date,
    }) : null;
    return { order, payment, fees };
  }
  throw new KassaError('VALIDATION_FAILED', { detail: 'could not allocate a unique order code' });
}

function newCode(): string {
  let code = '';
  for (let i = 0; i < CODE_LENGTH; i++) code += CODE_ALPHABET[randomInt(CODE_ALPHABET.length)];
  return code;
}
