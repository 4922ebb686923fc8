import { readFileSync } from 'node:fs';
import path from 'node:path';
import { loadPlugins } from '@kassa/core/host';
import { bundledPlugins } from '../../src/bundled-plugins';

/*
 * The instance-only settings of the distribution, every bundled plugin's: pinned here, so a new
 * one (a URL, a host, a domain, anything the operator alone decides) is a deliberate change that
 * also names it in docs/security.md, where operators and organizers read who sets what. Whether a
 * setting that looks like a destination is marked at all is refused at boot for every plugin
 * (core's settings-schemas test); this checks what the bundled plugins actually mark.
 */
const loaded = loadPlugins(bundledPlugins);
const instanceOnly = Object.fromEntries(loaded.settingsSchemas.names()
  .map((name) => [name, [...loaded.settingsSchemas.get(name).instanceOnlyKeys].sort()] as const)
  .filter(([, keys]) => keys.length > 0));

it('pins the instance-only settings of the bundled plugins', () => {
  expect(instanceOnly).toEqual({
    'payment.stripe': [
      'apiBase', 'connectAccountType', 'connectChargeModel', 'connectClientId', 'connectFees', 'connectOrganizers', 'connectRefundFeePolicy', 'connectWebhookSecrets',
      'platformPublishableKey', 'platformSecretKey', 'platformTestPublishableKey', 'platformTestSecretKey', 'stripeJsUrl', 'walletDomains',
    ].sort(),
  });
});

it('names every one of them in docs/security.md', () => {
  const doc = readFileSync(path.join(__dirname, '../../../../docs/security.md'), 'utf8');
  const section = doc.slice(doc.indexOf('## Instance-only settings'), doc.indexOf('## How webhooks are verified'));
  const missing = Object.entries(instanceOnly).flatMap(([ns, keys]) => keys.filter((k) => !section.includes(`\`${k}\``)).map((k) => `${ns}.${k}`));
  expect(missing).toEqual([]);
});
