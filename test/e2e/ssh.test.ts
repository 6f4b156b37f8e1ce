// The SSH connector against a REAL sshd (Debian's openssh-server) that this test runs with its own
// config and host keys inside a network namespace it creates (198.18.10.0/24 on a veth pair whose
// both ends are inside it: no traffic ever leaves the namespace). The client side must live in that namespace too, so the
// test re-runs this file inside it (`ip netns exec`) with HAUP_SSH_E2E_DIR set.
//
// Users for `become`: `ip netns exec` bind-mounts /etc/netns/NS/* over /etc/*, so passwd, group,
// shadow and sudoers.d with a test user exist only for the processes of this test.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { chmodSync, copyFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const INNER = process.env.HAUP_SSH_E2E_DIR;
const ADDR = '198.18.10.1';
const TEST_USER = { name: 'haupe2e', uid: 64123 };
const NOSUDO_USER = { name: 'haupe2en', uid: 64124 };
/** How many tests innerTests() declares (the outer test checks they all ran). */
const INNER_TESTS = 14;

interface Setup {
  dir: string;
  clientKey: string;
  wrongKey: string;
  hostKeyA: string; // public key line of the port-22 server
  hostKeyB: string; // public key line of the port-2222 server
}

if (!INNER) {
  test('SSH connector against a real sshd in a private netns', { timeout: 240_000 }, async (t) => {
    assert.equal(process.getuid?.(), 0, 'this e2e test needs root (network namespaces)');
    const tag = randomBytes(3).toString('hex');
    const ns = `haup-sshe2e-${tag}`;
    const dir = mkdtempSync(join(tmpdir(), 'haup-sshe2e-'));
    const etc = `/etc/netns/${ns}`;
    const daemons: ChildProcess[] = [];
    const sh = (cmd: string) => execFileSync('sh', ['-c', cmd], { stdio: ['ignore', 'pipe', 'pipe'] }).toString();
    const createdRunSshd = !existsSync('/run/sshd');
    try {
      sh(`ip netns add ${ns}`);
      // a veth pair with both ends inside the namespace: an up link whose peer answers nothing
      sh(`ip -n ${ns} link set lo up && ip -n ${ns} link add hsshe2e0 type veth peer name hsshe2e1 && ip -n ${ns} addr add ${ADDR}/24 dev hsshe2e0 && ip -n ${ns} link set hsshe2e0 up && ip -n ${ns} link set hsshe2e1 up`);

      // keys
      for (const k of ['client', 'wrong', 'hostA', 'hostB']) sh(`ssh-keygen -q -t ed25519 -N '' -C ${k} -f ${dir}/${k}`);
      sh(`ssh-keygen -q -t ed25519 -N 'correct horse' -C locked -f ${dir}/locked`);
      mkdirSync(`${dir}/authorized`);
      for (const u of ['root', TEST_USER.name, NOSUDO_USER.name]) copyFileSync(`${dir}/client.pub`, `${dir}/authorized/${u}`);
      writeFileSync(`${dir}/authorized/root`, readFileSync(`${dir}/client.pub`, 'utf8') + readFileSync(`${dir}/locked.pub`, 'utf8'));
      // sshd reads authorized keys as the user: the test users must be able to traverse and read
      chmodSync(dir, 0o755);
      chmodSync(`${dir}/authorized`, 0o755);

      // users visible only inside the namespace
      mkdirSync(`${etc}/sudoers.d`, { recursive: true });
      const home = `${dir}/home`;
      mkdirSync(home, { mode: 0o755 });
      // root's shell is /bin/sh in here: the machine's root may have a heavy ~/.bashrc (bash reads
      // it for ssh commands), which would measure that file instead of the connector.
      const passwd = readFileSync('/etc/passwd', 'utf8').replace(/^(root:[^:]*:0:0:[^:]*:[^:]*:)[^\n]*$/m, '$1/bin/sh');
      writeFileSync(`${etc}/passwd`, passwd + `${TEST_USER.name}:x:${TEST_USER.uid}:${TEST_USER.uid}::${home}:/bin/sh\n${NOSUDO_USER.name}:x:${NOSUDO_USER.uid}:${NOSUDO_USER.uid}::${home}:/bin/sh\n`);
      writeFileSync(`${etc}/group`, readFileSync('/etc/group', 'utf8') + `${TEST_USER.name}:x:${TEST_USER.uid}:\n${NOSUDO_USER.name}:x:${NOSUDO_USER.uid}:\n`);
      writeFileSync(`${etc}/shadow`, readFileSync('/etc/shadow', 'utf8') + `${TEST_USER.name}:*:20000:0:99999:7:::\n${NOSUDO_USER.name}:*:20000:0:99999:7:::\n`, { mode: 0o640 });
      for (const f of readdirSafe('/etc/sudoers.d')) copyFileSync(`/etc/sudoers.d/${f}`, `${etc}/sudoers.d/${f}`);
      writeFileSync(`${etc}/sudoers.d/haupe2e`, `${TEST_USER.name} ALL=(root) NOPASSWD: ALL\n`, { mode: 0o440 });
      chmodSync(`${etc}/sudoers.d/haupe2e`, 0o440);
      mkdirSync('/run/sshd', { recursive: true, mode: 0o755 });

      for (const [port, key] of [[22, 'hostA'], [2222, 'hostB']] as const) {
        writeFileSync(
          `${dir}/sshd_${port}`,
          [
            `Port ${port}`,
            `ListenAddress ${ADDR}`,
            `HostKey ${dir}/${key}`,
            `PidFile ${dir}/sshd_${port}.pid`,
            `AuthorizedKeysFile ${dir}/authorized/%u`,
            'StrictModes no',
            'UsePAM no',
            'PasswordAuthentication no',
            'KbdInteractiveAuthentication no',
            'PermitRootLogin prohibit-password',
            'MaxSessions 10',
            'MaxStartups 50',
            'LogLevel ERROR',
            '',
          ].join('\n'),
        );
        const d = spawn('ip', ['netns', 'exec', ns, '/usr/sbin/sshd', '-D', '-e', '-f', `${dir}/sshd_${port}`], { stdio: ['ignore', 'ignore', 'pipe'] });
        d.stderr!.on('data', (c: Buffer) => t.diagnostic(`sshd:${port}: ${c.toString().trim()}`));
        daemons.push(d);
      }
      // wait (bounded) until both listen
      for (let i = 0; i < 50; i++) {
        const out = sh(`ip netns exec ${ns} ss -Hltn`);
        if (out.includes(`${ADDR}:22 `) && out.includes(`${ADDR}:2222 `)) break;
        if (i === 49) throw new Error(`sshd did not start: ${out}`);
        await new Promise((r) => setTimeout(r, 100));
      }

      const setup: Setup = {
        dir,
        clientKey: `${dir}/client`,
        wrongKey: `${dir}/wrong`,
        hostKeyA: readFileSync(`${dir}/hostA.pub`, 'utf8').trim(),
        hostKeyB: readFileSync(`${dir}/hostB.pub`, 'utf8').trim(),
      };
      writeFileSync(`${dir}/setup.json`, JSON.stringify(setup));
      const self = fileURLToPath(import.meta.url);
      const r = spawnSync('ip', ['netns', 'exec', ns, process.execPath, '--import', 'tsx', '--test', '--test-reporter=spec', self], {
        // NODE_TEST_CONTEXT would make the child skip its tests (it thinks it is a nested run).
        env: { ...withoutKey(process.env, 'NODE_TEST_CONTEXT'), HAUP_SSH_E2E_DIR: dir, SSH_AUTH_SOCK: '' },
        cwd: join(dirname(self), '..', '..'),
        encoding: 'utf8',
        timeout: 200_000,
      });
      for (const line of `${r.stdout}${r.stderr}`.split('\n')) if (line.trim()) t.diagnostic(line);
      assert.equal(r.status, 0, `the tests inside the namespace failed:\n${r.stdout}\n${r.stderr}`);
      // and they really ran, all of them
      assert.match(r.stdout, new RegExp(`^ℹ pass ${INNER_TESTS}$`, 'm'), r.stdout);
      assert.match(r.stdout, /^ℹ fail 0$/m);
    } finally {
      for (const d of daemons) d.kill('SIGTERM');
      await Promise.all(daemons.map((d) => new Promise((res) => (d.exitCode !== null ? res(null) : d.once('exit', res)))));
      spawnSync('ip', ['netns', 'del', ns]);
      rmSync(etc, { recursive: true, force: true });
      if (existsSync('/etc/netns') && readdirSafe('/etc/netns').length === 0) rmSync('/etc/netns', { recursive: true, force: true });
      if (createdRunSshd) rmSync('/run/sshd', { recursive: true, force: true });
      rmSync(dir, { recursive: true, force: true });
    }
  });
} else {
  await innerTests(JSON.parse(readFileSync(join(INNER, 'setup.json'), 'utf8')) as Setup);
}

