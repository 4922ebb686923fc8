import type { EntityManager } from 'typeorm';
import { isUuid } from './rows';


/** The rows of an UPDATE … RETURNING (TypeORM's pg driver answers [rows, count] for updates). */
function updatedRows<T>(result: unknown): T[] {
  const r = result as unknown[];
  return (Array.isArray(r[0]) ? r[0] : r) as T[];
}

/*
 * Customers (one per organizer and buyer e-mail) and their stored payment methods: the
 * provider's reference and display details only, never card data (docs/payment-plans.md).
 */

export interface CustomerRow {
  readonly id: string;
  readonly organizerId: string;
  readonly email: string;
  /** Each provider's own customer id, e.g. { stripe: "cus_…" }. */
  readonly providerRefs: Record<string, string>;
}

export interface StoredMethodRow {
  readonly id: string;
  readonly organizerId: string;
  readonly customerId: string;
  readonly orderId: string | null;
  readonly provider: string;
  readonly reference: string;
  readonly brand: string | null;
  readonly last4: string | null;
  readonly expMonth: number | null;
  readonly expYear: number | null;
  readonly removedAt: Date | null;
}

const methodColumns = `m.id, m.organizer_id, m.customer_id, m.order_id, m.provider, m.reference, m.brand, m.last4, m.exp_month, m.exp_year, m.removed_at`;

function methodRow(r: Record<string, unknown>): StoredMethodRow {
  return {
    id: String(r.id), organizerId: String(r.organizer_id), customerId: String(r.customer_id), orderId: (r.order_id as string | null) ?? null,
    provider: String(r.provider), reference: String(r.reference), brand: (r.brand as string | null) ?? null, last4: (r.last4 as string | null) ?? null,
    expMonth: r.exp_month === null ? null : Number(r.exp_month), expYear: r.exp_year === null ? null : Number(r.exp_year),
    removedAt: r.removed_at ? new Date(r.removed_at as string) : null,
  };
}

function customerRow(r: Record<string, unknown>): CustomerRow {
  return { id: String(r.id), organizerId: String(r.organizer_id), email: String(r.email), providerRefs: (r.provider_refs ?? {}) as Record<string, string> };
}

/** The organizer's customer for this e-mail, created on first use (one statement; concurrent calls get the same row). */
export async function upsertCustomer(m: EntityManager, organizerId: string, email: string): Promise<CustomerRow> {
  const [r]: Record<string, unknown>[] = await m.query(
    `INSERT INTO customer (organizer_id, email) VALUES ($1, lower($2))
     ON CONFLICT (organizer_id, email) DO UPDATE SET email = EXCLUDED.email
     RETURNING id, organizer_id, email, provider_refs`, [organizerId, email.trim()]);
  return customerRow(r!);
}

export async function readCustomer(m: EntityManager, customerId: string): Promise<CustomerRow | null> {
  if (!isUuid(customerId)) return null;
  const [r]: Record<string, unknown>[] = await m.query('SELECT id, organizer_id, email, provider_refs FROM customer WHERE id = $1', [customerId]);
  return r ? customerRow(r) : null;
}

/**
 * Stores the provider's customer id unless one is stored already; returns the one that holds
 * (two checkouts racing keep the first, the loser's provider customer stays unused).
 */
export async function setCustomerProviderRef(m: EntityManager, customerId: string, provider: string, reference: string): Promise<string> {
  const [r] = updatedRows<{ ref: string }>(await m.query(
    `UPDATE customer SET provider_refs = CASE WHEN provider_refs ? $2 THEN provider_refs ELSE provider_refs || jsonb_build_object($2::text, $3::text) END
      WHERE id = $1 RETURNING provider_refs ->> $2 AS ref`, [customerId, provider, reference]));
  return r?.ref ?? reference;
}

/** Saves a method (again): a known reference gets its display details refreshed and stays as it is otherwise. */
export async function insertStoredMethod(m: EntityManager, input: {
  organizerId: string; customerId: string; orderId: string | null; provider: string; reference: string;
  brand: string | null; last4: string | null; expMonth: number | null; expYear: number | null;
}): Promise<StoredMethodRow> {
  const [r]: Record<string, unknown>[] = await m.query(
    `INSERT INTO stored_payment_method AS m (organizer_id, customer_id, order_id, provider, reference, brand, last4, exp_month, exp_year)
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)
     ON CONFLICT (provider, reference) DO UPDATE SET brand = EXCLUDED.brand, last4 = EXCLUDED.last4, exp_month = EXCLUDED.exp_month,
       exp_year = EXCLUDED.exp_year, updated_at = now()
     RETURNING ${methodColumns}`,
    [input.organizerId, input.customerId, input.orderId, input.provider, input.reference, input.brand, input.last4, input.expMonth, input.expYear]);
  return methodRow(r!);
}

