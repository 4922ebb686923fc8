import { Column, CreateDateColumn, Entity, Index, PrimaryColumn, PrimaryGeneratedColumn } from '@kassa/core';

/**
 * A Stripe account Kassa receives webhooks from, and which settings level holds its keys, so the
 * webhook route (which knows only the account in its path) can find the signing secrets and the
 * jobs can re-fetch objects with the right key. The polling cursor lives here too.
 */
@Entity('stripe_account')
export class StripeAccount {
  /** acct_… */
  @PrimaryColumn({ type: 'text', name: 'account_id' }) accountId!: string;
  /** 'global' | 'organizer' | 'event' */
  @Column({ type: 'text' }) scope!: 'global' | 'organizer' | 'event';
  @Column({ type: 'uuid', name: 'organizer_id', nullable: true }) organizerId!: string | null;
  @Column({ type: 'uuid', name: 'event_id', nullable: true }) eventId!: string | null;
  @Column({ type: 'boolean' }) livemode!: boolean;
  @Column({ type: 'text', name: 'webhook_endpoint_id', nullable: true }) webhookEndpointId!: string | null;
  /** Polling fallback: newest event seen (id and its `created`, unix seconds). */
  @Column({ type: 'text', name: 'last_event_id', nullable: true }) lastEventId!: string | null;
  @Column({ type: 'bigint', name: 'last_event_created', nullable: true, transformer: { to: (v: number | null) => v, from: (v: string | null) => (v === null ? null : Number(v)) } })
  lastEventCreated!: number | null;
  @CreateDateColumn({ type: 'timestamptz', name: 'created_at' }) createdAt!: Date;
}

/**
 * A webhook endpoint we created at Stripe for one account, with its own signing secret (sealed
 * with the instance's key). An account's events are verified with the secrets of its own rows
 * only. The level is the one the control action ran for (an organizer sharing the instance's
 * keys creates its endpoint at its own level), which need not be the account's own level.
 */
@Entity('stripe_webhook_endpoint')
export class StripeWebhookEndpoint {
  /** we_…; `legacy_…` for a secret moved from the settings of older versions. */
  @PrimaryColumn({ type: 'text', name: 'endpoint_id' }) endpointId!: string;
  @Column({ type: 'text', name: 'account_id' }) accountId!: string;
  @Column({ type: 'text' }) scope!: 'global' | 'organizer' | 'event';
  @Column({ type: 'uuid', name: 'organizer_id', nullable: true }) organizerId!: string | null;
  @Column({ type: 'uuid', name: 'event_id', nullable: true }) eventId!: string | null;
  /** The endpoint's whsec_… signing secret, sealed (settings.sealSecret, bound to the endpoint id); null: none (retired or unknown). */
  @Column({ type: 'jsonb', nullable: true }) secret!: unknown;
  @CreateDateColumn({ type: 'timestamptz', name: 'created_at' }) createdAt!: Date;
}

/** One verified webhook event, stored before we answer 2xx; unique per (account, event id). */
@Entity('stripe_webhook_inbox')
@Index(['account', 'eventId'], { unique: true })
export class StripeWebhookInbox {
  @PrimaryGeneratedColumn('uuid') id!: string;
  @Column({ type: 'text' }) account!: string;
  @Column({ type: 'text', name: 'event_id' }) eventId!: string;
  @Column({ type: 'text' }) type!: string;
  /** data.object.id and data.object.object: the object to re-fetch. */
  @Column({ type: 'text', name: 'object_id' }) objectId!: string;
  @Column({ type: 'text', name: 'object_type' }) objectType!: string;
  /** The payment intent the object belongs to, when the payload names it (routing only, never trusted for money). */
  @Column({ type: 'text', name: 'intent_id', nullable: true }) intentId!: string | null;
  /** 'webhook' or 'poll'. */
  @Column({ type: 'text' }) source!: string;
  @Column({ type: 'jsonb' }) payload!: Record<string, unknown>;
  @CreateDateColumn({ type: 'timestamptz', name: 'received_at' }) receivedAt!: Date;
  @Column({ type: 'timestamptz', name: 'processed_at', nullable: true }) processedAt!: Date | null;
  @Column({ type: 'integer', default: 0 }) attempts!: number;
  @Column({ type: 'text', name: 'last_error', nullable: true }) lastError!: string | null;
  /** Set when processing gave up after its bounded attempts (outcome says why); the sweep skips it. */
  @Column({ type: 'timestamptz', name: 'failed_at', nullable: true }) failedAt!: Date | null;
  /** What processing concluded, for the control panel and debugging ("confirmed", "not ours", …). */
  @Column({ type: 'text', nullable: true }) outcome!: string | null;
}

