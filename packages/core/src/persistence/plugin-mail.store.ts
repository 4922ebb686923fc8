import { createHash } from 'node:crypto';
import type { EntityManager } from 'typeorm';
import type { EmailTransport } from '../email/email-message.entity';
import { orderMachine } from '../order/order.machine';
import { paymentMachine } from '../payment/payment.machine';
import { orderSumsJoins, orderSumsSql } from './order-sums';
import { paymentWithOrderFrom, type EventRecord, type OrderRecord, type OrganizerRecord, type PaymentRecord } from './payment-port-rows';
import { isUuid } from './rows';

/*
 * The plugin port's buyer emails (port/payments-port.ts `openPayments`, `emailBuyer`): which open
 * payments of a provider still wait for money, and one email to the buyer per plugin-chosen key.
 */

/** An open payment of a plugin's provider on an order that awaits payment, with what a reminder needs. */
export interface OpenPaymentRecord {
  readonly payment: PaymentRecord;
  readonly order: OrderRecord;
  readonly event: EventRecord;
  readonly organizer: OrganizerRecord;
  /** The buyer's language tag ("de-AT"). */
  readonly locale: string;
  /** When core expires the order if it is still unpaid. */
  readonly expires: Date;
  /** What the order still owes (minor units): after a part-transfer, the rest. */
  readonly pendingSum: number;
}

/**
 * Open payments of `providers` on orders awaiting payment, created after `createdAfter`, oldest
 * first, after the keyset `after`. The keyset compares milliseconds: the cursor comes back as a JS
 * Date, and PostgreSQL's microseconds would otherwise hand the last row out again.
 */
export async function findOpenPaymentsOfOrders(
  m: Pick<EntityManager, 'query'>,
  q: { providers: readonly string[]; createdAfter: Date; after?: { createdAt: Date; id: string }; limit: number },
): Promise<OpenPaymentRecord[]> {
  const after = q.after && isUuid(q.after.id) ? q.after : { createdAt: new Date(0), id: '00000000-0000-0000-0000-000000000000' };
  const rows: Record<string, unknown>[] = await m.query(
    `SELECT p.id, p.order_id, p.local_id, p.provider, p.state, p.amount::text AS amount, p.currency, p.info, p.created_at,
            o.code, o.secret, o.status, o.organizer_id, o.event_id, o.email, o.total::text AS total, o.currency AS order_currency,
            o.locale AS order_locale, o.expires, (${orderSumsSql.pendingSum})::text AS pending_sum,
            e.slug AS event_slug, e.name AS event_name, e.currency AS event_currency, e.locale AS event_locale, g.slug AS organizer_slug
       FROM order_payment p JOIN kassa_order o ON o.id = p.order_id JOIN event e ON e.id = o.event_id JOIN organizer g ON g.id = o.organizer_id
            ${orderSumsJoins}
      WHERE p.provider = ANY($1::text[]) AND ${paymentMachine.sqlIn('open', 'p.state')} AND ${orderMachine.sqlIn('awaitingPayment', 'o.status')}
        AND p.created_at > $2 AND (date_trunc('milliseconds', p.created_at), p.id) > ($3::timestamptz, $4::uuid)
      ORDER BY date_trunc('milliseconds', p.created_at), p.id LIMIT $5`,
    [[...q.providers], q.createdAfter, after.createdAt, after.id, q.limit]);
  return rows.map((r) => {
    const s = (k: string) => String(r[k]);
    return {
      ...paymentWithOrderFrom(r),
      locale: s('order_locale'),
      expires: new Date(r.expires as string),
      pendingSum: Number(r.pending_sum),
    };
  });
}

/** A plugin's email to the buyer of one payment's order. */
export interface PluginBuyerEmail {
  readonly plugin: string;
  readonly providers: readonly string[];
  readonly paymentId: string;
  /** Unique per plugin: the dedup key is "plugin:<plugin>:<key>". */
  readonly key: string;
  readonly subject: string;
  readonly text: string;
  readonly transport: EmailTransport;
  readonly mailFrom: string;
}

