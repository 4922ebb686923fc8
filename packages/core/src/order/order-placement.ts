import { randomBytes, randomInt } from 'node:crypto';
import type { EntityManager } from 'typeorm';
import type { Actor } from '../audit/log-action';
import { withTransaction } from '../db/with-transaction';
import { KassaError } from '../errors';
import { Event } from '../event/event.entity';
import { Product } from '../event/product.entity';
import { money } from '../money/money';
import { OrderPayment } from '../payment/order-payment.entity';
import { insertPayment } from '../payment/payment.service';
import { assertAvailable } from '../provider/availability';
import { calculateProviderFee } from '../provider/provider-fee';
import { OrderFee } from './order-fee.entity';
import { OrderPosition } from './order-position.entity';
import { Order } from './order.entity';
import { reserveQuota } from './quota-check';
import type { ServiceDeps } from './service-deps';
import { hydrate, isUuid, moveOrder, movePayment, record } from './state-writes';

export interface PlaceOrderInput {
  eventId: string;
  email: string | null;
  locale?: string;
  positions: { productId: string; attendeeName?: string | null }[];
  /** The payment method chosen at checkout. Zero-total orders always get a confirmed `free` payment. */
  provider?: string;
  testmode?: boolean;
  actor?: Actor;
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
    const ctx = await deps.providerContext(event, providerId);
    const price = money(subtotal, event.currency);
    assertAvailable(provider, ctx, { total: price, now: deps.clock.now() });
    fee = calculateProviderFee(provider, ctx, price).amount;
  }
  const total = subtotal + fee;
  const actor = input.actor ?? { type: 'buyer' };
  const now = deps.clock.now();

  return withTransaction(deps.dataSource, async (tx) => {
    const order = await insertOrder(tx, {
      organizerId: event.organizerId, eventId: event.id, email: input.email, locale: input.locale ?? event.locale,
      total, currency: event.currency, status: 'pending', testmode: input.testmode ?? false,
      expires: new Date(now.getTime() + event.paymentTermDays * DAY_MS),
    });
    const positions = await tx.save(input.positions.map((p, i) => tx.create(OrderPosition, {
      orderId: order.id, productId: p.productId, positionNo: i + 1, price: (products.get(p.productId) as Product).price,
      attendeeName: p.attendeeName ?? null, canceled: false,
    })));
    const fees = fee > 0 && providerId
      ? [await tx.save(tx.create(OrderFee, { orderId: order.id, feeType: 'payment', internalType: providerId, value: fee, description: '', canceled: false }))]
      : [];
    await record(tx, {
      order, objectType: 'order', objectId: order.id, action: 'kassa.order.placed', actor,
      data: { total, currency: order.currency, positions: positions.length, provider: providerId ?? null, fee },
      topic: 'order.placed', payload: { total, currency: order.currency, provider: providerId ?? null },
    });
    const payment = providerId ? await insertPayment(tx, order, { provider: providerId, amount: total, feeId: fees[0]?.id ?? null, first: true }) : null;
    if (payment && total === 0) await confirmFree(tx, order, payment, now, actor);
    // Last, so the quota lock is held only for the count and the commit; a refusal rolls all back.
    await reserveQuota(tx, input.positions.map((p) => p.productId), order.id);
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
  const m = deps.dataSource.manager;
  const event = isUuid(input.eventId) ? await m.findOneBy(Event, { id: input.eventId }) : null;
  if (!event) throw new KassaError('NOT_FOUND', { entity: `Event ${input.eventId}` });
  const ids = [...new Set(input.positions.map((p) => p?.productId))];
  const bad = ids.find((id) => !isUuid(id));
  if (bad !== undefined) throw new KassaError('ORDER_PRODUCT_UNAVAILABLE', { product: String(bad) });
  const rows = await m.createQueryBuilder(Product, 'p').where('p.id IN (:...ids) AND p.event_id = :eventId AND p.active', { ids, eventId: event.id }).getMany();
  const products = new Map(rows.map((p) => [p.id, p]));
  const missing = ids.find((id) => !products.has(id));
  if (missing) throw new KassaError('ORDER_PRODUCT_UNAVAILABLE', { product: missing });
  return { event, products };
}

/** Inserts the order with a fresh short code and secret; retries on the (rare) code collision. */
async function insertOrder(tx: EntityManager, values: Omit<Order, 'id' | 'code' | 'secret' | 'cancellationDate' | 'shreddedAt' | 'createdAt' | 'updatedAt'>): Promise<Order> {
  for (let attempt = 0; attempt < 10; attempt++) {
    const row = { ...values, code: newCode(), secret: randomBytes(24).toString('base64url'), cancellationDate: null, shreddedAt: null };
    // ON CONFLICT DO NOTHING keeps the transaction usable when the code is taken.
    const result = await tx.createQueryBuilder().insert().into(Order).values(row).orIgnore().returning('*').execute();
    const inserted = (result.raw as Record<string, unknown>[])[0];
    if (inserted) return hydrate(tx, Order, inserted);
  }
  throw new KassaError('VALIDATION_FAILED', { detail: 'could not allocate a unique order code' });
}

function newCode(): string {
  let code = '';
  for (let i = 0; i < CODE_LENGTH; i++) code += CODE_ALPHABET[randomInt(CODE_ALPHABET.length)];
  return code;
}
