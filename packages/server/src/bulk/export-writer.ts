import { Writable } from 'node:stream';
import { stringify } from 'csv-stringify/sync';

export type ExportFormat = 'csv' | 'xlsx';
export const exportFormats: readonly ExportFormat[] = ['csv', 'xlsx'];

export const contentTypes: Record<ExportFormat, string> = {
  csv: 'text/csv; charset=utf-8',
  xlsx: 'application/vnd.openxmlformats-officedocument.spreadsheetml.sheet',
};

/** Chunks of the stored file: big enough for few rows, small enough that one in memory does not matter. */
const CHUNK_BYTES = 256 * 1024;

/**
 * A writable that stores what it is given as numbered chunks (bulk_task_chunk). Its write callback
 * runs only after a full chunk is stored, so a faster producer (the xlsx zip) waits for the
 * database instead of piling bytes up in memory.
 */
export class ChunkSink extends Writable {
  private parts: Buffer[] = [];
  private buffered = 0;
  private seq = 0;
  /** Bytes written in all, once finished. */
  bytes = 0;

  constructor(private readonly store: (seq: number, data: Buffer) => Promise<void>) {
    super({ highWaterMark: CHUNK_BYTES });
  }

  override _write(chunk: Buffer, _enc: BufferEncoding, cb: (err?: Error | null) => void): void {
    this.parts.push(chunk);
    this.buffered += chunk.length;
    this.bytes += chunk.length;
    if (this.buffered < CHUNK_BYTES) return cb();
    this.flush().then(() => cb(), cb);
  }

  override _final(cb: (err?: Error | null) => void): void {
    this.flush().then(() => cb(), cb);
  }

  private async flush(): Promise<void> {
    if (this.buffered === 0) return;
    const data = Buffer.concat(this.parts);
    this.parts = [];
    this.buffered = 0;
    await this.store(this.seq++, data);
  }

  /** Resolves when everything written so far has been taken (the buffer is below the mark again). */
  drained(): Promise<void> {
    return this.writableNeedDrain ? new Promise((resolve) => this.once('drain', () => resolve())) : Promise.resolve();
  }

  /** Ends the stream and resolves once the last chunk is stored. */
  close(): Promise<void> {
    return new Promise((resolve, reject) => {
      this.once('error', reject);
      this.end(() => resolve());
    });
  }
}

/** Writes rows of text cells in one format; `end` finishes the file. */
export interface RowWriter {
  writeRows(rows: readonly string[][]): Promise<void>;
  end(): Promise<void>;
}

/** A CSV (RFC 4180, UTF-8 with BOM so spreadsheet programs read umlauts right) or an xlsx workbook streamed into `sink`. */
export async function createRowWriter(format: ExportFormat, headers: readonly string[], sink: ChunkSink, sheetName: string): Promise<RowWriter> {
  if (format === 'csv') {
    let first = true;
    return {
      async writeRows(rows) {
        const text = stringify(first ? [[...headers], ...rows] : [...rows], { bom: first, record_delimiter: 'windows' });
        first = false;
        if (!sink.write(text)) await sink.drained();
      },
      async end() {
        if (first) sink.write(stringify([[...headers]], { bom: true, record_delimiter: 'windows' }));
        await sink.close();
      },
    };
  }
  // Loaded for an xlsx export only: exceljs is large, and every server process (and every test that
  // builds one) would otherwise load and compile it at start.
  const { default: ExcelJS } = await import('exceljs');
  // Streaming writer without shared strings: rows are zipped and handed on as they are committed.
  const workbook = new ExcelJS.stream.xlsx.WorkbookWriter({ stream: sink, useSharedStrings: false, useStyles: false });
  const sheet = workbook.addWorksheet(sheetName);
  sheet.addRow([...headers]).commit();
  return {
    async writeRows(rows) {
      for (const r of rows) sheet.addRow(r).commit();
      await sink.drained();
    },
    async end() {
      sheet.commit();
      const finished = new Promise<void>((resolve, reject) => {
        sink.once('finish', () => resolve());
        sink.once('error', reject);
      });
      await workbook.commit();
      await finished;
    },
  };
}