/**
 * Writes the email in one statement, only while the payment (of one of the plugin's providers) is
 * open and its order awaits payment and has an address, and only once per dedup key (a retry, a
 * second worker, a replay write nothing). Returns the new email's id, or null when nothing was written.
 */
export async function insertPluginBuyerEmail(m: Pick<EntityManager, 'query'>, e: PluginBuyerEmail): Promise<string | null> {
  if (!isUuid(e.paymentId)) return null;
  const dedupKey = `plugin:${e.plugin}:${e.key}`;
  const domain = /@([^>\s]+)/.exec(e.mailFrom)?.[1] ?? 'kassa.invalid';
  const messageId = `<${createHash('sha256').update(dedupKey).digest('hex').slice(0, 32)}@${domain}>`;
  const rows: { id: string }[] = await m.query(
    `INSERT INTO email_message
       (dedup_key, organizer_id, order_id, cause_event_id, template, locale, recipient, subject, body_text, body_html, message_id, transport)
     SELECT $1, o.organizer_id, o.id, NULL, $2, o.locale, o.email, $3, $4, $5, $6, $7
       FROM order_payment p JOIN kassa_order o ON o.id = p.order_id
      WHERE p.id = $8 AND p.provider = ANY($9::text[]) AND ${paymentMachine.sqlIn('open', 'p.state')}
        AND ${orderMachine.sqlIn('awaitingPayment', 'o.status')} AND o.email IS NOT NULL AND o.email <> ''
     ON CONFLICT (dedup_key) DO NOTHING RETURNING id`,
    [dedupKey, `plugin:${e.plugin}`, e.subject, e.text, textToHtml(e.text), messageId, e.transport, e.paymentId, [...e.providers]]);
  return rows[0]?.id ?? null;
}

/** A plugin's email to the people who manage an organizer's settings. */
export interface PluginOrganizerEmail {
  readonly plugin: string;
  readonly organizerId: string;
  /** Unique per plugin and organizer: the dedup key is "plugin:<plugin>:org:<organizer>:<key>:<user>". */
  readonly key: string;
  readonly subject: string;
  readonly text: string;
  readonly transport: EmailTransport;
  readonly mailFrom: string;
}

/**
 * Writes the email, in one statement, to every active user in one of the organizer's teams that
 * may change its settings (admin teams and teams with organizer settings), once per user and
 * dedup key (a retry or a replayed event writes nothing new). Returns the ids written.
 */
export async function insertPluginOrganizerEmail(m: Pick<EntityManager, 'query'>, e: PluginOrganizerEmail): Promise<string[]> {
  if (!isUuid(e.organizerId)) return [];
  const dedupBase = `plugin:${e.plugin}:org:${e.organizerId}:${e.key}:`;
  const domain = /@([^>\s]+)/.exec(e.mailFrom)?.[1] ?? 'kassa.invalid';
  const rows: { id: string }[] = await m.query(
    `INSERT INTO email_message
       (dedup_key, organizer_id, order_id, cause_event_id, template, locale, recipient, subject, body_text, body_html, message_id, transport)
     SELECT $1 || u.id, $2::uuid, NULL, NULL, $3, 'en', u.email, $4, $5, $6, '<' || md5($1 || u.id) || '@' || $7 || '>', $8
       FROM app_user u
      WHERE u.is_active AND u.email <> '' AND EXISTS (
              SELECT 1 FROM team_member tm JOIN team t ON t.id = tm.team_id
               WHERE tm.user_id = u.id AND t.organizer_id = $2::uuid AND (t.is_admin OR t.can_change_organizer_settings))
     ON CONFLICT (dedup_key) DO NOTHING RETURNING id`,
    [dedupBase, e.organizerId, `plugin:${e.plugin}`, e.subject, e.text, textToHtml(e.text), domain, e.transport]);
  return rows.map((r) => r.id);
}

/** The HTML part: the text escaped, its line breaks kept. */
function textToHtml(text: string): string {
  const escaped = text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;').replace(/'/g, '&#39;');
  return `<!doctype html><html><body><p>${escaped.split(/\r?\n\r?\n/).map((p) => p.replace(/\r?\n/g, '<br>')).join('</p><p>')}</p></body></html>`;
}
