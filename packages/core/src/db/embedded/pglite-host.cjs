/* global require, process, Blob, Buffer */
'use strict';
// Runs PGlite in a child process for the embedded database (see pglite-process.ts). Plain
// CommonJS on purpose: it starts with bare `node`, whatever loader (tsx, Jest) runs the parent.
// One operation at a time, in arrival order, as PGlite is a single session.
/* eslint-disable @typescript-eslint/no-require-imports -- CommonJS by design (see above) */
const { existsSync, readFileSync, renameSync, rmSync, writeFileSync } = require('node:fs');
const { tmpdir } = require('node:os');
const { dirname, join } = require('node:path');
const { PGlite } = require('@electric-sql/pglite');
/* eslint-enable @typescript-eslint/no-require-imports */

let db = null;
let queue = Promise.resolve();

// The parent owns this process: when it goes away (even killed), so do we, after closing PGlite
// cleanly (a checkpoint) once the operation in flight is done.
process.on('disconnect', () => {
  queue = queue
    .then(() => (db ? db.close() : undefined))
    .catch(() => {})
    .then(() => process.exit(0));
});

process.on('message', (msg) => {
  queue = queue.then(() => handle(msg)).then(
    (result) => process.send({ id: msg.id, ok: true, ...result }),
    (err) => process.send({ id: msg.id, ok: false, error: err && err.message ? err.message : String(err) }),
  );
});

async function handle(msg) {
  switch (msg.op) {
    case 'start':
      db = await open(msg.dataDir);
      await db.exec(msg.setupSql);
      return {};
    case 'exec':
      return { bytes: await db.execProtocolRaw(msg.bytes) };
    case 'sql':
      await db.exec(msg.sql);
      return {};
    case 'dump': {
      // CHECKPOINT first: the files then hold every committed change without WAL replay.
      await db.exec('CHECKPOINT');
      const tar = await db.dumpDataDir('none');
      return { bytes: new Uint8Array(await tar.arrayBuffer()) };
    }
    case 'in-transaction':
      return { value: db.isInTransaction() };
    case 'close':
      if (db) await db.close();
      db = null;
      return {};
    default:
      throw new Error(`unknown operation ${msg.op}`);
  }
}

// A new database starts with initdb, which takes seconds of CPU (far more on a busy machine).
// The first one on this machine saves its freshly initialised files as a template in the temp
// directory, keyed by PGlite's version; later new databases (every in-memory start, every new
// data directory) load that instead. An existing data directory is opened as it is.
async function open(dataDir) {
  const fresh = !dataDir || !existsSync(join(dataDir, 'PG_VERSION'));
  if (!fresh) return PGlite.create(dataDir);
  const template = templatePath();
  if (existsSync(template)) {
    try {
      return await PGlite.create({ dataDir, loadDataDir: new Blob([readFileSync(template)]) });
    } catch {
      // A damaged template: start over from initdb below (and from an empty directory).
      if (dataDir) rmSync(dataDir, { recursive: true, force: true });
    }
  }
  const created = await PGlite.create(dataDir);
  try {
    const tar = await created.dumpDataDir('none');
    const partial = `${template}.${process.pid}`;
    writeFileSync(partial, Buffer.from(await tar.arrayBuffer()));
    renameSync(partial, template); // atomic: concurrent starts never read half a template
  } catch {
    // Only a speed-up; a read-only temp directory just means initdb every time.
  }
  return created;
}

function templatePath() {
  const pkg = JSON.parse(readFileSync(join(dirname(require.resolve('@electric-sql/pglite')), '..', 'package.json'), 'utf8'));
  return join(tmpdir(), `kassa-pglite-${pkg.version}-initdb.tar`);
}
