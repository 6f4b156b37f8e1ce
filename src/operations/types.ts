// Operations in the pyinfra style: `plan(spec, facts)` is PURE and returns a Change that carries
// the commands (and, for files, the new bytes). The engine applies Changes; --check simply does
// not. Every operation is idempotent: with facts that already match, plan() says 'ok' and no steps.
export interface PackageSpec {
  op: 'package';
  names: string[];
  state?: 'present' | 'absent';
  /** Refresh the package index before installing (only when something is missing). */
  update?: boolean;
  /** apt: an index younger than this many seconds is not refreshed (default 3600; 0 = always). */
  cacheValidSeconds?: number;
  /** apt: the packages' maintainer scripts do not start services (policy-rc.d for this run only). */
  noStart?: boolean;
}

export interface FileSpec {
  op: 'file';
  path: string;
  content: string | Buffer;
  mode?: number;
  owner?: string;
  group?: string;
  /** Command run against the STAGED file before it replaces the live one; `%s` = staged path. */
  validate?: string;
  /** Never show the content (diffs, logs): secrets, keys. */
  secret?: boolean;
}

/** A file or symlink that must not exist (e.g. Debian's sites-enabled/default). */
export interface AbsentSpec {
  op: 'absent';
  path: string;
}

export interface DirectorySpec {
  op: 'directory';
  path: string;
  mode?: number;
  owner?: string;
  group?: string;
}

export interface ServiceSpec {
  op: 'service';
  name: string;
  enabled?: boolean;
  state?: 'started' | 'stopped' | 'reloaded' | 'restarted';
}

export interface CommandSpec {
  op: 'command';
  command: string;
  /** Skip when this path exists. */
  creates?: string;
  /** Skip when this path does not exist. */
  removes?: string;
  /** Skip when this command exits 0 (evaluated with the facts, in the same round trip). */
  unless?: string;
  /** Run only when this command exits 0. */
  onlyIf?: string;
}

export type OperationSpec = PackageSpec | FileSpec | AbsentSpec | DirectorySpec | ServiceSpec | CommandSpec;

/** One effect the engine performs, in order. */
export type Step =
  | { kind: 'exec'; command: string }
  | { kind: 'remove'; path: string }
  | {
      kind: 'write';
      path: string;
      content: Buffer;
      sha256: string;
      mode: number;
      owner: string;
      group: string;
      validate?: string;
      /** Describe without any trace of the content (not even a hash prefix). */
      secret?: boolean;
    };

export interface Change {
  status: 'ok' | 'changed';
  /** One line for humans: "install nginx", "/etc/nginx/x: content, mode 0640". */
  summary: string;
  steps: Step[];
  /** For --diff and the journal. */
  file?: { path: string; secret: boolean; before: { sha256?: string; mode?: number; owner?: string; group?: string } | null };
  /** Packages this change installs (the journal records them for rollback). */
  installs?: string[];
}

/** What each step does, as shell-like text: the fixture tests compare these. */
export function describeSteps(steps: Step[]): string[] {
  return steps.map((s) => {
    if (s.kind === 'exec') return s.command;
    if (s.kind === 'remove') return `rm -f -- ${s.path}`;
    const v = s.validate ? `, validate: ${s.validate}` : '';
    const what = s.secret ? 'secret content' : `sha256 ${s.sha256.slice(0, 12)}`;
    return `write ${s.path} (${what}, ${modeString(s.mode)}, ${s.owner}:${s.group}${v})`;
  });
}

export function modeString(mode: number): string {
  return `0${mode.toString(8).padStart(3, '0')}`;
}
