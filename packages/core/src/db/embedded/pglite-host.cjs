/* global require, process */
'use strict';
// Runs PGlite in a child process for the embedded database (see pglite-process.ts). Plain
// CommonJS on purpose: it starts with bare `node`, whatever loader (tsx, Jest) runs the parent.
// One operation at a time, in arrival order, as PGlite is a single session.
// eslint-disable-next-line @typescript-eslint/no-require-imports -- CommonJS by design (see above)
const { PGlite } = require('@electric-sql/pglite');

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
      db = await PGlite.create(msg.dataDir);
      await db.exec(msg.setupSql);
      return {};
    case 'exec':
      return { bytes: await db.execProtocolRaw(msg.bytes) };
    case 'sql':
      await db.exec(msg.sql);
      return {};
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
