// Inventory host -> SSH connector options: the one place deploy (and verify, rollback) turn the
// resolved inventory's `ssh` settings into a connection.
import type { Host } from '../inventory/model.ts';
import { connectSsh, type SshConnection, type SshOptions } from './ssh.ts';

export interface ConnectFlags {
  /** `--accept-new-host-keys`: record UNKNOWN keys (never a changed one). */
  acceptNewHostKeys?: boolean;
  commandTimeoutMs?: number;
}

export function sshOptionsFor(host: Host, flags: ConnectFlags = {}): SshOptions {
  const s = host.ssh;
  const o: SshOptions = {
    host: host.name,
    address: s.host,
    port: s.port,
    user: s.user,
    privateKeyPath: s.privateKey,
    knownHostsPath: s.knownHosts,
    become: s.become === 'sudo',
    connectTimeoutMs: s.connectTimeout * 1000,
    acceptNewHostKeys: flags.acceptNewHostKeys === true,
  };
  // The passphrase is revealed only here, into ssh2's config; it is never logged.
  if (s.passphrase) o.passphrase = s.passphrase.reveal();
  if (flags.commandTimeoutMs !== undefined) o.commandTimeoutMs = flags.commandTimeoutMs;
  return o;
}

export function sshConnectorFor(host: Host, flags: ConnectFlags = {}): () => Promise<SshConnection> {
  return () => connectSsh(sshOptionsFor(host, flags));
}
