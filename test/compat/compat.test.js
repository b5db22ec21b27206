// immudb-node 1.1.1, unmodified, against build/bin/immudb. The server binary
// is given as IMMUDB_BIN; it runs on a free loopback port with a temp --dir
// and is stopped by PID.
//
// Every public method of the client is called except the SQL ones (SQLExec,
// SQLQuery, SQLListTables, SQLDescribe); every verified call must verify.
// Where the client itself is at fault (the same happens against immudb), the
// test asserts what happens and says why.
'use strict';
const test = require('node:test');
const assert = require('node:assert');
const { spawn } = require('node:child_process');
const fs = require('node:fs');
const net = require('node:net');
const os = require('node:os');
const path = require('node:path');
const ImmudbClient = require('immudb-node').default;

const BIN = process.env.IMMUDB_BIN;
const work = fs.mkdtempSync(path.join(os.tmpdir(), 'immudb-compat-'));
const dataDir = path.join(work, 'data');
let port = 0;
let server = null;

function freePort() {
  return new Promise((resolve, reject) => {
    const s = net.createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const p = s.address().port;
      s.close(() => resolve(p));
    });
  });
}

function startServer() {
  return new Promise((resolve, reject) => {
    const child = spawn(BIN, ['--dir', dataDir, '--address', '127.0.0.1', '--port', String(port),
      '--web-server=false', '--metrics-server=false', '--pidfile', path.join(work, 'immudb.pid')], { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    const onData = (d) => {
      out += d.toString();
      if (out.includes('listening on')) resolve(child);
    };
    child.stdout.on('data', onData);
    child.stderr.on('data', onData);
    child.once('exit', (code) => reject(new Error(`immudb exited early (${code}): ${out}`)));
  });
}

function stopServer(child) {
  return new Promise((resolve) => {
    child.removeAllListeners('exit');
    child.once('exit', () => resolve());
    process.kill(child.pid, 'SIGTERM');
  });
}

async function newClient(rootName, user = 'immudb', password = 'immudb', db = 'defaultdb') {
  const client = new ImmudbClient({ host: '127.0.0.1', port: String(port),
    rootPath: path.join(work, rootName) });
  await client.login({ user, password });
  await client.useDatabase({ databasename: db });
  return client;
}

// The state a client trusts for a database. immudb-node never learns the
// server's UUID (it listens for a '_metadata' event that grpc-js does not
// emit), so it keeps its states under the server name "undefined".
function trusted(client, db) {
  const st = (client.state.servers.undefined || {})[db];
  return st ? st.txid : undefined;
}

// immudb-node reports a failed proof with console.error and reject(), and in
// a few places only with console.error; it also rejects with either an
// Error (code, details) or just its message.
const logged = [];
console.error = (...args) => {
  logged.push(args.map((a) => (a instanceof Error ? a.stack : String(a))).join(' '));
};

// Runs a verified call: it must resolve, and log nothing.
async function verified(promise) {
  const before = logged.length;
  const res = await promise;
  assert.deepStrictEqual(logged.slice(before), [], 'the client logged an error');
  assert.ok(res, 'the verified call resolved without a value');
  return res;
}

// Expects a call to fail with the given gRPC code and message.
async function fails(promise, code, details) {
  let err = null;
  try {
    await promise;
  } catch (e) {
    err = e === undefined ? new Error('rejected without an error') : e;
  }
  assert.ok(err, `expected "${details}", but the call succeeded`);
  if (typeof err === 'string') {
    assert.strictEqual(err, `${code} ${grpcCodeName(code)}: ${details}`);
  } else {
    assert.deepStrictEqual({ code: err.code, details: err.details }, { code, details });
  }
}

function grpcCodeName(code) {
  return ['OK', 'CANCELLED', 'UNKNOWN', 'INVALID_ARGUMENT', 'DEADLINE_EXCEEDED', 'NOT_FOUND',
    'ALREADY_EXISTS', 'PERMISSION_DENIED', 'RESOURCE_EXHAUSTED', 'FAILED_PRECONDITION', 'ABORTED',
    'OUT_OF_RANGE', 'UNIMPLEMENTED', 'INTERNAL', 'UNAVAILABLE', 'DATA_LOSS',
    'UNAUTHENTICATED'][code];
}

const UNKNOWN = 2;
const INVALID_ARGUMENT = 3;
const PERMISSION_DENIED = 7;
const FAILED_PRECONDITION = 9;
const INTERNAL = 13;
const READ = 1;
const READ_WRITE = 2;
const ADMIN = 254;
const GRANT = 0;
const REVOKE = 1;

async function currentTx(client) {
  return (await client.currentState()).txid;
}

// Runs a node script that uses immudb-node with its own process (for
// getInstance, whose shutdown() ends the process). Resolves with the exit
// code and the last line the script printed.
function runScript(source) {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['-e', source], { cwd: __dirname,
      env: { ...process.env, IMMUDB_PORT: String(port) }, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    child.stdout.on('data', (d) => { out += d.toString(); });
    child.stderr.on('data', (d) => { err += d.toString(); });
    child.once('error', reject);
    child.once('exit', (code) => {
      const lines = out.trim().split('\n');
      resolve({ code, last: lines[lines.length - 1], stderr: err });
    });
  });
}

test.before(async () => {
  assert.ok(BIN, 'IMMUDB_BIN must name the immudb binary');
  port = await freePort();
  server = await startServer();
});

test.after(async () => {
  if (server) await stopServer(server);
  // immudb-node writes its state files from its own exit handlers, which were
  // registered before this one.
  process.on('exit', () => fs.rmSync(work, { recursive: true, force: true }));
});

test('immudb-node 1.1.1 against the C++ server', { timeout: 60000 }, async (t) => {
  const client = await newClient('root-a');

  await t.test('health and current state of an empty database', async () => {
    const h = await client.health();
    assert.strictEqual(h.status, true);
    const st = await client.currentState();
    assert.strictEqual(st.db, 'defaultdb');
    assert.strictEqual(st.txid, 0);
  });

  await t.test('set and get', async () => {
    const hdr = await client.set({ key: 'hello', value: 'world' });
    assert.strictEqual(hdr.id, 1);
    const e = await client.get({ key: 'hello' });
    assert.strictEqual(e.value, 'world');
    assert.strictEqual(e.tx, 1);
  });

  await t.test('verifiedSet and verifiedGet verify', async () => {
    const hdr = await client.verifiedSet({ key: 'vk', value: 'vv' });
    assert.ok(hdr && hdr.id === 2, `verifiedSet header: ${JSON.stringify(hdr)}`);
    const e = await client.verifiedGet({ key: 'vk' });
    assert.ok(e, 'verifiedGet resolved without a value');
    assert.strictEqual(e.value, 'vv');
    const e2 = await client.verifiedGet({ key: 'hello' });
    assert.strictEqual(e2.value, 'world');
  });

  await t.test('history, scan, count', async () => {
    await client.set({ key: 'hello', value: 'again' });
    const hist = await client.history({ key: 'hello' });
    assert.deepStrictEqual(hist.entriesList.map((x) => x.value), ['world', 'again']);
    const scan = await client.scan({ prefix: 'he' });
    assert.strictEqual(scan.entriesList.length, 1);
    const c = await client.count({ prefix: 'v' });
    assert.strictEqual(c.count, 1);
  });

  await t.test('zAdd and zScan', async () => {
    await client.zAdd({ set: 'scores', score: 2, key: 'hello' });
    await client.zAdd({ set: 'scores', score: 1, key: 'vk' });
    const z = await client.zScan({ set: 'scores' });
    assert.deepStrictEqual(z.entriesList.map((x) => x.score), [1, 2]);
  });

  await t.test('setReference and get through it', async () => {
    await client.setReference({ key: 'ref', referencedKey: 'vk' });
    const e = await client.get({ key: 'ref' });
    assert.strictEqual(e.value, 'vv');
  });

  await t.test('txById and verifiedTxById', async () => {
    const tx = await client.txById({ tx: 2 });
    assert.strictEqual(tx.metadata.id, 2);
    assert.strictEqual(tx.metadata.nentries, 1);
    assert.deepStrictEqual(tx.entriesList.map((e) => Buffer.from(e.key, 'base64').toString()),
      ['\0vk']);
    const vtx = await verified(client.verifiedTxById({ tx: 2 }));
    assert.deepStrictEqual(vtx.metadata, tx.metadata);
  });

  await t.test('a second client with fresh state verifies the first one\'s writes', async () => {
    const other = await newClient('root-b');
    const e = await other.verifiedGet({ key: 'vk' });
    assert.strictEqual(e.value, 'vv');
    const hdr = await other.verifiedSet({ key: 'fromb', value: 'b' });
    assert.ok(hdr && hdr.id > 0);
    // The first client proves its old state against the newer tx.
    const back = await client.verifiedGet({ key: 'fromb' });
    assert.strictEqual(back.value, 'b');
  });

  await t.test('verified reads across a server restart', async () => {
    const before = await client.verifiedGet({ key: 'vk' });
    assert.strictEqual(before.value, 'vv');
    await stopServer(server);
    server = await startServer();
    const again = await newClient('root-a');  // Same local state file as before.
    const after = await again.verifiedGet({ key: 'vk' });
    assert.strictEqual(after.value, 'vv');
    const hdr = await again.verifiedSet({ key: 'afterrestart', value: 'x' });
    assert.ok(hdr && hdr.id > 0);
  });
});

test('immudb-node 1.1.1: the rest of its API', { timeout: 60000 }, async (t) => {
  const c = await newClient('root-c');
  const db = 'defaultdb';
  let batch = null;  // The setAll tx: keys ga1, ga2.
  let old = null;    // The tx that wrote target = 'old'.

  await t.test('setAll, getAll and countAll', async () => {
    const keys = (await c.countAll()).count;
    batch = await c.setAll({ kvsList: [{ key: 'ga1', value: 'x1' }, { key: 'ga2', value: 'x2' }] });
    assert.strictEqual(batch.nentries, 2);
    assert.strictEqual(batch.id, await currentTx(c));
    // In the order asked for; a missing key is left out.
    const got = await c.getAll({ keysList: ['ga2', 'absent', 'ga1'], sincetx: batch.id });
    assert.deepStrictEqual(got.entriesList, [
      { tx: batch.id, key: 'ga2', value: 'x2' }, { tx: batch.id, key: 'ga1', value: 'x1' }]);
    assert.strictEqual((await c.countAll()).count, keys + 2);
    await c.set({ key: 'ga1', value: 'x1' });  // An existing key: still as many keys.
    assert.strictEqual((await c.countAll()).count, keys + 2);
  });

  await t.test('execAll: every op goes out as a reference', async () => {
    // immudb-node 1.1.1 calls setKv, setZadd and setRef on the same Op, and
    // the three are one protobuf oneof: the last call wins, so every Op
    // carries only `ref`, empty unless the caller gave one. immudb checks
    // the batch for duplicate keys first ("key/reference ''" for two empty
    // references) and then refuses an empty reference as an illegal
    // argument; nothing is written. The client also passes keys as they
    // are, and google-protobuf reads a string for a bytes field as base64,
    // so keys go in as Buffers.
    const before = await currentTx(c);
    const kv = (k) => ({ kv: { key: Buffer.from(k), value: Buffer.from('v') } });
    await fails(c.execAll({ operationsList: [kv('e1')] }), INVALID_ARGUMENT, 'illegal arguments');
    await fails(c.execAll({ operationsList: [kv('e1'), kv('e2')] }), INVALID_ARGUMENT,
      "duplicated keys are not supported in single batch transaction: key/reference ''");
    await fails(c.execAll({ operationsList: [{ zadd: { set: Buffer.from('s'), score: 1,
      key: Buffer.from('ga1'), attx: 0, boundref: false } }] }), INVALID_ARGUMENT,
    'illegal arguments');
    assert.strictEqual(await currentTx(c), before);

    // Reference ops alone do work, several in one tx.
    const ref = (k, to) => ({ ref: { key: Buffer.from(k), referencedkey: Buffer.from(to),
      attx: 0, boundref: false } });
    const hdr = await c.execAll({ operationsList: [ref('exref1', 'ga1'), ref('exref2', 'ga2')] });
    assert.strictEqual(hdr.id, before + 1);
    assert.strictEqual(hdr.nentries, 2);
    assert.deepStrictEqual(await c.get({ key: 'exref2' }),
      { tx: batch.id, key: 'ga2', value: 'x2' });
    const e = await verified(c.verifiedGet({ key: 'exref1' }));
    assert.strictEqual(e.value, 'x1');
    assert.strictEqual(Buffer.from(e.referencedby.key, 'base64').toString(), 'exref1');
    assert.strictEqual(e.referencedby.tx, hdr.id);
  });

  await t.test('txScan', async () => {
    const asc = await c.txScan({ initialtx: batch.id, limit: 2, desc: false });
    assert.deepStrictEqual(asc.txsList.map((x) => x.metadata.id), [batch.id, batch.id + 1]);
    assert.deepStrictEqual(asc.txsList[0].entriesList.map((x) => Buffer.from(x.key, 'base64')
      .toString()), ['\0ga1', '\0ga2']);
    assert.deepStrictEqual(asc.txsList[0].metadata, (await c.txById({ tx: batch.id })).metadata);
    const desc = await c.txScan({ initialtx: batch.id + 1, limit: 2, desc: true });
    assert.deepStrictEqual(desc.txsList.map((x) => x.metadata.id), [batch.id + 1, batch.id]);
  });

  await t.test('verifiedSetReference, verifiedSetReferenceAt, setReferenceAt', async () => {
    old = await c.set({ key: 'target', value: 'old' });
    await c.set({ key: 'target', value: 'new' });
    const h1 = await verified(c.verifiedSetReference({ key: 'vref', referencedKey: 'target' }));
    assert.strictEqual(h1.nentries, 1);
    assert.strictEqual(trusted(c, db), h1.id);
    const h2 = await verified(c.verifiedSetReferenceAt({ key: 'vrefat', referencedKey: 'target',
      attx: old.id }));
    assert.strictEqual(h2.id, h1.id + 1);
    assert.strictEqual(trusted(c, db), h2.id);
    const h3 = await c.setReferenceAt({ key: 'refat', referencedKey: 'target', attx: old.id });
    assert.strictEqual(h3.id, h2.id + 1);

    const unbound = await verified(c.verifiedGet({ key: 'vref' }));
    assert.strictEqual(unbound.value, 'new');
    assert.strictEqual(unbound.referencedby.attx, 0);
    const bound = await verified(c.verifiedGet({ key: 'vrefat' }));
    assert.strictEqual(bound.value, 'old');
    assert.strictEqual(bound.referencedby.attx, old.id);
    assert.strictEqual((await verified(c.verifiedGet({ key: 'refat' }))).value, 'old');
    await fails(c.verifiedSetReference({ key: 'dangling', referencedKey: 'absent' }), UNKNOWN,
      'key not found');
  });

  await t.test('verifiedZAdd, verifiedZAddAt, zAddAt', async () => {
    const h1 = await verified(c.verifiedZAdd({ set: 'board', score: 1.5, key: 'target' }));
    assert.strictEqual(h1.nentries, 1);
    assert.strictEqual(trusted(c, db), h1.id);
    const h2 = await verified(c.verifiedZAddAt({ set: 'board', score: 2.25, key: 'target',
      attx: old.id }));
    assert.strictEqual(trusted(c, db), h2.id);
    await c.zAddAt({ set: 'board', score: 3, key: 'ga2', attx: batch.id });
    assert.deepStrictEqual((await c.zScan({ set: 'board' })).entriesList, [
      { set: 'board', key: 'target', score: 1.5, attx: 0 },
      { set: 'board', key: 'target', score: 2.25, attx: old.id },
      { set: 'board', key: 'ga2', score: 3, attx: batch.id }]);
    await fails(c.verifiedZAdd({ set: 'board', score: 1, key: 'absent' }), UNKNOWN,
      'key not found');
  });

  await t.test('verifiedGetAt and verifiedGetSince', async () => {
    const at = await verified(c.verifiedGetAt({ key: 'target', attx: old.id }));
    assert.deepStrictEqual([at.tx, at.value], [old.id, 'old']);
    const since = await verified(c.verifiedGetSince({ key: 'target', sincetx: old.id + 1 }));
    assert.deepStrictEqual([since.tx, since.value], [old.id + 1, 'new']);
    // A client without local state takes the server's current state on first
    // use and proves the old version against it.
    const fresh = await newClient('root-d');
    const first = await verified(fresh.verifiedGetAt({ key: 'target', attx: old.id }));
    assert.strictEqual(first.value, 'old');
    await fails(c.verifiedGetSince({ key: 'target', sincetx: (await currentTx(c)) + 5 }), UNKNOWN,
      'illegal arguments: SinceTx must not be greater than the current transaction ID');
  });

  await t.test('databases, users, permissions, logout', async () => {
    await c.createDatabase({ databasename: 'compatdb' });
    assert.deepStrictEqual((await c.listDatabases()).databasesList,
      [{ databasename: 'defaultdb' }, { databasename: 'compatdb' }]);
    await fails(c.createDatabase({ databasename: 'compatdb' }), UNKNOWN, 'database already exists');

    await c.createUser({ user: 'alice', password: 'Alice1!pass', permission: READ_WRITE,
      database: 'compatdb' });
    await c.createUser({ user: 'bob', password: 'Bob1!pass', permission: READ,
      database: 'compatdb' });
    await fails(c.createUser({ user: 'bob', password: 'Bob1!pass', permission: READ,
      database: 'compatdb' }), UNKNOWN, 'user already exists');
    const users = (await c.listUsers()).usersList;
    assert.deepStrictEqual(users.map((u) => u.user), ['alice', 'bob', 'immudb']);
    assert.deepStrictEqual(users.map((u) => [u.permissionsList, u.createdby, u.active]), [
      [[{ database: 'compatdb', permission: READ_WRITE }], 'immudb', true],
      [[{ database: 'compatdb', permission: READ }], 'immudb', true],
      [[{ database: '*', permission: 255 }], 'immudb', true]]);

    // A read-write user of compatdb: a verified first tx of its own
    // database, and nothing beyond its permission.
    const alice = await newClient('root-alice', 'alice', 'Alice1!pass', 'compatdb');
    const ah = await verified(alice.verifiedSet({ key: 'ak', value: 'av' }));
    assert.strictEqual(ah.id, 1);
    assert.strictEqual(trusted(alice, 'compatdb'), 1);
    assert.strictEqual((await verified(alice.verifiedGet({ key: 'ak' }))).value, 'av');
    assert.deepStrictEqual((await alice.listDatabases()).databasesList,
      [{ databasename: 'compatdb' }]);
    assert.deepStrictEqual((await alice.listUsers()).usersList.map((u) => u.user), ['alice']);
    await fails(alice.useDatabase({ databasename: 'defaultdb' }), PERMISSION_DENIED,
      'Logged in user does not have permission on this database');
    await fails(alice.compactIndex(), INTERNAL, 'permission denied');
    const notAdmin = 'user is not system admin nor admin in any of the databases';
    await fails(alice.setActiveUser({ username: 'bob', active: false }), UNKNOWN, notAdmin);
    await fails(alice.changePassword({ user: 'bob', oldpassword: '', newpassword: 'Bob2!pass' }),
      UNKNOWN, notAdmin);
    await fails(alice.changePermission({ action: GRANT, permission: READ, username: 'bob',
      database: 'compatdb' }), PERMISSION_DENIED, 'you do not have permission on this database');

    // Read on defaultdb. A permission change logs the user out.
    await c.changePermission({ action: GRANT, permission: READ, username: 'alice',
      database: 'defaultdb' });
    await fails(alice.count({ prefix: 'a' }), UNKNOWN, 'not logged in');
    await alice.login({ user: 'alice', password: 'Alice1!pass' });
    await alice.useDatabase({ databasename: 'defaultdb' });
    assert.strictEqual((await alice.get({ key: 'target' })).value, 'new');
    await fails(alice.set({ key: 'target', value: 'x' }), INTERNAL, 'permission denied');
    // Client bug (same against immudb): its local state has compatdb but not
    // defaultdb for this server, and State.get then evaluates
    // Object.keys(undefined); the method catches the TypeError, logs it and
    // resolves undefined without calling the server.
    const before = logged.length;
    assert.strictEqual(await alice.verifiedGet({ key: 'target' }), undefined);
    assert.match(logged.slice(before).join('\n'), /TypeError/);
    assert.deepStrictEqual((await c.listUsers()).usersList[0].permissionsList, [
      { database: 'compatdb', permission: READ_WRITE }, { database: 'defaultdb', permission: READ }]);
    await c.changePermission({ action: REVOKE, permission: READ, username: 'alice',
      database: 'defaultdb' });
    await alice.login({ user: 'alice', password: 'Alice1!pass' });
    await fails(alice.useDatabase({ databasename: 'defaultdb' }), PERMISSION_DENIED,
      'Logged in user does not have permission on this database');

    // An admin of compatdb: may compact it and list its users, but only
    // change users it created.
    await c.changePermission({ action: GRANT, permission: ADMIN, username: 'alice',
      database: 'compatdb' });
    await alice.login({ user: 'alice', password: 'Alice1!pass' });
    await alice.useDatabase({ databasename: 'compatdb' });
    assert.deepStrictEqual((await alice.listUsers()).usersList.map((u) => u.user),
      ['alice', 'bob']);
    await alice.compactIndex();
    await fails(alice.setActiveUser({ username: 'bob', active: false }), UNKNOWN,
      'bob was not created by you');
    await fails(alice.changePassword({ user: 'bob', oldpassword: '', newpassword: 'Bob2!pass' }),
      UNKNOWN, 'user bob was not found or it was not created by you');

    // Passwords: the sysadmin's needs the old one; another user's does not.
    await fails(c.changePassword({ user: 'immudb', oldpassword: 'wrong',
      newpassword: 'Other1!pass' }), PERMISSION_DENIED, 'old password is incorrect');
    await c.changePassword({ user: 'bob', oldpassword: '', newpassword: 'Bob2!pass' });
    const bob = new ImmudbClient({ host: '127.0.0.1', port: String(port),
      rootPath: path.join(work, 'root-bob') });
    await fails(bob.login({ user: 'bob', password: 'Bob1!pass' }), UNKNOWN,
      'invalid user name or password');

    // Deactivated: no login, no permission changes; reactivated: both again.
    await c.setActiveUser({ username: 'bob', active: false });
    const inactive = (await c.listUsers()).usersList.find((u) => u.user === 'bob');
    assert.deepStrictEqual([inactive.active, inactive.createdby], [false, 'immudb']);
    await fails(bob.login({ user: 'bob', password: 'Bob2!pass' }), UNKNOWN, 'user is not active');
    await fails(c.changePermission({ action: GRANT, permission: READ, username: 'bob',
      database: 'defaultdb' }), FAILED_PRECONDITION, 'user bob is not active');
    await c.setActiveUser({ username: 'bob', active: true });
    const login = await bob.login({ user: 'bob', password: 'Bob2!pass' });
    assert.strictEqual(login.warning, '');
    await bob.useDatabase({ databasename: 'compatdb' });
    assert.strictEqual((await bob.get({ key: 'ak' })).value, 'av');

    // Logout ends that user's token; other users' tokens still work.
    await bob.logout();
    await fails(bob.get({ key: 'ak' }), UNKNOWN, 'not logged in');
    assert.strictEqual((await alice.get({ key: 'ak' })).value, 'av');
  });

  await t.test('updateAuthConfig and updateMTLSConfig always fail', async () => {
    await fails(c.updateAuthConfig({ kind: 1 }), INTERNAL, 'operation not supported');
    await fails(c.updateMTLSConfig({ enabled: false }), INTERNAL, 'operation not supported');
  });

  await t.test('compactIndex keeps every key readable', async () => {
    // immudb's own B-tree index refuses ("tbtree: compaction threshold not
    // yet reached") until it has enough flushed snapshots; our RocksDB index
    // always compacts (docs/immuadmin.md).
    const keys = (await c.countAll()).count;
    const scan = await c.scan({ prefix: 'ga' });
    await c.compactIndex();
    assert.strictEqual((await c.countAll()).count, keys);
    assert.deepStrictEqual(await c.scan({ prefix: 'ga' }), scan);
    assert.strictEqual((await verified(c.verifiedGet({ key: 'vrefat' }))).value, 'old');
  });

  await t.test('getInstance, initClient and shutdown', async () => {
    // getInstance logs in, creates and selects the database unless it
    // exists, and checks health; shutdown() writes the local state, starts a
    // logout and ends the process with 0. So each run is a process of its own.
    const script = (database, root) => `
      const ImmudbClient = require('immudb-node').default;
      (async () => {
        const config = { host: '127.0.0.1', port: process.env.IMMUDB_PORT, user: 'immudb',
          password: 'immudb', database: ${JSON.stringify(database)},
          rootPath: ${JSON.stringify(path.join(work, root))} };
        const c = await ImmudbClient.getInstance(config);
        const same = await ImmudbClient.getInstance(config);
        const hdr = await c.verifiedSet({ key: 'init', value: ${JSON.stringify(root)} });
        const st = await c.currentState();
        console.log(JSON.stringify({ same: same === c, db: st.db, id: hdr.id, txid: st.txid }));
        await c.shutdown();
      })().catch((e) => { console.log(JSON.stringify({ error: String(e) })); process.exit(3); });`;

    const created = await runScript(script('initdb', 'root-init1'));
    assert.strictEqual(created.code, 0, created.stderr);
    assert.deepStrictEqual(JSON.parse(created.last),
      { same: true, db: 'initdb', id: 1, txid: 1 });
    const saved = JSON.parse(fs.readFileSync(path.join(work, 'root-init1'), 'utf8'));
    assert.strictEqual(saved.undefined.initdb.txid, 1);
    assert.deepStrictEqual((await c.listDatabases()).databasesList.map((d) => d.databasename),
      ['defaultdb', 'compatdb', 'initdb']);

    // Client bug (same against immudb): for a database that exists already,
    // initClient selects defaultdb instead of it.
    const next = (await currentTx(c)) + 1;
    const existing = await runScript(script('initdb', 'root-init2'));
    assert.strictEqual(existing.code, 0, existing.stderr);
    assert.deepStrictEqual(JSON.parse(existing.last),
      { same: true, db: 'defaultdb', id: next, txid: next });
    assert.strictEqual((await c.get({ key: 'init' })).value, 'root-init2');
    await c.useDatabase({ databasename: 'initdb' });
    assert.strictEqual((await c.get({ key: 'init' })).value, 'root-init1');
    await c.useDatabase({ databasename: 'defaultdb' });
  });
});
