// A host over SSH: node-ssh (ssh2) with strict host-key checking, one reused connection per host,
// at most `maxChannels` channels at once (sshd's MaxSessions is 10), TCP_NODELAY, timeouts.
// Every failure becomes a HostError that names the host and says what to do.
import { readFile, stat } from 'node:fs/promises';
import { connect as netConnect, type Socket } from 'node:net';
import { Readable } from 'node:stream';
import { NodeSSH } from 'node-ssh';
import { HostError } from '../util/errors.ts';
import { shq, type Connection, type ExecOptions, type ExecResult } from './connection.ts';
import {
  appendKnownHost,
  checkHostKey,
  parseKnownHosts,
  preferredHostKeyTypes,
  type HostKeyVerdict,
} from './known-hosts.ts';
import { Semaphore } from './semaphore.ts';

export interface SshOptions {
  /** Inventory name: every message starts with it. */
  host: string;
  address: string;
  port?: number;
  user: string;
  /** Private key file; without it the ssh-agent at `agentSocket` (or $SSH_AUTH_SOCK) is used. */
  privateKeyPath?: string;
  /** Passphrase of the key file, already resolved from its Secret; never printed. */
  passphrase?: string;
  agentSocket?: string;
  knownHostsPath: string;
  /** Explicit opt-in: record an UNKNOWN host's key. A changed key is never accepted. */
  acceptNewHostKeys?: boolean;
  /** Non-root user: run every command through `sudo -n`. */
  become?: boolean;
  connectTimeoutMs?: number;
  commandTimeoutMs?: number;
  maxChannels?: number;
}

const HOST_KEY_ALGORITHMS = [
  'ssh-ed25519',
  'ecdsa-sha2-nistp256',
  'ecdsa-sha2-nistp384',
  'ecdsa-sha2-nistp521',
  'rsa-sha2-512',
  'rsa-sha2-256',
  'ssh-rsa',
];

export class SshConnection implements Connection {
  readonly channels: Semaphore;

  constructor(
    readonly host: string,
    private readonly ssh: NodeSSH,
    private readonly opts: SshOptions,
  ) {
    this.channels = new Semaphore(opts.maxChannels ?? 10);
  }

  private get sudo(): boolean {
    return this.opts.become === true && this.opts.user !== 'root';
  }

  exec(command: string, options: ExecOptions = {}): Promise<ExecResult> {
    const wrapped = this.sudo ? `sudo -n -- sh -c ${shq(command)}` : command;
    const timeoutMs = options.timeoutMs ?? this.opts.commandTimeoutMs ?? 300_000;
    return new Promise<ExecResult>((resolve, reject) => {
      // The caller hears about a timeout at once; the channel slot is released only when sshd
      // really closes the channel (it waits for the command's processes), so the bound holds.
      const onTimeout = () =>
        reject(new HostError(this.host, `command timed out after ${timeoutMs / 1000} s: ${firstLine(command)}`, 'the host may be overloaded or the command hangs; run it by hand to see'));
      this.channels
        .use(() => this.execRetryingOpen(wrapped, { ...options, timeoutMs }, onTimeout))
        .then(resolve, reject);
    });
  }

  /**
   * sshd frees a session slot only when it has processed OUR close of the previous channel, so a
   * channel opened right after one ended can be refused ("open failed") although we never exceed
   * MaxSessions. Nothing ran in that case: retry a few times, briefly and boundedly.
   */
  private async execRetryingOpen(wrapped: string, options: ExecOptions & { timeoutMs: number }, onTimeout: () => void): Promise<ExecResult> {
    for (let attempt = 1; ; attempt++) {
      try {
        return await this.execChannel(wrapped, options, onTimeout);
      } catch (e) {
        if (!(e instanceof ChannelOpenFailure) || attempt >= 8) throw e instanceof ChannelOpenFailure ? e.hostError : e;
        await new Promise((r) => setTimeout(r, 5 * attempt));
      }
    }
  }

