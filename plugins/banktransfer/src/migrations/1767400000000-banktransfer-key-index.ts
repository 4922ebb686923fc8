import { defineMigration } from '@kassa/core';

/**
 * Transaction keys are looked up per organizer across all its accounts (an organizer who changed
 * the IBAN in the settings and uploads an old statement again books nothing twice); the unique
 * constraint's index leads with the account, so this one serves that lookup.
 */
export const BankTransferKeyIndex1767400000000 = defineMigration({
  name: 'BankTransferKeyIndex1767400000000',
  async up(db) {
    await db.query('CREATE INDEX banktransfer_transaction_organizer_key ON banktransfer_transaction (organizer_id, tx_key)');
  },
  async down(db) {
    await db.query('DROP INDEX banktransfer_transaction_organizer_key');
  },
});
