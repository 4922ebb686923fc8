import type { DataSource } from 'typeorm';
import type { Actor } from '../audit/log-action';
import type { KassaCore } from '../kassa-core';
import { orderPageUrl } from '../links/order-links';
import type { Money } from '../money/money';
import type { ConfirmResult } from '../payment/payment.service';
import {
  findOpenPayments, findOrdersInText, findRefundsInTransit, lockPaymentRow, mergePaymentInfo, readEvent, readPaymentWithOrder, readRefund, recordProviderEvent,
  type EventRecord, type OrderRecord, type PaymentRecord, type PaymentWithOrder, type RefundRecord,
} from '../persistence/payment-port-rows';
import type { OrderRefund } from '../refund/order-refund.entity';
import type { OrderPayment } from '../payment/order-payment.entity';
import { createPluginDb, managerOf, type PluginDb } from './plugin-db';
import { createStoredMethodsPort, type StoredMethodsPort } from './stored-methods-port';
import type { AppConfig } from '../config/config.schema';
import { findOpenPaymentsOfOrders, insertPluginBuyerEmail, insertPluginOrganizerEmail, type OpenPaymentRecord } from '../persistence/plugin-mail.store';

/** What a payments-port change reports: whether it changed the row, and the row afterwards. */
export interface PaymentChange {
  readonly changed: boolean;
  readonly payment: PaymentRecord;
}

/** What confirm() did to the order (core's ConfirmResult without its internals). */
export type ConfirmKind = ConfirmResult['kind'];

/** A provider event for the audit log, and optionally an outbox event (topic "<plugin>.<name>"). */
export interface ProviderEvent {
  /** Audit action, e.g. "kassa.stripe.dispute.updated". */
  readonly action: string;
  readonly data?: Record<string, unknown>;
  /** Outbox event; the topic must start with the plugin's name and a dot. */
  readonly outbox?: { readonly topic: `${string}.${string}`; readonly payload?: Record<string, unknown> };
}

/**
 * A plugin's access to core's payments and refunds. Reads return plain records; every change goes
 * through core's services (which check the state machines and write the audit log and outbox), so
 * a plugin never writes core's tables itself. Changes are made as the provider actor named after
 * the plugin. Never call these inside `withLock`'s transaction except `recordEvent` (they open their own).
 */
