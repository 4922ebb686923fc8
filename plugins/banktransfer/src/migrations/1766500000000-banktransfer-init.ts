import { defineMigration } from '@kassa/core';

/**
 * The plugin's own tables:
 * - `banktransfer_import`: one uploaded statement, its file and the job's progress (`phase`);
 * - `banktransfer_transaction`: every transaction ever imported, unique per organizer, account and
 *   transaction key (statement/idempotency.ts), so the same statement uploaded twice books nothing
 *   twice. It is also the unmatched list: `state` is matched (booked by the import), unmatched,
 *   assigned (booked by hand) or discarded (with the organizer's `reason`); `allocations` holds
 *   what to book on which order, with the payment once created, so a retried job books once;
 * - `banktransfer_csv_mapping`: the CSV column mappings, one per organizer and bank (name).
 * Organizer ids are not foreign keys: a plugin never references core's tables.
 */
export const BankTransferInit1766500000000 = defineMigration({
  name: 'BankTransferInit1766500000000',
  async up(db) {
    await db.query(`
      CREATE TABLE banktransfer_import (
        id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
        organizer_id uuid NOT NULL,
        account text NOT NULL DEFAULT '',
        format text NOT NULL CHECK (format IN ('camt053', 'mt940', 'csv')),
        file_name text,
        content text NOT NULL,
        csv_mapping jsonb,
        phase text NOT NULL DEFAULT 'queued' CHECK (phase IN ('queued', 'running', 'finished', 'aborted')),
        total integer NOT NULL DEFAULT 0,
        processed integer NOT NULL DEFAULT 0,
        booked integer NOT NULL DEFAULT 0,
        unmatched integer NOT NULL DEFAULT 0,
        already_imported integer NOT NULL DEFAULT 0,
        error text,
        created_at timestamptz NOT NULL DEFAULT now(),
        finished_at timestamptz
      )`);
    await db.query('CREATE INDEX banktransfer_import_organizer ON banktransfer_import (organizer_id, created_at DESC)');
    await db.query(`
      CREATE TABLE banktransfer_transaction (
        id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
        organizer_id uuid NOT NULL,
        account text NOT NULL DEFAULT '',
        tx_key text NOT NULL,
        import_id uuid NOT NULL REFERENCES banktransfer_import (id) ON DELETE CASCADE,
        amount bigint NOT NULL,
        currency char(3) NOT NULL,
        booking_date date NOT NULL,
        payer_name text,
        payer_iban text,
        reference text NOT NULL,
        bank_reference text,
        source text NOT NULL,
        state text NOT NULL CHECK (state IN ('matched', 'unmatched', 'assigned', 'discarded')),
        reason text,
        flags text[] NOT NULL DEFAULT '{}',
        allocations jsonb NOT NULL DEFAULT '[]',
        booked_at timestamptz,
        created_at timestamptz NOT NULL DEFAULT now(),
        resolved_at timestamptz,
        CONSTRAINT banktransfer_transaction_key UNIQUE (organizer_id, account, tx_key)
      )`);
    await db.query('CREATE INDEX banktransfer_transaction_import ON banktransfer_transaction (import_id)');
    await db.query(`CREATE INDEX banktransfer_transaction_unmatched ON banktransfer_transaction (organizer_id, created_at) WHERE state = 'unmatched'`);
    await db.query(`
      CREATE TABLE banktransfer_csv_mapping (
        organizer_id uuid NOT NULL,
        name text NOT NULL,
        mapping jsonb NOT NULL,
        updated_at timestamptz NOT NULL DEFAULT now(),
        PRIMARY KEY (organizer_id, name)
      )`);
  },
  async down(db) {
    await db.query('DROP TABLE banktransfer_csv_mapping');
    await db.query('DROP TABLE banktransfer_transaction');
    await db.query('DROP TABLE banktransfer_import');
  },
});
