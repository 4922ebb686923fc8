import { KassaError, loadConfig, systemClock, WebhookService } from '@kassa/core/host';
import { consoleLogger, runWorker } from '@kassa/jobs';
import { bulkTaskJobs, exportFilePurgeTask } from '@kassa/server';
import { composeKassa } from './compose-kassa';
import { sessionPurgeTask } from './session-purge-task';

/**
 * The separate worker beside a server on DATABASE_URL (`pnpm worker`): the same composition as the
 * server (plugins, their migrations, settings, core's services), so plugin jobs (Stripe's webhook
 * processing, polling, sync) and order expiry run here. The embedded default needs no worker: its
 * database lives inside the server process, which runs the jobs itself.
 */
async function main(): Promise<void> {
  const config = loadConfig(process.env);
  if (!config.DATABASE_URL) {
    throw new KassaError('CONFIG_INVALID', { detail: 'the worker needs DATABASE_URL; without it `pnpm start` runs the jobs in its own process' });
  }
  const kassa = await composeKassa(config);
  try {
    await runWorker({
      dataSource: kassa.dataSource, plugins: kassa.loaded.plugins, pluginHost: kassa.pluginHost, services: kassa.core,
      providers: { providers: kassa.loaded.providers, providerContext: kassa.providerContext },
      onStop: () => kassa.close(), logger: consoleLogger,
      webhooks: { service: new WebhookService({ dataSource: kassa.dataSource, secretKey: kassa.secretKey, allowPrivateAddresses: config.KASSA_WEBHOOKS_ALLOW_PRIVATE === true }) },
      maintenance: [sessionPurgeTask(kassa.dataSource), exportFilePurgeTask(kassa.dataSource)], // TEMPORARY (issue 12, h-jobs): see session-purge-task.ts
      hostJobs: bulkTaskJobs({ dataSource: kassa.dataSource, core: kassa.core, providers: kassa.loaded.providers, clock: systemClock }),
    });
  } catch (err) {
    await kassa.close();
    throw err;
  }
}

main().catch((err: unknown) => {
  consoleLogger.error('worker failed to start', { error: err instanceof Error ? err.message : String(err) });
  process.exit(1);
});
