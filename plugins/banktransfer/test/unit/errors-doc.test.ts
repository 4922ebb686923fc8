import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { KassaError, errorCodes, isKassaError, loadPlugins } from '@kassa/core/host';
import { renderPluginErrorsSection } from '../../../../packages/core/scripts/errors-doc';
import { docPath } from '../../../../packages/core/scripts/generated-doc';
import { BankTransferError, bankTransferErrorCodes, bankTransferErrors, createBankTransferPlugin, isBankTransferError } from '../../src';

describe('docs/banktransfer.md error table', () => {
  it('lists every code of the catalogue with its status, and no other', () => {
    const doc = readFileSync(join(__dirname, '..', '..', '..', '..', 'docs', 'banktransfer.md'), 'utf8');
    const rows = [...doc.matchAll(/^\| `(BANKTRANSFER_[A-Z_]+)` \| (\d{3}) \|/gm)].map((m) => [m[1], Number(m[2])]);
    expect(rows).toEqual(Object.entries(bankTransferErrorCodes).map(([code, def]) => [code, def.status]));
  });
});

describe('the bank transfer plugin\'s own error codes', () => {
  it('are declared by the plugin (defineErrors), not by core, and load next to core\'s without collision', () => {
    expect(Object.keys(errorCodes).filter((c) => c.startsWith('BANKTRANSFER_'))).toEqual([]);
    expect(loadPlugins([createBankTransferPlugin()]).errors).toEqual([{ plugin: 'banktransfer', errors: bankTransferErrors }]);
  });

  it('are KassaErrors with the catalogue\'s status and message, so the server renders them like core\'s', () => {
    const err = new BankTransferError('BANKTRANSFER_TRANSACTION_CLOSED', { transaction: 't1', state: 'discarded' });
    expect(err).toBeInstanceOf(KassaError);
    expect(isKassaError(err, 'BANKTRANSFER_TRANSACTION_CLOSED') && isBankTransferError(err, 'BANKTRANSFER_TRANSACTION_CLOSED')).toBe(true);
    expect(err.toJSON()).toEqual({ code: 'BANKTRANSFER_TRANSACTION_CLOSED', message: 'Transaction t1 was already discarded: nothing was changed', params: { transaction: 't1', state: 'discarded' } });
    expect(err.status).toBe(409);
  });

  it('have their section in docs/errors.md (run `pnpm docs:errors` after changing them)', () => {
    expect(readFileSync(docPath('errors.md'), 'utf8')).toContain(renderPluginErrorsSection({ plugin: 'banktransfer', errors: bankTransferErrors }));
  });
});
