import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * The initial schema. Hand-written (never synchronize): foreign keys, CHECK constraints on states
 * and amounts, and the indexes the services and the expiry job rely on.
 */
export class InitialSchema1763700000000 implements MigrationInterface {
  name = 'InitialSchema1763700000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE TABLE organizer (
        id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
        slug text NOT NULL UNIQUE CHECK (slug ~ '^[a-z0-9][a-z0-9-]{0,62}$'),
        name text NOT NULL,
        created_at timestamptz NOT NULL DEFAULT now()
      );
      CREATE TABLE app_user (
        id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
        email text NOT NULL UNIQUE,
        password_hash text NOT NULL,
        name text NOT NULL DEFAULT '',
        is_active boolean NOT NULL DEFAULT true,
        created_at timestamptz NOT NULL DEFAULT now()
      );
      CREATE TABLE team (
        id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
        organizer_id uuid NOT NULL REFERENCES organizer(id) ON DELETE CASCADE,
        name text NOT NULL,
        is_admin boolean NOT NULL DEFAULT false,
        created_at timestamptz NOT NULL DEFAULT now()
      );
      CREATE TABLE team_member (
        team_id uuid NOT NULL REFERENCES team(id) ON DELETE CASCADE ON UPDATE CASCADE,
        user_id uuid NOT NULL REFERENCES app_user(id) ON DELETE CASCADE ON UPDATE CASCADE,
        PRIMARY KEY (team_id, user_id)
      );
      CREATE INDEX team_member_user ON team_member (user_id);
      CREATE TABLE api_token (
        id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
        organizer_id uuid NOT NULL REFERENCES organizer(id) ON DELETE CASCADE,
        name text NOT NULL,
        token_hash text NOT NULL UNIQUE,
        active boolean NOT NULL DEFAULT true,
        created_at timestamptz NOT NULL DEFAULT now(),
        last_used_at timestamptz
      );
      CREATE TABLE event (
        id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
        organizer_id uuid NOT NULL REFERENCES organizer(id) ON DELETE RESTRICT,
        slug text NOT NULL CHECK (slug ~ '^[a-z0-9][a-z0-9-]{0,62}$'),
        name text NOT NULL,
        currency char(3) NOT NULL,
        timezone text NOT NULL DEFAULT 'UTC',
        locale text NOT NULL DEFAULT 'en',
        payment_term_days integer NOT NULL DEFAULT 14 CHECK (payment_term_days >= 0),
        payment_term_accept_late boolean NOT NULL DEFAULT true,
        live boolean NOT NULL DEFAULT true,
        created_at timestamptz NOT NULL DEFAULT now(),
        UNIQUE (organizer_id, slug)
      );
      CREATE TABLE product (
        id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
        event_id uuid NOT NULL REFERENCES event(id) ON DELETE RESTRICT,
        name text NOT NULL,
        price bigint NOT NULL CHECK (price >= 0),
        active boolean NOT NULL DEFAULT true,
        position integer NOT NULL DEFAULT 0
      );
      CREATE INDEX product_event ON product (event_id, position);
      CREATE TABLE quota (
        id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
        event_id uuid NOT NULL REFERENCES event(id) ON DELETE RESTRICT,
        name text NOT NULL,
        size integer CHECK (size IS NULL OR size >= 0)
      );
      CREATE INDEX quota_event ON quota (event_id);
      CREATE TABLE quota_product (
        quota_id uuid NOT NULL REFERENCES quota(id) ON DELETE CASCADE ON UPDATE CASCADE,
        product_id uuid NOT NULL REFERENCES product(id) ON DELETE CASCADE ON UPDATE CASCADE,
        PRIMARY KEY (quota_id, product_id)
      );
      CREATE INDEX quota_product_product ON quota_product (product_id);
      CREATE TABLE kassa_order (
        id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
        organizer_id uuid NOT NULL REFERENCES organizer(id) ON DELETE RESTRICT,
        event_id uuid NOT NULL REFERENCES event(id) ON DELETE RESTRICT,
        code text NOT NULL,
        secret text NOT NULL UNIQUE,
        email text,
        locale text NOT NULL DEFAULT 'en',
        total bigint NOT NULL CHECK (total >= 0),
        currency char(3) NOT NULL,
        status text NOT NULL CHECK (status IN ('pending', 'paid', 'expired', 'canceled')),
        expires timestamptz NOT NULL,
        testmode boolean NOT NULL DEFAULT false,
        cancellation_date timestamptz,
        shredded_at timestamptz,
        created_at timestamptz NOT NULL DEFAULT now(),
        updated_at timestamptz NOT NULL DEFAULT now(),
        UNIQUE (event_id, code)
      );
      CREATE INDEX kassa_order_expiry ON kassa_order (expires) WHERE status = 'pending';
      CREATE INDEX kassa_order_organizer_created ON kassa_order (organizer_id, created_at DESC);
      CREATE INDEX kassa_order_email ON kassa_order (lower(email));
      CREATE TABLE order_position (
        id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
        order_id uuid NOT NULL REFERENCES kassa_order(id) ON DELETE RESTRICT,
        product_id uuid NOT NULL REFERENCES product(id) ON DELETE RESTRICT,
        position_no integer NOT NULL,
        price bigint NOT NULL CHECK (price >= 0),
        attendee_name text,
        canceled boolean NOT NULL DEFAULT false
      );
      CREATE INDEX order_position_order ON order_position (order_id);
      CREATE INDEX order_position_product_live ON order_position (product_id) WHERE NOT canceled;
      CREATE TABLE order_fee (
        id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
        order_id uuid NOT NULL REFERENCES kassa_order(id) ON DELETE RESTRICT,
        fee_type text NOT NULL CHECK (fee_type IN ('payment', 'cancellation', 'service')),
        internal_type text NOT NULL DEFAULT '',
        value bigint NOT NULL CHECK (value >= 0),
        description text NOT NULL DEFAULT '',
        canceled boolean NOT NULL DEFAULT false
      );
      CREATE INDEX order_fee_order ON order_fee (order_id);
      CREATE TABLE order_payment (
        id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
        order_id uuid NOT NULL REFERENCES kassa_order(id) ON DELETE RESTRICT,
        local_id integer NOT NULL CHECK (local_id > 0),
        state text NOT NULL CHECK (state IN ('created', 'pending', 'confirmed', 'failed', 'canceled', 'refunded')),
        amount bigint NOT NULL CHECK (amount >= 0),
        currency char(3) NOT NULL,
        provider text NOT NULL,
        info jsonb NOT NULL DEFAULT '{}'::jsonb,
        fee_id uuid REFERENCES order_fee(id) ON DELETE SET NULL,
        process_initiated boolean NOT NULL DEFAULT false,
        created_at timestamptz NOT NULL DEFAULT now(),
        payment_date timestamptz,
        UNIQUE (order_id, local_id)
      );
      CREATE INDEX order_payment_provider_state ON order_payment (provider, state);
      CREATE TABLE order_refund (
        id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
        order_id uuid NOT NULL REFERENCES kassa_order(id) ON DELETE RESTRICT,
        local_id integer NOT NULL CHECK (local_id > 0),
        state text NOT NULL CHECK (state IN ('created', 'transit', 'done', 'failed', 'canceled', 'external')),
        source text NOT NULL CHECK (source IN ('buyer', 'admin', 'external')),
        amount bigint NOT NULL CHECK (amount > 0),
        currency char(3) NOT NULL,
        provider text NOT NULL,
        payment_id uuid REFERENCES order_payment(id) ON DELETE RESTRICT,
        info jsonb NOT NULL DEFAULT '{}'::jsonb,
        comment text NOT NULL DEFAULT '',
        external_id text,
        created_at timestamptz NOT NULL DEFAULT now(),
        execution_date timestamptz,
        UNIQUE (order_id, local_id)
      );
      CREATE UNIQUE INDEX order_refund_external_id ON order_refund (provider, external_id) WHERE external_id IS NOT NULL;
      CREATE INDEX order_refund_payment ON order_refund (payment_id);
      CREATE TABLE log_entry (
        id bigserial PRIMARY KEY,
        organizer_id uuid,
        event_id uuid,
        order_id uuid,
        object_type text NOT NULL,
        object_id text NOT NULL,
        action text NOT NULL,
        actor_type text NOT NULL CHECK (actor_type IN ('system', 'user', 'api_token', 'buyer', 'provider')),
        actor_id text,
        data jsonb NOT NULL DEFAULT '{}'::jsonb,
        created_at timestamptz NOT NULL DEFAULT now()
      );
      CREATE INDEX log_entry_order ON log_entry (order_id, id);
      CREATE TABLE outbox_event (
        id bigserial PRIMARY KEY,
        topic text NOT NULL,
        organizer_id uuid,
        order_id uuid,
        payload jsonb NOT NULL DEFAULT '{}'::jsonb,
        created_at timestamptz NOT NULL DEFAULT now(),
        relayed_at timestamptz
      );
      CREATE INDEX outbox_event_unrelayed ON outbox_event (id) WHERE relayed_at IS NULL;
      CREATE TABLE setting (
        id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
        scope text NOT NULL CHECK (scope IN ('global', 'organizer', 'event')),
        scope_id text NOT NULL DEFAULT '',
        namespace text NOT NULL,
        key text NOT NULL,
        value jsonb NOT NULL,
        encrypted boolean NOT NULL DEFAULT false,
        updated_at timestamptz NOT NULL DEFAULT now(),
        UNIQUE (scope, scope_id, namespace, key)
      );
    `);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`
      DROP TABLE setting, outbox_event, log_entry, order_refund, order_payment, order_fee,
        order_position, kassa_order, quota_product, quota, product, event, api_token,
        team_member, team, app_user, organizer;
    `);
  }
}