  private async execChannel(wrapped: string, options: ExecOptions & { timeoutMs: number }, onTimeout: () => void): Promise<ExecResult> {
    const stdout: Buffer[] = [];
    const stderr: Buffer[] = [];
    let timer: NodeJS.Timeout | undefined;
    const stdin = options.stdin === undefined ? undefined : Readable.from([Buffer.from(options.stdin)]);
    try {
      const r = await this.ssh.execCommand(wrapped, {
        ...(stdin ? { stdin } : {}),
        noTrim: true,
        onStdout: (c) => stdout.push(c),
        onStderr: (c) => stderr.push(c),
        onChannel: (ch) => {
          timer = setTimeout(() => {
            onTimeout();
            // sshd delivers the signal to the session's process; the close ends the channel
            // as soon as the command's processes let go of it.
            ch.signal('KILL');
            ch.close();
          }, options.timeoutMs);
        },
      });
      const err = Buffer.concat(stderr);
      if (this.sudo && r.code === 1 && /sudo: (a password is required|.*not in the sudoers)/.test(err.toString())) {
        throw new HostError(this.host, `sudo refused for user ${this.opts.user}: ${err.toString().trim()}`, `allow passwordless sudo for ${this.opts.user} (NOPASSWD in /etc/sudoers.d/) or connect as root`);
      }
      const result: ExecResult = { code: r.code ?? 255, stdout: Buffer.concat(stdout), stderr: err };
      if (r.signal) result.signal = r.signal;
      return result;
    } catch (e) {
      if (e instanceof HostError) throw e;
      const err = new HostError(this.host, `SSH channel failed: ${(e as Error).message}`, 'the connection was lost or sshd refused the channel; retry, and check the host');
      if (/Channel open failure/i.test((e as Error).message)) throw new ChannelOpenFailure(err);
      throw err;
    } finally {
      if (timer) clearTimeout(timer);
    }
  }

  async put(path: string, bytes: Buffer, options: { mode?: number } = {}): Promise<void> {
    const mode = (options.mode ?? 0o600).toString(8);
    // umask so the file never exists with wider permissions than asked for, even briefly.
    const r = await this.exec(`umask 077 && cat > ${shq(path)} && chmod ${mode} ${shq(path)}`, { stdin: bytes });
    if (r.code !== 0) throw new HostError(this.host, `cannot write ${path}: ${r.stderr.toString().trim()}`);
  }

  async get(path: string): Promise<Buffer> {
    const r = await this.exec(`cat -- ${shq(path)}`);
    if (r.code !== 0) throw new HostError(this.host, `cannot read ${path}: ${r.stderr.toString().trim()}`);
    return r.stdout;
  }

  async close(): Promise<void> {
    this.ssh.dispose();
  }
}

class ChannelOpenFailure extends Error {
  constructor(readonly hostError: HostError) {
    super(hostError.message);
  }
}

function firstLine(s: string): string {
  const l = s.split('\n')[0] ?? '';
  return l.length > 120 ? `${l.slice(0, 117)}...` : l;
}

/** TCP first (our own socket, so "unreachable" is told apart from SSH failures), then SSH. */
function openSocket(o: SshOptions, port: number, timeoutMs: number): Promise<Socket> {
  return new Promise((resolve, reject) => {
    const sock = netConnect({ host: o.address, port });
    const timer = setTimeout(() => {
      sock.destroy();
      reject(new HostError(o.host, `unreachable: no answer from ${o.address}:${port} within ${timeoutMs / 1000} s`, 'is the host up and the address/port in the inventory right?'));
    }, timeoutMs);
    sock.once('connect', () => {
      clearTimeout(timer);
      sock.setNoDelay(true); // many small request/response exchanges: no Nagle delay
      resolve(sock);
    });
    sock.once('error', (e: NodeJS.ErrnoException) => {
      clearTimeout(timer);
      const why =
        e.code === 'ECONNREFUSED'
          ? 'connection refused'
          : e.code === 'EHOSTUNREACH' || e.code === 'ENETUNREACH'
            ? 'no route to host'
            : e.code === 'ETIMEDOUT'
              ? 'connection timed out'
              : (e.code ?? e.message);
      reject(new HostError(o.host, `unreachable: ${why} at ${o.address}:${port}`, 'is the host up, sshd running, and the address/port in the inventory right?'));
    });
  });
}

function hostKeyError(o: SshOptions, port: number, v: HostKeyVerdict): HostError {
  const where = `${o.address}:${port}`;
  const keyscan = `ssh-keyscan${port === 22 ? '' : ` -p ${port}`}`;
  switch (v.status) {
    case 'unknown':
      return new HostError(
        o.host,
        `host key unknown: ${where} offers ${v.keyType} ${v.fingerprint}, which is not in ${o.knownHostsPath}`,
        `check the fingerprint out of band, then add it: ${keyscan} -t ${v.keyType} ${o.address} >> ${o.knownHostsPath} (or pass --accept-new-host-keys)`,
      );
    case 'changed': {
      const known = v.known.map((k) => `${k.keyType} ${k.fingerprint} (${o.knownHostsPath}:${k.line})`).join(', ');
      const token = port === 22 ? o.address : `[${o.address}]:${port}`;
      return new HostError(
        o.host,
        `host key CHANGED: ${where} offers ${v.keyType} ${v.fingerprint}, known_hosts has ${known}; refusing to connect (possible man-in-the-middle)`,
        `if the host was really reinstalled, verify the new key out of band, then: ssh-keygen -R '${token}' -f ${o.knownHostsPath} (--accept-new-host-keys never replaces a changed key)`,
      );
    }
    case 'revoked':
      return new HostError(o.host, `host key REVOKED: ${where} offers ${v.fingerprint}, marked @revoked in ${o.knownHostsPath}:${v.line}; refusing to connect`, 'this key must not be trusted; re-key the host');
    case 'trusted':
      return new HostError(o.host, 'host key check failed unexpectedly');
  }
}

