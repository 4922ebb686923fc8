import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Stored payment methods and payment plans (docs/payment-plans.md).
 * - customer: one per organizer and buyer e-mail (lower-cased); `provider_refs` holds each
 *   provider's own customer id (Stripe's cus_…), never card data.
 * - stored_payment_method: the provider's reference plus display details (brand, last four,
 *   expiry). `removed_at` marks a method the buyer removed or the provider detached; shredding
 *   the order it was saved in blanks the display details.
 * - payment_plan_settings: the organizer's per-event plan offer.
 * - payment_plan / plan_instalment: one plan per order; each instalment owns one order_payment
 *   (UNIQUE payment_id), whose id is the idempotency key of every charge of it. `lease_until`
 *   and `claimed_by` are the charge run's claim: a crashed worker's claim runs out and the next
 *   run charges again with the same key.
 */
export class PaymentPlans1767300000000 implements MigrationInterface {
  name = 'PaymentPlans1767300000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE TABLE customer (
        id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
        organizer_id uuid NOT NULL REFERENCES organizer (id) ON DELETE CASCADE,
        email text NOT NULL CHECK (email = lower(email)),
        provider_refs jsonb NOT NULL DEFAULT '{}'::jsonb,
        created_at timestamptz NOT NULL DEFAULT now(),
        UNIQUE (organizer_id, email)
      );
      CREATE TABLE stored_payment_method (
        id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
        organizer_id uuid NOT NULL REFERENCES organizer (id) ON DELETE CASCADE,
        customer_id uuid NOT NULL REFERENCES customer (id) ON DELETE CASCADE,
        order_id uuid NULL REFERENCES kassa_order (id) ON DELETE SET NULL,
        provider text NOT NULL,
        reference text NOT NULL,
        brand text NULL,
        last4 char(4) NULL CHECK (last4 ~ '^[0-9]{4}$'),
        exp_month smallint NULL CHECK (exp_month BETWEEN 1 AND 12),
        exp_year smallint NULL,
        created_at timestamptz NOT NULL DEFAULT now(),
        updated_at timestamptz NOT NULL DEFAULT now(),
        removed_at timestamptz NULL,
        UNIQUE (provider, reference)
      );
      CREATE INDEX stored_payment_method_order ON stored_payment_method (order_id);
      CREATE INDEX stored_payment_method_customer ON stored_payment_method (customer_id);
      CREATE TABLE payment_plan_settings (
        event_id uuid PRIMARY KEY REFERENCES event (id) ON DELETE CASCADE,
        enabled boolean NOT NULL DEFAULT false,
        instalments smallint NOT NULL DEFAULT 3 CHECK (instalments BETWEEN 2 AND 24),
        interval_days smallint NULL CHECK (interval_days BETWEEN 1 AND 366),
        fixed_dates jsonb NULL,
        min_total bigint NOT NULL DEFAULT 0 CHECK (min_total >= 0),
        grace_days smallint NOT NULL DEFAULT 7 CHECK (grace_days BETWEEN 0 AND 90),
        valid_if_pending boolean NOT NULL DEFAULT false,
        CHECK ((interval_days IS NULL) <> (fixed_dates IS NULL))
      );
      CREATE TABLE payment_plan (
        id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
        order_id uuid NOT NULL UNIQUE REFERENCES kassa_order (id) ON DELETE RESTRICT,
        organizer_id uuid NOT NULL REFERENCES organizer (id) ON DELETE CASCADE,
        provider text NOT NULL,
        stored_method_id uuid NULL REFERENCES stored_payment_method (id) ON DELETE SET NULL,
        state text NOT NULL,
        grace_days smallint NOT NULL,
        valid_if_pending boolean NOT NULL,
        created_at timestamptz NOT NULL DEFAULT now()
      );
      CREATE TABLE plan_instalment (
        id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
        plan_id uuid NOT NULL REFERENCES payment_plan (id) ON DELETE CASCADE,
        seq smallint NOT NULL CHECK (seq > 0),
        payment_id uuid NOT NULL UNIQUE REFERENCES order_payment (id) ON DELETE RESTRICT,
        amount bigint NOT NULL CHECK (amount > 0),
        due_at timestamptz NOT NULL,
        state text NOT NULL,
        attempt smallint NOT NULL DEFAULT 1,
        next_attempt_at timestamptz NOT NULL,
        lease_until timestamptz NULL,
        claimed_by text NULL,
        action_reason text NULL,
        action_since timestamptz NULL,
        last_error text NULL,
        UNIQUE (plan_id, seq)
      );
      CREATE INDEX plan_instalment_due ON plan_instalment (next_attempt_at);
    `);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query('DROP TABLE plan_instalment; DROP TABLE payment_plan; DROP TABLE payment_plan_settings; DROP TABLE stored_payment_method; DROP TABLE customer');
  }
}