function withoutKey(env: NodeJS.ProcessEnv, key: string): NodeJS.ProcessEnv {
  const copy = { ...env };
  delete copy[key];
  return copy;
}

function readdirSafe(d: string): string[] {
  try {
    return execFileSync('ls', ['-A', d], { encoding: 'utf8' }).split('\n').filter(Boolean);
  } catch {
    return [];
  }
}

function dirname(p: string): string {
  return p.replace(/\/[^/]*$/, '');
}

async function innerTests(s: Setup): Promise<void> {
  const { connectSsh } = await import('../../src/connectors/ssh.ts');
  const { fingerprint } = await import('../../src/connectors/known-hosts.ts');
  const { HostError } = await import('../../src/util/errors.ts');
  const { runDeploy } = await import('../../src/engine/runner.ts');

  const fpOf = (line: string) => fingerprint(Buffer.from(line.split(' ')[1]!, 'base64'));
  const fpA = fpOf(s.hostKeyA);
  const fpB = fpOf(s.hostKeyB);
  const keyB64 = (line: string) => line.split(' ').slice(0, 2).join(' ');
  let n = 0;
  const knownHosts = (text: string) => {
    const f = join(s.dir, `known_hosts.${++n}`);
    writeFileSync(f, text);
    return f;
  };
  const base = { host: 'e2e', address: ADDR, user: 'root', privateKeyPath: s.clientKey, connectTimeoutMs: 3000 };
  const rejectsWith = async (p: Promise<unknown>, message: string, hint?: string) => {
    await assert.rejects(p, (e: unknown) => {
      assert.ok(e instanceof HostError, `not a HostError: ${String(e)}`);
      assert.equal(e.message, message);
      if (hint !== undefined) assert.equal(e.hint, hint);
      return true;
    });
  };

  test('strict host key: a plain known_hosts entry is trusted; exec returns exit codes', async () => {
    const conn = await connectSsh({ ...base, knownHostsPath: knownHosts(`${ADDR} ${keyB64(s.hostKeyA)}\n`) });
    try {
      const r = await conn.exec('id -u; echo oops >&2; exit 3');
      assert.equal(r.code, 3);
      assert.equal(r.stdout.toString(), '0\n');
      assert.equal(r.stderr.toString(), 'oops\n');
    } finally {
      await conn.close();
    }
  });

  test('unknown host key: refused with the exact message and how to add it', async () => {
    const kh = knownHosts('');
    await rejectsWith(
      connectSsh({ ...base, knownHostsPath: kh }),
      `e2e: host key unknown: ${ADDR}:22 offers ssh-ed25519 ${fpA}, which is not in ${kh}`,
      `check the fingerprint out of band, then add it: ssh-keyscan -t ssh-ed25519 ${ADDR} >> ${kh} (or pass --accept-new-host-keys)`,
    );
    assert.equal(readFileSync(kh, 'utf8'), '', 'nothing was added without the opt-in');
  });

  test('CHANGED host key: refused with both fingerprints, even with --accept-new-host-keys', async () => {
    const kh = knownHosts(`[${ADDR}]:2222 ${keyB64(s.hostKeyA)}\n`);
    const message = `e2e: host key CHANGED: ${ADDR}:2222 offers ssh-ed25519 ${fpB}, known_hosts has ssh-ed25519 ${fpA} (${kh}:1); refusing to connect (possible man-in-the-middle)`;
    await rejectsWith(connectSsh({ ...base, port: 2222, knownHostsPath: kh }), message, `if the host was really reinstalled, verify the new key out of band, then: ssh-keygen -R '[${ADDR}]:2222' -f ${kh} (--accept-new-host-keys never replaces a changed key)`);
    await rejectsWith(connectSsh({ ...base, port: 2222, knownHostsPath: kh, acceptNewHostKeys: true }), message);
    assert.equal(readFileSync(kh, 'utf8'), `[${ADDR}]:2222 ${keyB64(s.hostKeyA)}\n`);
  });

  test('hashed known_hosts entries (ssh-keygen -H) are accepted, for port 22 and [host]:2222', async () => {
    const kh = knownHosts(`${ADDR} ${keyB64(s.hostKeyA)}\n[${ADDR}]:2222 ${keyB64(s.hostKeyB)}\n`);
    execFileSync('ssh-keygen', ['-H', '-f', kh], { stdio: 'ignore' });
    assert.ok(!readFileSync(kh, 'utf8').includes(ADDR));
    for (const port of [22, 2222]) {
      const conn = await connectSsh({ ...base, port, knownHostsPath: kh });
      assert.equal((await conn.exec('echo ok')).stdout.toString(), 'ok\n');
      await conn.close();
    }
  });

  test('--accept-new-host-keys: records an unknown key once, then it is trusted', async () => {
    const kh = join(s.dir, 'accept', 'known_hosts'); // the file and its directory do not exist yet
    const conn = await connectSsh({ ...base, knownHostsPath: kh, acceptNewHostKeys: true });
    await conn.close();
    assert.equal(readFileSync(kh, 'utf8'), `${ADDR} ${keyB64(s.hostKeyA)}\n`);
    const again = await connectSsh({ ...base, knownHostsPath: kh });
    await again.close();
    assert.equal(readFileSync(kh, 'utf8'), `${ADDR} ${keyB64(s.hostKeyA)}\n`, 'not appended twice');
  });

  test('auth refused: names the user and the key', async () => {
    const kh = knownHosts(`${ADDR} ${keyB64(s.hostKeyA)}\n`);
    await rejectsWith(
      connectSsh({ ...base, privateKeyPath: s.wrongKey, knownHostsPath: kh }),
      `e2e: authentication refused for user root with key ${s.wrongKey}`,
      'add the public key to ~root/.ssh/authorized_keys on e2e, or fix ssh.user / ssh.private_key in the inventory',
    );
  });

  test('unreachable: refused port and silent address, each with the address:port', async () => {
    const kh = knownHosts('');
    await rejectsWith(connectSsh({ ...base, port: 2999, knownHostsPath: kh }), `e2e: unreachable: connection refused at ${ADDR}:2999`, 'is the host up, sshd running, and the address/port in the inventory right?');
    const t0 = Date.now();
    await rejectsWith(connectSsh({ ...base, address: '198.18.10.99', connectTimeoutMs: 500, knownHostsPath: kh }), 'e2e: unreachable: no answer from 198.18.10.99:22 within 0.5 s');
    assert.ok(Date.now() - t0 < 3000);
  });

  test('50 parallel execs share ONE connection with at most 10 channels (sshd MaxSessions 10)', async () => {
    const conn = await connectSsh({ ...base, knownHostsPath: knownHosts(`${ADDR} ${keyB64(s.hostKeyA)}\n`) });
    try {
      const results = await Promise.all(Array.from({ length: 50 }, (_, i) => conn.exec(`sleep 0.1; echo ${i}; ss -Htn state established '( sport = :22 )' | wc -l`)));
      assert.deepEqual(results.map((r) => r.code), Array(50).fill(0));
      assert.deepEqual(results.map((r) => Number(r.stdout.toString().split('\n')[0])), Array.from({ length: 50 }, (_, i) => i));
      // one TCP connection to sshd:22 the whole time
      assert.ok(results.every((r) => r.stdout.toString().split('\n')[1] === '1'), results.map((r) => r.stdout.toString()).join('|'));
      assert.equal(conn.channels.maxSeen, 10);
    } finally {
      await conn.close();
    }
  });

  test('command timeout: the channel is closed, the error names the command, the connection stays usable', async () => {
    const conn = await connectSsh({ ...base, knownHostsPath: knownHosts(`${ADDR} ${keyB64(s.hostKeyA)}\n`), commandTimeoutMs: 400 });
    try {
      const t0 = Date.now();
      await rejectsWith(conn.exec('sleep 5; echo late'), 'e2e: command timed out after 0.4 s: sleep 5; echo late', 'the host may be overloaded or the command hangs; run it by hand to see');
      assert.ok(Date.now() - t0 < 2500, `took ${Date.now() - t0} ms`);
      assert.equal((await conn.exec('echo still here', { timeoutMs: 5000 })).stdout.toString(), 'still here\n');
    } finally {
      await conn.close();
    }
  });

  test('put/get round trip of binary bytes (all 256 values, 300 KiB) with mode', async () => {
    const conn = await connectSsh({ ...base, knownHostsPath: knownHosts(`${ADDR} ${keyB64(s.hostKeyA)}\n`) });
    try {
      const bytes = Buffer.concat([Buffer.from(Array.from({ length: 256 }, (_, i) => i)), randomBytes(300 * 1024)]);
      const path = join(s.dir, 'blob.bin');
      await conn.put(path, bytes, { mode: 0o640 });
      assert.ok((await conn.get(path)).equals(bytes));
      assert.equal((await conn.exec(`stat -c %a ${path}`)).stdout.toString(), '640\n');
      await assert.rejects(conn.get(join(s.dir, 'nope')), /^HostError: e2e: cannot read .*nope: cat: .*No such file or directory$/);
    } finally {
      await conn.close();
    }
  });

  test('become: a non-root user runs commands as root through sudo -n; without sudo rights a clear error', async () => {
    const kh = knownHosts(`${ADDR} ${keyB64(s.hostKeyA)}\n`);
    const plain = await connectSsh({ ...base, user: TEST_USER.name, knownHostsPath: kh });
    assert.equal((await plain.exec('id -u')).stdout.toString(), `${TEST_USER.uid}\n`);
    await plain.close();
    const become = await connectSsh({ ...base, user: TEST_USER.name, become: true, knownHostsPath: kh });
    try {
      assert.equal((await become.exec("id -u; printf '%s' \"it's quoted\"")).stdout.toString(), "0\nit's quoted");
      const path = join(s.dir, 'root-owned');
      await become.put(path, Buffer.from('x'), { mode: 0o600 });
      assert.equal((await become.exec(`stat -c %U:%a ${path}`)).stdout.toString(), 'root:600\n');
      assert.equal((await become.get(path)).toString(), 'x');
    } finally {
      await become.close();
    }
    const refused = await connectSsh({ ...base, user: NOSUDO_USER.name, become: true, knownHostsPath: kh });
    try {
      await assert.rejects(refused.exec('id -u'), (e: unknown) => {
        assert.ok(e instanceof HostError);
        assert.match(e.message, new RegExp(`^e2e: sudo refused for user ${NOSUDO_USER.name}: `));
        assert.equal(e.hint, `allow passwordless sudo for ${NOSUDO_USER.name} (NOPASSWD in /etc/sudoers.d/) or connect as root`);
        return true;
      });
    } finally {
      await refused.close();
    }
  });

  test('key passphrase: the right one authenticates; a wrong or missing one is a clear error', async () => {
    const kh = knownHosts(`${ADDR} ${keyB64(s.hostKeyA)}\n`);
    const locked = join(s.dir, 'locked');
    const conn = await connectSsh({ ...base, privateKeyPath: locked, passphrase: 'correct horse', knownHostsPath: kh });
    assert.equal((await conn.exec('id -u')).stdout.toString(), '0\n');
    await conn.close();
    for (const passphrase of ['wrong', undefined]) {
      await assert.rejects(connectSsh({ ...base, privateKeyPath: locked, ...(passphrase ? { passphrase } : {}), knownHostsPath: kh }), (e: unknown) => {
        assert.ok(e instanceof HostError);
        assert.match(e.message, new RegExp(`^e2e: cannot use private key ${locked}: `));
        assert.ok(!e.message.includes('wrong'), 'the passphrase is never echoed');
        assert.equal(e.hint, 'check the key file and its passphrase secret');
        return true;
      });
    }
  });

  test('ssh-agent: a key held by the agent authenticates without a key file', async () => {
    const sock = join(s.dir, 'agent.sock');
    const agent = spawn('ssh-agent', ['-D', '-a', sock], { stdio: 'ignore' });
    try {
      for (let i = 0; i < 50 && !existsSync(sock); i++) await new Promise((r) => setTimeout(r, 50));
      execFileSync('ssh-add', ['-q', s.clientKey], { env: { ...process.env, SSH_AUTH_SOCK: sock }, stdio: 'ignore' });
      const kh = knownHosts(`${ADDR} ${keyB64(s.hostKeyA)}\n`);
      const { privateKeyPath: _unused, ...noKey } = base;
      const conn = await connectSsh({ ...noKey, agentSocket: sock, knownHostsPath: kh });
      assert.equal((await conn.exec('id -u')).stdout.toString(), '0\n');
      await conn.close();
      await rejectsWith(connectSsh({ ...noKey, agentSocket: join(s.dir, 'no-agent.sock'), knownHostsPath: kh }), `e2e: no ssh-agent at ${join(s.dir, 'no-agent.sock')}`);
      // an agent without the right key: refused, naming the agent
      execFileSync('ssh-add', ['-q', '-D'], { env: { ...process.env, SSH_AUTH_SOCK: sock }, stdio: 'ignore' });
      execFileSync('ssh-add', ['-q', s.wrongKey], { env: { ...process.env, SSH_AUTH_SOCK: sock }, stdio: 'ignore' });
      await rejectsWith(connectSsh({ ...noKey, agentSocket: sock, knownHostsPath: kh }), 'e2e: authentication refused for user root with the keys of ssh-agent');
    } finally {
      agent.kill('SIGTERM');
    }
  });

  test('the engine over SSH: deploy, then a no-op re-deploy (0 changed) on one connection', async () => {
    const kh = knownHosts(`${ADDR} ${keyB64(s.hostKeyA)}\n`);
    const root = join(s.dir, 'deploy');
    let connects = 0;
    const hostSpec = {
      name: 'e2e',
      groups: ['web'],
      phase: 'webs',
      connect: async () => (connects++, connectSsh({ ...base, user: TEST_USER.name, become: true, knownHostsPath: kh })),
      tasks: [
        { name: 'dir', op: { op: 'directory' as const, path: root, mode: 0o755 } },
        ...Array.from({ length: 10 }, (_, i) => ({ name: `file ${i}`, op: { op: 'file' as const, path: `${root}/f${i}.conf`, content: `value ${i}\n`, mode: 0o644 }, notify: ['reload'] })),
      ],
      handlers: [{ name: 'reload', op: { op: 'command' as const, command: `echo reloaded >> ${root}.log` } }],
    };
    const opts = { hosts: [hostSpec], phases: [{ name: 'webs' }], output: 'silent' as const, journalDir: join(s.dir, 'journal'), remoteJournalRoot: join(s.dir, 'remote-journal') };
    const first = await runDeploy(opts);
    assert.equal(first.ok, true, JSON.stringify(first.hosts[0]));
    assert.equal(first.hosts[0]!.counts.changed, 12);
    const t0 = performance.now();
    const second = await runDeploy(opts);
    const noop = performance.now() - t0;
    assert.deepEqual(second.hosts[0]!.counts, { ok: 11, changed: 0, failed: 0, skipped: 0 });
    assert.equal(connects, 2);
    assert.equal(readFileSync(`${root}.log`, 'utf8'), 'reloaded\n');
    process.stdout.write(`# no-op deploy over SSH (sudo, 11 tasks): ${noop.toFixed(0)} ms, timings ${JSON.stringify(second.hosts[0]!.timings)}\n`);
  });
}
