import { existsSync, readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';

/*
 * The guides' screenshots (docs/*.md → docs/images/*.png, written by `pnpm screenshots` and
 * packages/app/scripts/screenshots-*.ts): every image a page shows exists, so a renamed or missing
 * screenshot fails here rather than as a broken image in the docs.
 */
const docs = path.resolve(__dirname, '../../../../docs');

it('every image the docs reference exists', () => {
  const refs = readdirSync(docs).filter((f) => f.endsWith('.md')).flatMap((file) =>
    [...readFileSync(path.join(docs, file), 'utf8').matchAll(/!\[[^\]]*\]\((images\/[^)\s]+)\)/g)].map((m) => ({ file, image: m[1]! })));
  expect(refs.length).toBeGreaterThan(20);
  expect(refs.filter((r) => !existsSync(path.join(docs, r.image)))).toEqual([]);
  // The organizer guide and the operations guide show the issue-18 pages.
  const images = new Set(refs.map((r) => r.image));
  for (const image of ['images/control-team.png', 'images/control-dashboard-chart.png', 'images/control-exports.png', 'images/control-webhook.png', 'images/control-api-tokens.png', 'images/admin-organizers.png']) {
    expect(images).toContain(image);
  }
});
