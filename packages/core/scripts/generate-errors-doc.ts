// Writes docs/errors.md from the error catalogues (`pnpm docs:errors`, or
// `TSX_TSCONFIG_PATH=tsconfig.base.json npx tsx packages/core/scripts/generate-errors-doc.ts`):
// core's, then each bundled plugin's own. With --check it only reports whether the file is stale.
import { resolve } from 'node:path';
import { renderErrorsDoc, type PluginErrors } from './errors-doc';
import { repoRoot, writeGeneratedDoc } from './generated-doc';

/** The plugins the distribution bundles, by folder; core never imports them, this dev script loads them by path. */
const bundledPluginDirs = ['plugins/stripe', 'plugins/banktransfer'];

async function bundledPluginErrors(): Promise<PluginErrors[]> {
  const out: PluginErrors[] = [];
  for (const dir of bundledPluginDirs) {
    const entry = resolve(repoRoot, dir, 'src/index.ts');
    const mod = (await import(entry)) as { default?: { name?: string; errors?: PluginErrors['errors'] } };
    const plugin = mod.default;
    if (plugin?.name && plugin.errors) out.push({ plugin: plugin.name, errors: plugin.errors });
  }
  return out;
}

void bundledPluginErrors().then((plugins) => writeGeneratedDoc('errors.md', renderErrorsDoc(undefined, undefined, plugins), process.argv.slice(2)));
