import busboy from 'busboy';
import { KassaError } from '@kassa/core';

/** The largest statement file accepted (the server also caps a plugin route's body at 1 MiB). */
export const STATEMENT_MAX_BYTES = 1024 * 1024;
const FIELD_MAX_BYTES = 64 * 1024;

/** A multipart/form-data upload: its text fields and its one file, if any. */
export interface MultipartUpload {
  readonly fields: Record<string, string>;
  readonly file: { readonly field: string; readonly fileName: string | null; readonly bytes: Buffer } | null;
}

export function isMultipart(contentType: unknown): boolean {
  return String(contentType ?? '').split(';')[0]!.trim().toLowerCase() === 'multipart/form-data';
}

const refuse = (field: string, detail: string) => new KassaError('VALIDATION_FAILED', { field, detail });

/**
 * Reads a multipart body the server handed over as bytes, with busboy (the parser under
 * @fastify/multipart; a plugin cannot register fastify plugins). One file at most, of at most
 * STATEMENT_MAX_BYTES; a larger file, a second file or a malformed body is refused (400, naming
 * what), never cut short: a truncated statement must not be imported.
 */
export function readMultipart(contentType: string, raw: Buffer): Promise<MultipartUpload> {
  return new Promise((resolve, reject) => {
    let bb: busboy.Busboy;
    try {
      bb = busboy({
        headers: { 'content-type': contentType },
        limits: { files: 1, fileSize: STATEMENT_MAX_BYTES, fields: 20, fieldSize: FIELD_MAX_BYTES, parts: 21 },
        defParamCharset: 'utf8',
      });
    } catch (err) {
      reject(refuse('body', `not a multipart form (${err instanceof Error ? err.message : String(err)})`));
      return;
    }
    const fields: Record<string, string> = {};
    let file: MultipartUpload['file'] = null;
    let problem: KassaError | null = null;
    bb.on('file', (field, stream, info) => {
      const chunks: Buffer[] = [];
      stream.on('data', (c: Buffer) => chunks.push(c));
      stream.on('limit', () => { problem ??= refuse(field, `the file is larger than ${STATEMENT_MAX_BYTES} bytes; split the statement`); });
      stream.on('close', () => { file = { field, fileName: info.filename ?? null, bytes: Buffer.concat(chunks) }; });
    });
    bb.on('field', (name, value, info) => {
      if (info.valueTruncated) problem ??= refuse(name, `the field is longer than ${FIELD_MAX_BYTES} bytes; upload the statement as a file`);
      else fields[name] = value;
    });
    bb.on('filesLimit', () => { problem ??= refuse('statement', 'upload one statement file at a time'); });
    bb.on('fieldsLimit', () => { problem ??= refuse('body', 'too many form fields'); });
    bb.on('partsLimit', () => { problem ??= refuse('body', 'too many form parts'); });
    bb.on('error', (err: unknown) => reject(problem ?? refuse('body', `the multipart form is malformed (${err instanceof Error ? err.message : String(err)})`)));
    bb.on('close', () => (problem ? reject(problem) : resolve({ fields, file })));
    bb.end(raw);
  });
}