export interface PaymentsPort {
  /** A payment with its order's public fields, the event and the organizer; null when there is none. */
  get(paymentId: string): Promise<PaymentWithOrder | null>;
  /** An event by id (check its organizerId before acting for an organizer); null when there is none. */
  event(eventId: string): Promise<EventRecord | null>;
  /** Open payments (created or pending) of a provider carrying `infoKey` in their info, untouched for `olderThanMs`, oldest first. */
  findOpen(q: { provider: string; infoKey: string; olderThanMs: number; maxAgeMs?: number; limit?: number }): Promise<{ id: string; info: Record<string, unknown> }[]>;
  /** Merges provider data into the payment's info (a shredded payment gets no card or billing details back). */
  recordInfo(paymentId: string, patch: Record<string, unknown>): Promise<void>;
  /**
   * Runs `work` in a transaction holding the payment's row lock (NOT_FOUND when it does not
   * exist). Keep it short and free of network calls; `tx` reaches the plugin's own tables.
   */
  withLock<T>(paymentId: string, work: (tx: PluginDb) => Promise<T>): Promise<T>;
  /**
   * The organizer's orders whose code appears in one of `texts` (compared without spaces, dashes,
   * underscores and case), each with its event and what it still owes (pendingSum, minor units).
   * For matching a bank statement's references to orders; the plugin decides which code is meant.
   */
  ordersInText(organizerId: string, texts: readonly string[]): Promise<{ order: OrderRecord; event: EventRecord; pendingSum: number }[]>;
  /**
   * Money the provider already received for an order (a transfer found on a bank statement): the
   * open attempt of `provider` for exactly `amount`, else a new attempt for it, also on an order
   * that is paid, canceled or expired, since received money is never dropped (`confirm` then
   * flags the order: overpaid, payment on a closed order). `provider` must be one of this
   * plugin's providers. Confirm the returned payment afterwards.
   */
  receivedPayment(orderId: string, input: { provider: string; amount: Money }): Promise<PaymentRecord>;
  /** Confirms (also from failed or canceled: received money is never dropped); idempotent. */
  confirm(paymentId: string, opts?: { info?: Record<string, unknown> }): Promise<{ kind: ConfirmKind; payment: PaymentRecord }>;
  /** The money is on its way (created → pending); a repeat is a no-op. */
  markPending(paymentId: string, opts?: { info?: Record<string, unknown> }): Promise<PaymentRecord>;
  /** Fails an open payment; a no-op (changed: false) on a confirmed, failed or refunded one. */
  fail(paymentId: string, opts?: { info?: Record<string, unknown>; message?: string }): Promise<PaymentChange>;
  /** Lowers an open payment's amount (a partial capture) before it is confirmed; never raises it. */
  reduceOpenAmount(paymentId: string, amount: number, reason?: string): Promise<PaymentChange>;
  /** Cancels an open attempt (the provider's cancelPayment is called first). */
  cancel(paymentId: string): Promise<PaymentRecord>;
  /** Why the payment's order cannot be paid any more (paid, canceled, past its last date, …), or null. */
  payability(orderId: string): Promise<{ code: 'ORDER_NOT_PAYABLE'; reason: string } | null>;
  /** A refund of this payment by our id or by the provider's id; null when there is none. */
  refund(paymentId: string, by: { id: string } | { externalId: string }): Promise<RefundRecord | null>;
  /**
   * The organizer's refunds of `provider` that were sent but are not settled (state in transit),
   * oldest first, with their info and the order's code and event slug: for a plugin whose refunds
   * the organizer pays out by hand (a SEPA file) and then marks done.
   */
  refundsInTransit(q: { organizerId: string; provider: string; limit?: number }): Promise<{ refund: RefundRecord; info: Record<string, unknown>; orderCode: string; eventSlug: string }[]>;
  markRefundDone(refundId: string, opts?: RefundChange): Promise<RefundRecord>;
  markRefundTransit(refundId: string, opts?: RefundChange): Promise<RefundRecord>;
  markRefundFailed(refundId: string, opts?: RefundChange & { message?: string }): Promise<RefundRecord>;
  markRefundCanceled(refundId: string): Promise<RefundRecord>;
  /** Records a refund made outside Kassa (dashboard, chargeback); once per external id. */
  createExternalRefund(paymentId: string, input: { amount?: Money; externalId: string; info?: Record<string, unknown>; comment?: string }): Promise<{ refund: RefundRecord; created: boolean }>;
  /** A provider event about a payment in the audit log (and outbox); in `tx`'s transaction when given. */
  recordEvent(paymentId: string, event: ProviderEvent, tx?: PluginDb): Promise<void>;
  /** The buyer's order page of a payment read with `get`. */
  orderPageUrl(p: Pick<PaymentWithOrder, 'order' | 'event' | 'organizer'>): string;
  /** Stored payment methods and plans, for a provider with the stored-method capability (docs/payment-plans.md). */
  readonly storedMethods: StoredMethodsPort;
  /**
   * Open payments (created or pending) of this plugin's `provider` whose order awaits payment,
   * created after `createdAfter`, oldest first, with the order's language, expiry and what it
   * still owes: for a plugin's payment reminders. Page on with `after` (the last row's payment).
   */
  openPayments(q: { provider: string; createdAfter: Date; after?: { createdAt: Date; id: string }; limit?: number }): Promise<OpenPaymentRecord[]>;
  /**
   * Writes a plain-text email to the buyer of the payment's order (HTML part: the text escaped),
   * once per `key` within the plugin: a second call with the same key (a retry, a second worker)
   * writes nothing. Written only while the payment (of one of this plugin's providers) is open and
   * its order awaits payment and has an address; returns the email's id, or null when nothing was
   * written. One statement, no external call: build the text before (nothing in a transaction).
   * Delivery as for core's emails: kept for the control panel without SMTP; with SMTP, the jobs'
   * hourly sweep of unsent emails sends it.
   */
  emailBuyer(paymentId: string, email: { key: string; subject: string; text: string }): Promise<{ emailId: string } | null>;
  /**
   * Writes a plain-text email to the organizer: to each active user of its teams that may change
   * its settings, once per `key` within the plugin and organizer (a repeat writes nothing).
   * Returns how many were written. One statement, no external call; delivery as for `emailBuyer`.
   */
  emailOrganizer(organizerId: string, email: { key: string; subject: string; text: string }): Promise<{ written: number }>;
}

