import path from 'node:path';
import { definePlugin, defineRoute, type Plugin } from '@kassa/core';
import { BankTransferProvider } from './banktransfer-provider';
import { bankTransferErrors } from './errors';
import { importJob } from './import/import-job';
import { reminderJob } from './reminders/reminder-job';
import { BankTransferInit1766500000000 } from './migrations/1766500000000-banktransfer-init';
import { BankTransferKeyIndex1767400000000 } from './migrations/1767400000000-banktransfer-key-index';
import {
  handleAssign, handleDiscard, handleImportStatus, handleImportsPage, handleSaveMapping, handleUnmatched, handleUpload,
} from './routes/control-routes';
import { handleRefundCancel, handleRefundDone, handleRefundsPage, handleSepaExport } from './routes/refund-routes';

/** Folder of the plugin's Eta partials ("banktransfer/pending", "banktransfer/imports", …). */
export const bankTransferViewsDir = path.resolve(__dirname, '..', 'views');

/**
 * The bank transfer plugin as plain data: the provider, its tables, its error codes, the control
 * routes (statement upload, import status, unmatched list) and the import job. It keeps no state
 * per host. Creating it sets nothing up.
 */
export function createBankTransferPlugin(): Plugin {
  return definePlugin({
    name: 'banktransfer',
    version: '0.1.0',
    coreRange: '^0.1.0',
    description: 'Bank transfer: transfer details with an EPC QR code, statement import (CAMT.053, MT940, CSV) with automatic matching',
    providers: [BankTransferProvider],
    migrations: [BankTransferInit1766500000000, BankTransferKeyIndex1767400000000],
    errors: bankTransferErrors,
    views: bankTransferViewsDir,
    // The posts that book a transfer on an order or settle a refund carry the page's one-time key
    // (`oneTime`), so a double click or a replayed form acts once; the refund ones bind it to the
    // refund's order. The upload is not one: importing a statement twice books nothing twice.
    routes: [
      defineRoute({ method: 'GET', path: '/control/imports', kind: 'control', handler: handleImportsPage, permission: 'event.orders.view' }),
      defineRoute({ method: 'POST', path: '/control/imports', kind: 'control', handler: handleUpload, permission: 'event.orders.change' }),
      defineRoute({ method: 'GET', path: '/control/imports/:importId', kind: 'control', handler: handleImportStatus, permission: 'event.orders.view' }),
      defineRoute({ method: 'GET', path: '/control/unmatched', kind: 'control', handler: handleUnmatched, permission: 'event.orders.view' }),
      defineRoute({ method: 'POST', path: '/control/transactions/:transactionId/assign', kind: 'control', handler: handleAssign, oneTime: true, permission: 'event.orders.change' }),
      defineRoute({ method: 'POST', path: '/control/transactions/:transactionId/discard', kind: 'control', handler: handleDiscard, oneTime: true, permission: 'event.orders.change' }),
      defineRoute({ method: 'POST', path: '/control/csv-mappings', kind: 'control', handler: handleSaveMapping }),
      defineRoute({ method: 'GET', path: '/control/refunds/sepa.xml', kind: 'control', handler: handleSepaExport, permission: 'event.orders.change' }),
      defineRoute({ method: 'POST', path: '/control/refunds/:refundId/done', kind: 'control', handler: handleRefundDone, oneTime: { refundParam: 'refundId' }, permission: 'event.orders.change' }),
      defineRoute({ method: 'GET', path: '/control/refunds', kind: 'control', handler: handleRefundsPage, permission: 'event.orders.view' }),
      defineRoute({ method: 'POST', path: '/control/refunds/:refundId/cancel', kind: 'control', handler: handleRefundCancel, oneTime: { refundParam: 'refundId' }, permission: 'event.orders.change' }),
      // The same upload and status for API tokens (the organizer is the token's).
      defineRoute({ method: 'POST', path: '/api/imports', kind: 'api', handler: handleUpload, permission: 'event.orders.change' }),
      defineRoute({ method: 'GET', path: '/api/imports/:importId', kind: 'api', handler: handleImportStatus, permission: 'event.orders.view' }),
    ],
    jobs: [importJob, reminderJob],
  });
}
