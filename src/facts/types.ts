// What the engine knows about a host before planning. Plain data (JSON-safe): plans are pure
// functions of it, and tests build it by hand.

export type OsFamily = 'debian' | 'rhel' | 'unknown';
export type PackageManager = 'apt' | 'dnf' | 'yum' | 'none';

export interface FileFact {
  type: 'file' | 'directory' | 'symlink' | 'other';
  /** Permission bits, e.g. 0o644. */
  mode: number;
  owner: string;
  group: string;
  /** Regular files only. */
  sha256?: string;
}

export interface ServiceFact {
  /** `systemctl is-enabled` output: enabled, disabled, static, masked, not-found, ... */
  enabled: string;
  /** `systemctl is-active` output: active, inactive, failed, activating, ... */
  active: string;
}

export interface Facts {
  os: { family: OsFamily; id: string; versionId: string; prettyName: string };
  packageManager: PackageManager;
  init: 'systemd' | 'other';
  /** Installed packages: name -> version. */
  packages: Record<string, string>;
  nginxVersion: string | null;
  haupdVersion: string | null;
  interfaces: { name: string; up: boolean; addresses: string[] }[];
  /** Requested paths that exist; an absent path has no key. */
  files: Record<string, FileFact>;
  services: Record<string, ServiceFact>;
  /** Guard commands (`unless` / `onlyIf`) -> their exit code. */
  probes: Record<string, number>;
  /** apt hosts: seconds since the newest package index in /var/lib/apt/lists was written; null: no index. */
  aptIndexAgeSeconds?: number | null;
}

/** What the plan needs beyond the always-gathered facts (collected from the operations). */
export interface FactRequest {
  paths: string[];
  services: string[];
  probes: string[];
}

export function emptyFactRequest(): FactRequest {
  return { paths: [], services: [], probes: [] };
}
