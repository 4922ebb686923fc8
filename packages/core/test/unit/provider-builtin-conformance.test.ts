import { runProviderConformance } from '@kassa/testing';
import { FreeProvider, ManualProvider } from '../../src/host';

// The built-in providers pass the same suite a plugin author runs against theirs.

runProviderConformance(() => new ManualProvider(), {
  settings: { publicName: 'Pay at the box office', pendingInstructions: 'Cash or card at the door' },
  happyPath: { expect: 'pending' },
  validSettings: { publicName: 'Invoice', pendingInstructions: 'Pay within 14 days to IBAN DE00 …' },
  invalidSettings: [{ publicName: '' }, { pendingInstructions: 42 }, { publicName: 'Invoice', pendingInstructions: undefined }],
  shred: { info: { note: 'Paid in cash to Jane at the door', receivedBy: 'Jane Organizer' }, personalKeys: ['note', 'receivedBy'] },
});

runProviderConformance(() => new FreeProvider(), {
  amount: 0,
  happyPath: { expect: 'confirmed' },
  paths: { 'non-zero amount (refused as an outcome, not an exception)': { amount: 100, expect: 'failed' } },
  validSettings: {},
});