export async function connectSsh(o: SshOptions): Promise<SshConnection> {
  const port = o.port ?? 22;
  const timeoutMs = o.connectTimeoutMs ?? 10_000;
  let knownText = '';
  try {
    knownText = await readFile(o.knownHostsPath, 'utf8');
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw new HostError(o.host, `cannot read ${o.knownHostsPath}: ${(e as Error).message}`);
  }
  const entries = parseKnownHosts(knownText);
  const names = o.address === o.host ? [o.address] : [o.address, o.host];

  let privateKey: string | undefined;
  if (o.privateKeyPath) {
    try {
      privateKey = await readFile(o.privateKeyPath, 'utf8');
    } catch (e) {
      throw new HostError(o.host, `cannot read private key ${o.privateKeyPath}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`, 'fix ssh.private_key in the inventory');
    }
  }
  const agent = o.agentSocket ?? process.env.SSH_AUTH_SOCK;
  if (!privateKey && !agent) {
    throw new HostError(o.host, 'no SSH credentials: no private key configured and no ssh-agent (SSH_AUTH_SOCK unset)', 'set ssh.private_key in the inventory or start ssh-agent');
  }
  if (!privateKey && agent && !(await isSocket(agent))) {
    throw new HostError(o.host, `no ssh-agent at ${agent}`, 'start ssh-agent (and ssh-add the key), or set ssh.private_key in the inventory');
  }

  const sock = await openSocket(o, port, timeoutMs);
  let verdict: HostKeyVerdict | undefined;
  let accepted: Buffer | undefined;
  const ssh = new NodeSSH();
  try {
    await ssh.connect({
      sock,
      host: o.address,
      port,
      username: o.user,
      ...(privateKey ? { privateKey } : { agent }),
      ...(o.passphrase !== undefined ? { passphrase: o.passphrase } : {}),
      readyTimeout: timeoutMs,
      keepaliveInterval: 15_000,
      algorithms: { serverHostKey: preferredHostKeyTypes(entries, names, port, HOST_KEY_ALGORITHMS) as never },
      // ssh2 hands the raw key blob when hostHash is unset.
      hostVerifier: (key: Buffer) => {
        verdict = checkHostKey(entries, names, port, key);
        if (verdict.status === 'trusted') return true;
        if (verdict.status === 'unknown' && o.acceptNewHostKeys) {
          accepted = Buffer.from(key);
          return true;
        }
        return false;
      },
    });
  } catch (e) {
    ssh.dispose();
    sock.destroy();
    if (verdict && verdict.status !== 'trusted' && !accepted) throw hostKeyError(o, port, verdict);
    throw classifyConnectError(o, port, e as Error & { level?: string; code?: string });
  }
  ssh.connection?.setMaxListeners(64); // node-ssh adds one 'error' listener per running command
  if (accepted) await appendKnownHost(o.knownHostsPath, o.address, port, accepted);
  return new SshConnection(o.host, ssh, o);
}

async function isSocket(path: string): Promise<boolean> {
  try {
    return (await stat(path)).isSocket();
  } catch {
    return false;
  }
}

function classifyConnectError(o: SshOptions, port: number, e: Error & { level?: string; code?: string }): HostError {
  const msg = e.message ?? String(e);
  if (e.level === 'client-authentication' || /authentication methods failed/i.test(msg)) {
    const cred = o.privateKeyPath ? `key ${o.privateKeyPath}` : 'the keys of ssh-agent';
    return new HostError(o.host, `authentication refused for user ${o.user} with ${cred}`, `add the public key to ~${o.user}/.ssh/authorized_keys on ${o.host}, or fix ssh.user / ssh.private_key in the inventory`);
  }
  if (/passphrase|encrypted private|Cannot parse privateKey/i.test(msg)) {
    return new HostError(o.host, `cannot use private key ${o.privateKeyPath ?? ''}: ${msg}`, 'check the key file and its passphrase secret');
  }
  if (/timed out/i.test(msg)) {
    return new HostError(o.host, `SSH handshake with ${o.address}:${port} timed out`, 'is an SSH server answering on that port?');
  }
  return new HostError(o.host, `SSH connection to ${o.address}:${port} failed: ${msg}`, 'check that sshd runs on the host and the inventory address/port');
}
