// known_hosts, the OpenSSH format, checked strictly and purely (no I/O except the append helper).
// Supported: plain host patterns (comma lists, `*`/`?` wildcards, `!` negation), `[host]:port`
// for non-22 ports, hashed entries `|1|base64(salt)|base64(HMAC-SHA1(salt, host))`, and the
// `@revoked` marker. `@cert-authority` lines are skipped: haup does not do host certificates.
import { createHash, createHmac, timingSafeEqual } from 'node:crypto';
import { appendFile, mkdir, readFile } from 'node:fs/promises';
import { dirname } from 'node:path';

export interface KnownHostEntry {
  line: number;
  marker?: 'revoked' | 'cert-authority';
  /** Plain patterns, or undefined for a hashed entry. */
  patterns?: string[];
  hashed?: { salt: Buffer; hash: Buffer };
  keyType: string;
  key: Buffer;
}

export type HostKeyVerdict =
  | { status: 'trusted'; fingerprint: string }
  | { status: 'unknown'; fingerprint: string; keyType: string }
  /** A key of the same type is on record and differs, or only other key types are on record. */
  | { status: 'changed'; fingerprint: string; keyType: string; known: { keyType: string; fingerprint: string; line: number }[] }
  | { status: 'revoked'; fingerprint: string; line: number };

export function parseKnownHosts(text: string): KnownHostEntry[] {
  const entries: KnownHostEntry[] = [];
  text.split('\n').forEach((raw, i) => {
    const line = raw.trim();
    if (line === '' || line.startsWith('#')) return;
    const fields = line.split(/\s+/);
    let marker: KnownHostEntry['marker'];
    if (fields[0]?.startsWith('@')) {
      const m = fields.shift();
      if (m === '@revoked') marker = 'revoked';
      else if (m === '@cert-authority') marker = 'cert-authority';
      else return; // unknown marker: OpenSSH ignores the line too
    }
    const [hosts, keyType, keyB64] = fields;
    if (!hosts || !keyType || !keyB64) return;
    const key = Buffer.from(keyB64, 'base64');
    if (key.length === 0) return;
    const entry: KnownHostEntry = { line: i + 1, keyType, key };
    if (marker) entry.marker = marker;
    if (hosts.startsWith('|1|')) {
      const [, , salt, hash] = hosts.split('|');
      if (!salt || !hash) return;
      entry.hashed = { salt: Buffer.from(salt, 'base64'), hash: Buffer.from(hash, 'base64') };
    } else {
      entry.patterns = hosts.split(',');
    }
    entries.push(entry);
  });
  return entries;
}

/** The name OpenSSH records: `host` on port 22, `[host]:port` otherwise. */
export function hostToken(host: string, port: number): string {
  return port === 22 ? host : `[${host}]:${port}`;
}

function globToRegExp(glob: string): RegExp {
  const body = glob.replace(/[.+^${}()|[\]\\]/g, '\\$&').replace(/\*/g, '.*').replace(/\?/g, '.');
  return new RegExp(`^${body}$`, 'i');
}

export function entryMatches(entry: KnownHostEntry, token: string): boolean {
  if (entry.hashed) {
    const mac = createHmac('sha1', entry.hashed.salt).update(token).digest();
    return mac.length === entry.hashed.hash.length && timingSafeEqual(mac, entry.hashed.hash);
  }
  let matched = false;
  for (const p of entry.patterns ?? []) {
    if (p.startsWith('!')) {
      if (globToRegExp(p.slice(1)).test(token)) return false; // a negated match wins
    } else if (globToRegExp(p).test(token)) matched = true;
  }
  return matched;
}

/** Key type from an SSH wire-format public key blob (its first string). */
export function keyTypeOf(blob: Buffer): string {
  if (blob.length < 4) return 'unknown';
  const len = blob.readUInt32BE(0);
  return blob.subarray(4, 4 + len).toString('latin1');
}

/** OpenSSH's fingerprint: `SHA256:` + unpadded base64 of the blob's sha256. */
export function fingerprint(blob: Buffer): string {
  return `SHA256:${createHash('sha256').update(blob).digest('base64').replace(/=+$/, '')}`;
}

/**
 * Decide about the key `blob` a server presented. `names` are what the host may be recorded
 * under (its address, and its inventory name); each is checked as `hostToken(name, port)`.
 */
export function checkHostKey(entries: KnownHostEntry[], names: string[], port: number, blob: Buffer): HostKeyVerdict {
  const tokens = names.map((n) => hostToken(n, port));
  const fp = fingerprint(blob);
  const keyType = keyTypeOf(blob);
  const forHost = entries.filter((e) => e.marker !== 'cert-authority' && tokens.some((t) => entryMatches(e, t)));
  const revoked = entries.find((e) => e.marker === 'revoked' && e.key.equals(blob));
  if (revoked) return { status: 'revoked', fingerprint: fp, line: revoked.line };
  const plain = forHost.filter((e) => e.marker === undefined);
  if (plain.some((e) => e.keyType === keyType && e.key.equals(blob))) return { status: 'trusted', fingerprint: fp };
  if (plain.length === 0) return { status: 'unknown', fingerprint: fp, keyType };
  const sameType = plain.filter((e) => e.keyType === keyType);
  const known = (sameType.length > 0 ? sameType : plain).map((e) => ({ keyType: e.keyType, fingerprint: fingerprint(e.key), line: e.line }));
  return { status: 'changed', fingerprint: fp, keyType, known };
}

/** The host-key algorithms to offer: types already on record first, so a host with an
 * ed25519 entry is asked for its ed25519 key (as OpenSSH orders them). */
export function preferredHostKeyTypes(entries: KnownHostEntry[], names: string[], port: number, all: string[]): string[] {
  const tokens = names.map((n) => hostToken(n, port));
  const known = new Set(entries.filter((e) => e.marker === undefined && tokens.some((t) => entryMatches(e, t))).map((e) => e.keyType));
  const first = all.filter((a) => known.has(a) || (a.startsWith('rsa-sha2') && known.has('ssh-rsa')));
  return [...first, ...all.filter((a) => !first.includes(a))];
}

export function knownHostsLine(name: string, port: number, blob: Buffer): string {
  return `${hostToken(name, port)} ${keyTypeOf(blob)} ${blob.toString('base64')}`;
}

/** The explicit `--accept-new-host-keys` path: append one line (file created 0600 if absent). */
export async function appendKnownHost(file: string, name: string, port: number, blob: Buffer): Promise<void> {
  await mkdir(dirname(file), { recursive: true, mode: 0o700 });
  const existing = await readFile(file, 'utf8').catch(() => '');
  const sep = existing !== '' && !existing.endsWith('\n') ? '\n' : '';
  await appendFile(file, sep + knownHostsLine(name, port, blob) + '\n', { mode: 0o600 });
}
