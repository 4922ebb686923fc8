import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { bankTransferErrorCodes } from '../../src';

describe('docs/banktransfer.md error table', () => {
  it('lists every code of the catalogue with its status, and no other', () => {
    const doc = readFileSync(join(__dirname, '..', '..', '..', '..', 'docs', 'banktransfer.md'), 'utf8');
    const rows = [...doc.matchAll(/^\| `(BANKTRANSFER_[A-Z_]+)` \| (\d{3}) \|/gm)].map((m) => [m[1], Number(m[2])]);
    expect(rows).toEqual(Object.entries(bankTransferErrorCodes).map(([code, def]) => [code, def.status]));
  });
});