export async function readStoredMethod(m: EntityManager, id: string): Promise<StoredMethodRow | null> {
  if (!isUuid(id)) return null;
  const [r]: Record<string, unknown>[] = await m.query(`SELECT ${methodColumns} FROM stored_payment_method m WHERE m.id = $1`, [id]);
  return r ? methodRow(r) : null;
}

export async function readStoredMethodByReference(m: EntityManager, provider: string, reference: string): Promise<StoredMethodRow | null> {
  const [r]: Record<string, unknown>[] = await m.query(`SELECT ${methodColumns} FROM stored_payment_method m WHERE m.provider = $1 AND m.reference = $2`, [provider, reference]);
  return r ? methodRow(r) : null;
}

/** The methods not removed that were saved in this order or belong to its buyer's customer of the same organizer. */
export async function listMethodsOfOrder(m: EntityManager, orderId: string): Promise<StoredMethodRow[]> {
  if (!isUuid(orderId)) return [];
  const rows: Record<string, unknown>[] = await m.query(
    `SELECT ${methodColumns} FROM stored_payment_method m
      WHERE m.removed_at IS NULL AND (m.order_id = $1 OR m.customer_id IN (
        SELECT c.id FROM customer c JOIN kassa_order o ON o.organizer_id = c.organizer_id AND lower(o.email) = c.email WHERE o.id = $1))
      ORDER BY m.created_at, m.id`, [orderId]);
  return rows.map(methodRow);
}

/** Marks a method removed (by the buyer, or detached at the provider); false when it was already. */
export async function markMethodRemoved(m: EntityManager, id: string, now: Date): Promise<boolean> {
  const rows = updatedRows(await m.query('UPDATE stored_payment_method SET removed_at = $2, updated_at = $2 WHERE id = $1 AND removed_at IS NULL RETURNING id', [id, now]));
  return rows.length === 1;
}

/** New display details from the provider (e.g. Stripe's payment_method.automatically_updated). */
export async function updateMethodDetails(m: EntityManager, provider: string, reference: string, d: { brand?: string | null; last4?: string | null; expMonth?: number | null; expYear?: number | null }): Promise<boolean> {
  const rows = updatedRows(await m.query(
    `UPDATE stored_payment_method SET brand = coalesce($3, brand), last4 = coalesce($4, last4), exp_month = coalesce($5, exp_month),
            exp_year = coalesce($6, exp_year), updated_at = now()
      WHERE provider = $1 AND reference = $2 AND removed_at IS NULL RETURNING id`,
    [provider, reference, d.brand ?? null, d.last4 ?? null, d.expMonth ?? null, d.expYear ?? null]));
  return rows.length === 1;
}

/** Shreds the methods saved in an order: display details blanked, removed. Returns them as they were (to detach at the provider). */
export async function shredMethodsOfOrder(tx: EntityManager, orderId: string, now: Date): Promise<StoredMethodRow[]> {
  const before: Record<string, unknown>[] = await tx.query(`SELECT ${methodColumns} FROM stored_payment_method m WHERE m.order_id = $1 FOR UPDATE`, [orderId]);
  await tx.query(
    `UPDATE stored_payment_method SET brand = NULL, last4 = NULL, exp_month = NULL, exp_year = NULL, removed_at = coalesce(removed_at, $2), updated_at = $2
      WHERE order_id = $1`, [orderId, now]);
  return before.map(methodRow);
}

/** What the stored-method and plan services need of an order. */
export interface OrderOwnerRow {
  readonly id: string;
  readonly organizerId: string;
  readonly eventId: string;
  readonly code: string;
  readonly email: string | null;
}

export async function readOrderOwner(m: EntityManager, orderId: string): Promise<OrderOwnerRow | null> {
  if (!isUuid(orderId)) return null;
  const [r]: Record<string, unknown>[] = await m.query('SELECT id, organizer_id, event_id, code, email FROM kassa_order WHERE id = $1', [orderId]);
  return r ? { id: String(r.id), organizerId: String(r.organizer_id), eventId: String(r.event_id), code: String(r.code), email: (r.email as string | null) ?? null } : null;
}

/** Keeps a pending order open at least until `until` (a plan's last instalment plus its grace period). */
export async function extendOrderExpiry(tx: EntityManager, orderId: string, until: Date): Promise<void> {
  await tx.query('UPDATE kassa_order SET expires = greatest(expires, $2) WHERE id = $1', [orderId, until]);
}