/** Stripe object id (pi_, ch_, re_, du_) → our payment (and refund) row. */
@Entity('stripe_object_ref')
export class StripeObjectRef {
  @PrimaryColumn({ type: 'text', name: 'object_id' }) objectId!: string;
  @Column({ type: 'text' }) kind!: 'payment_intent' | 'charge' | 'refund' | 'dispute';
  @Column({ type: 'text' }) account!: string;
  @Column({ type: 'uuid', name: 'payment_id' }) paymentId!: string;
  @Column({ type: 'uuid', name: 'refund_id', nullable: true }) refundId!: string | null;
  @CreateDateColumn({ type: 'timestamptz', name: 'created_at' }) createdAt!: Date;
}

/**
 * A dispute as last re-fetched from Stripe, and the money effect booked for it. The effect is
 * keyed by the dispute id, so five events about one dispute book at most one external refund,
 * and reinstated funds cancel that refund; never both.
 */
@Entity('stripe_dispute')
export class StripeDispute {
  @PrimaryColumn({ type: 'text', name: 'dispute_id' }) disputeId!: string;
  @Column({ type: 'uuid', name: 'payment_id' }) paymentId!: string;
  @Column({ type: 'text' }) status!: string;
  @Column({ type: 'text' }) reason!: string;
  /** Stripe's amount, converted to our minor units. */
  @Column({ type: 'bigint', transformer: { to: (v: number) => v, from: (v: string) => Number(v) } }) amount!: number;
  @Column({ type: 'char', length: 3 }) currency!: string;
  @Column({ type: 'timestamptz', name: 'due_by', nullable: true }) dueBy!: Date | null;
  /** Our external refund booked when funds were withdrawn (kept when reinstated, then canceled). */
  @Column({ type: 'uuid', name: 'refund_id', nullable: true }) refundId!: string | null;
  @Column({ type: 'boolean', name: 'funds_withdrawn', default: false }) fundsWithdrawn!: boolean;
  @Column({ type: 'boolean', name: 'funds_reinstated', default: false }) fundsReinstated!: boolean;
  /** Last status the organizer was notified about (one outbox event per status change). */
  @Column({ type: 'text', name: 'notified_status', nullable: true }) notifiedStatus!: string | null;
  @CreateDateColumn({ type: 'timestamptz', name: 'created_at' }) createdAt!: Date;
}

/**
 * The per-payment processing lock: a lease row taken by compare-and-set. Core's services open
 * their own transactions, so a row lock held across them would deadlock (and on the embedded
 * database, stall every connection); a short lease serialises the fetch-and-apply instead.
 */
@Entity('stripe_payment_lock')
export class StripePaymentLock {
  @PrimaryColumn({ type: 'uuid', name: 'payment_id' }) paymentId!: string;
  @Column({ type: 'text' }) holder!: string;
  @Column({ type: 'timestamptz', name: 'expires_at' }) expiresAt!: Date;
}

export const stripeEntities = [StripeAccount, StripeWebhookEndpoint, StripeWebhookInbox, StripeObjectRef, StripeDispute, StripePaymentLock];
