import { countExportRows, streamExportRows, type Clock, type DataSource, type ExportDataset, type ProviderRegistry } from '@kassa/core/host';
import type { BulkTask, BulkTaskStore } from './bulk-task.store';
import { exportColumns } from './export-columns';
import { ChunkSink, contentTypes, createRowWriter, type ExportFormat } from './export-writer';

/** What an export task's params hold (validated by the routes that create it). */
export interface ExportParams {
  dataset: ExportDataset;
  format: ExportFormat;
  /** One event, or null for all of the organizer's events. */
  eventId: string | null;
  /** The event's slug for the file name (null: all events). */
  eventSlug: string | null;
}

export interface ExportRunnerDeps {
  dataSource: DataSource;
  providers: ProviderRegistry;
  clock: Clock;
  store: BulkTaskStore;
  /** Orders per page read (and per progress update). */
  batchSize?: number;
}

/** The file name of an export: what, of which event, when (UTC date). */
export function exportFileName(p: ExportParams, now: Date): string {
  return `${p.dataset}-${p.eventSlug ?? 'all-events'}-${now.toISOString().slice(0, 10)}.${p.format}`;
}

/**
 * Runs one export task: rows a page of orders at a time (streamExportRows), into the task's stored file, with
 * the progress written after every batch. A retry starts the file over.
 */
export async function runExport(deps: ExportRunnerDeps, taskId: string): Promise<BulkTask | null> {
  const { store } = deps;
  const task = await store.start(taskId, deps.clock.now(), { dropFile: true });
  if (!task) return null;
  const p = task.params as unknown as ExportParams;
  const scope = { organizerId: task.organizerId, eventId: p.eventId };
  const total = await countExportRows(deps.dataSource, p.dataset, scope);
  await store.progress(taskId, 0, total);
  const columns = exportColumns(deps.providers)[p.dataset] as { header: string; value(row: unknown): string }[];
  const sink = new ChunkSink((seq, data) => store.writeChunk(taskId, seq, data));
  const writer = await createRowWriter(p.format, columns.map((c) => c.header), sink, p.dataset);
  let done = 0;
  for await (const batch of streamExportRows(deps.dataSource, p.dataset, scope, deps.batchSize ?? 500)) {
    await writer.writeRows(batch.map((row) => columns.map((c) => c.value(row))));
    done += batch.length;
    await store.progress(taskId, done);
  }
  await writer.end();
  await store.finish(taskId, deps.clock.now(), { fileName: exportFileName(p, task.createdAt), contentType: contentTypes[p.format], byteSize: sink.bytes });
  return store.byId(taskId);
}
