import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { Browser } from 'playwright-core';
import { organizerSettings, parseConfig } from '@kassa/core/host';
import { silentLogger } from '@kassa/jobs';
import { createTestDatabase, type TestDatabase, launchChromium } from '@kassa/testing';
import { startKassa, type RunningKassa } from '../../src/start-kassa';
import { checkoutToConfirm } from '../support/browser-checkout';

/*
 * Bank transfer end to end, as `pnpm start` wires it (server, in-process jobs worker, demo seed):
 * a buyer in Chromium chooses bank transfer and sees the transfer details; the organizer uploads
 * the bank statement in the control panel; the worker's import job matches the transfer and the
 * order turns paid.
 */
let db: TestDatabase;
let kassa: RunningKassa;
let browser: Browser;
const dataDir = mkdtempSync(path.join(tmpdir(), 'kassa-e2e-bank-'));

beforeAll(async () => {
  db = await createTestDatabase({ poolSize: 2 });
  const config = parseConfig({
    DATABASE_URL: db.url, KASSA_DB_SCHEMA: db.schema, KASSA_JOBS_SCHEMA: `${db.schema}_jobs`, HOST: '127.0.0.1', PORT: 0,
    KASSA_DATA_DIR: dataDir, KASSA_SECRET_KEY: randomBytes(32).toString('hex'), LOG_LEVEL: 'silent',
  });
  kassa = await startKassa(config, { inProcessJobs: true, embeddedDefaults: true, passwordLogN: 10, jobsLogger: silentLogger });
  // The organizer enables bank transfer (disabled by default, like every provider).
  const [org] = await db.dataSource.query(`SELECT id FROM "${db.schema}".organizer WHERE slug = 'demo'`);
  await kassa.kassa.settings.set(organizerSettings(org.id), 'payment.banktransfer', {
    _enabled: true, accountHolder: 'Demo Events', iban: 'DE89370400440532013000', bic: 'COBADEFFXXX', showQrCode: true,
  });
  browser = await launchChromium();
}, 60_000);

afterAll(async () => {
  await browser?.close();
  await kassa?.close();
  await kassa?.jobs.destroyBackend();
  await db?.destroy();
  rmSync(dataDir, { recursive: true, force: true });
});

/** A one-line CAMT.053 statement: a credit with the buyer's reference. */
function statement(reference: string, amount: string): string {
  return `<?xml version="1.0" encoding="UTF-8"?>
<Document xmlns="urn:iso:std:iso:20022:tech:xsd:camt.053.001.02"><BkToCstmrStmt><GrpHdr><MsgId>e2e</MsgId><CreDtTm>2026-12-07T09:00:00</CreDtTm></GrpHdr>
<Stmt><Id>1</Id><Acct><Id><IBAN>DE89370400440532013000</IBAN></Id></Acct>
<Ntry><Amt Ccy="EUR">${amount}</Amt><CdtDbtInd>CRDT</CdtDbtInd><Sts>BOOK</Sts><BookgDt><Dt>2026-12-07</Dt></BookgDt><AcctSvcrRef>e2e-1</AcctSvcrRef>
<NtryDtls><TxDtls><RltdPties><Dbtr><Nm>Ada Lovelace</Nm></Dbtr><DbtrAcct><Id><IBAN>DE02120300000000202051</IBAN></Id></DbtrAcct></RltdPties>
<RmtInf><Ustrd>Tickets ${reference}</Ustrd></RmtInf></TxDtls></NtryDtls></Ntry>
</Stmt></BkToCstmrStmt></Document>`;
}

it('buyer chooses bank transfer, organizer uploads the statement, the order turns paid', async () => {
  const page = await checkoutToConfirm(browser, `${kassa.url}${kassa.eventPath}`, 'banktransfer');
  await page.getByTestId('place-order').click();
  await page.waitForURL(/\/order\/[A-Z0-9]+\/[^/]+\/$/);
  const orderUrl = page.url();
  const reference = (await page.locator('.banktransfer-reference').textContent())!.trim();
  const amount = (await page.locator('.banktransfer-amount').textContent())!.replace(/[^0-9.]/g, '');
  expect(reference).toMatch(/^SUMMER-FEST-[A-Z0-9]+$/);
  expect(await page.locator('.banktransfer-qr svg').count()).toBe(1);
  expect(await page.getByTestId('order-status').textContent()).not.toContain('Paid');

  const control = await browser.newPage();
  control.setDefaultTimeout(20_000);
  await control.goto(`${kassa.url}/control/login`);
  await control.fill('#email', kassa.login!.email);
  await control.fill('#password', kassa.login!.password);
  await control.getByRole('button', { name: /log in/i }).click();
  await control.waitForURL(/\/control$/);
  await control.goto(`${kassa.url}/plugins/banktransfer/control/imports`);
  await control.setInputFiles('#banktransfer-file', { name: 'december.xml', mimeType: 'application/xml', buffer: Buffer.from(statement(reference, amount)) });
  await control.waitForFunction(() => (document.getElementById('banktransfer-statement') as HTMLTextAreaElement).value.includes('BkToCstmrStmt'));
  await control.getByRole('button', { name: 'Import' }).click();
  await control.waitForURL(/\/plugins\/banktransfer\/control\/imports\/[0-9a-f-]{36}$/);

  // The worker runs the import job; the page shows its progress until it is finished.
  for (let i = 0; i < 100; i++) {
    await control.reload();
    if ((await control.locator('.banktransfer-phase').textContent()) === 'finished') break;
    await new Promise((r) => setTimeout(r, 200));
  }
  expect(await control.locator('.banktransfer-phase').textContent()).toBe('finished');
  expect(await control.locator('.banktransfer-booked').textContent()).toBe('1');

  await page.goto(orderUrl);
  expect(await page.getByTestId('order-status').textContent()).toContain('Paid');
  await control.close();
  await page.close();
}, 90_000);