export interface RefundChange {
  readonly info?: Record<string, unknown>;
  readonly externalId?: string;
}

export interface PaymentsPortDeps {
  readonly dataSource: DataSource;
  readonly core: KassaCore;
  readonly baseUrl: string;
  /** SMTP_URL decides whether plugin emails are sent or only stored; MAIL_FROM their Message-ID domain. */
  readonly config?: Pick<AppConfig, 'SMTP_URL' | 'MAIL_FROM'>;
}

function paymentRecord(p: OrderPayment): PaymentRecord {
  return {
    id: p.id, orderId: p.orderId, localId: p.localId, provider: p.provider, state: p.state, amount: p.amount,
    currency: p.currency.trim(), info: p.info ?? {}, createdAt: p.createdAt,
  };
}

function refundRecord(r: OrderRefund): RefundRecord {
  return {
    id: r.id, orderId: r.orderId, paymentId: r.paymentId, provider: r.provider, state: r.state, source: r.source,
    amount: r.amount, currency: r.currency.trim(), externalId: r.externalId,
  };
}

/** The host's side: one plugin's payments port. */
export function createPaymentsPort(deps: PaymentsPortDeps, plugin: string, providerIds: readonly string[] = [], storingProvider: string | null = null): PaymentsPort {
  const actor: Actor = { type: 'provider', id: plugin };
  const m = deps.dataSource.manager;
  const { payments, refunds, orders } = deps.core;
  const base = deps.baseUrl.replace(/\/+$/, '');
  return {
    get: (paymentId) => readPaymentWithOrder(m, paymentId),
    event: (eventId) => readEvent(m, eventId),
    findOpen: (q) => findOpenPayments(m, { provider: q.provider, infoKey: q.infoKey, olderThanMs: q.olderThanMs, maxAgeMs: q.maxAgeMs ?? 30 * 86_400_000, limit: q.limit ?? 50 }),
    recordInfo: (paymentId, patch) => mergePaymentInfo(m, paymentId, patch),
    withLock: (paymentId, work) => deps.dataSource.transaction(async (tx) => {
      await lockPaymentRow(tx, paymentId);
      return work(createPluginDb(tx));
    }),
    ordersInText: (organizerId, texts) => findOrdersInText(m, organizerId, texts),
    async receivedPayment(orderId, input) {
      if (!providerIds.includes(input.provider)) throw new Error(`receivedPayment: ${input.provider} is not a provider of plugin ${plugin}`);
      return paymentRecord(await payments.createPayment(orderId, { provider: input.provider, amount: input.amount, actor, reuseOpen: true, received: true }));
    },
    async confirm(paymentId, opts = {}) {
      const r = await payments.confirmPayment(paymentId, { actor, ...(opts.info ? { info: opts.info } : {}) });
      return { kind: r.kind, payment: paymentRecord(r.payment) };
    },
    async markPending(paymentId, opts = {}) {
      return paymentRecord(await payments.pendPayment(paymentId, { actor, ...(opts.info ? { info: opts.info } : {}) }));
    },
    async fail(paymentId, opts = {}) {
      const r = await payments.failPayment(paymentId, { actor, ...opts });
      return { changed: r.changed, payment: paymentRecord(r.payment) };
    },
    async reduceOpenAmount(paymentId, amount, reason) {
      const r = await payments.reduceOpenAmount(paymentId, amount, { actor, ...(reason ? { reason } : {}) });
      return { changed: r.changed, payment: paymentRecord(r.payment) };
    },
    async cancel(paymentId) {
      return paymentRecord(await payments.cancelPayment(paymentId, actor));
    },
    async payability(orderId) {
      const r = await orders.paymentRefusal(orderId);
      return r ? { code: 'ORDER_NOT_PAYABLE', reason: r.reason } : null;
    },
    refund: (paymentId, by) => readRefund(m, paymentId, 'id' in by ? by : { provider: plugin, externalId: by.externalId }),
    refundsInTransit: (q) => findRefundsInTransit(m, { organizerId: q.organizerId, provider: q.provider, limit: q.limit ?? 500 }),
    markRefundDone: async (id, opts = {}) => refundRecord(await refunds.markRefundDone(id, { actor, ...opts })),
    markRefundTransit: async (id, opts = {}) => refundRecord(await refunds.markRefundTransit(id, { actor, ...opts })),
    markRefundFailed: async (id, opts = {}) => refundRecord(await refunds.markRefundFailed(id, { actor, ...opts })),
    markRefundCanceled: async (id) => refundRecord(await refunds.markRefundCanceled(id, actor)),
    async createExternalRefund(paymentId, input) {
      const r = await refunds.createExternalRefund(paymentId, { ...input, actor });
      return { refund: refundRecord(r.refund), created: r.created };
    },
    async recordEvent(paymentId, event, tx) {
      const topic = event.outbox?.topic;
      if (topic !== undefined && !topic.startsWith(`${plugin}.`)) throw new Error(`recordEvent: outbox topic ${topic} must start with "${plugin}."`);
      const write = (em: typeof m) => recordProviderEvent(em, {
        paymentId, action: event.action, actor, data: event.data, ...(topic ? { topic, payload: event.outbox?.payload ?? {} } : {}),
      });
      const joined = managerOf(tx);
      await (joined ? write(joined) : deps.dataSource.transaction(write));
    },
    orderPageUrl: (p) => orderPageUrl(base, { organizerSlug: p.organizer.slug, eventSlug: p.event.slug, code: p.order.code, secret: p.order.secret }),
    storedMethods: createStoredMethodsPort(deps.core, plugin, storingProvider),
    async openPayments(q) {
      if (!providerIds.includes(q.provider)) throw new Error(`openPayments: ${q.provider} is not a provider of plugin ${plugin}`);
      return findOpenPaymentsOfOrders(m, { providers: [q.provider], createdAfter: q.createdAfter, ...(q.after ? { after: q.after } : {}), limit: Math.min(q.limit ?? 200, 1000) });
    },
    async emailBuyer(paymentId, email) {
      if (!email.key || email.key.length > 200) throw new Error('emailBuyer: key must be 1 to 200 characters');
      const emailId = await insertPluginBuyerEmail(m, {
        plugin, providers: providerIds, paymentId, key: email.key, subject: email.subject.replace(/[\r\n]+/g, ' ').slice(0, 250), text: email.text,
        transport: deps.config?.SMTP_URL ? 'smtp' : 'stored', mailFrom: deps.config?.MAIL_FROM ?? 'Kassa <noreply@kassa.invalid>',
      });
      return emailId ? { emailId } : null;
    },
    async emailOrganizer(organizerId, email) {
      if (!email.key || email.key.length > 200) throw new Error('emailOrganizer: key must be 1 to 200 characters');
      const ids = await insertPluginOrganizerEmail(m, {
        plugin, organizerId, key: email.key, subject: email.subject.replace(/[\r\n]+/g, ' ').slice(0, 250), text: email.text,
        transport: deps.config?.SMTP_URL ? 'smtp' : 'stored', mailFrom: deps.config?.MAIL_FROM ?? 'Kassa <noreply@kassa.invalid>',
      });
      return { written: ids.length };
    },
  };
}
