// immudb-node 1.1.1, unmodified, against build/bin/immudb. The server binary
// is given as IMMUDB_BIN; it runs on a free loopback port with a temp --dir
// and is stopped by PID.
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

async function newClient(rootName) {
  const client = new ImmudbClient({ host: '127.0.0.1', port: String(port),
    rootPath: path.join(work, rootName) });
  await client.login({ user: 'immudb', password: 'immudb' });
  await client.useDatabase({ databasename: 'defaultdb' });
  return client;
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

test('immudb-node 1.1.1 against the C++ server', async (t) => {
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
    assert.ok(tx, 'txById resolved');
    const vtx = await client.verifiedTxById({ tx: 2 });
    assert.ok(vtx, 'verifiedTxById resolved');
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
