// Track scripts (a command; exit 0 = OK) and the built-in nginx check, as periodic checks.
//
// A script runs without a shell (split on spaces) in its own process group; on timeout the whole
// group is killed (a shell's `sleep` child included) and the run counts as a failure. Whatever the
// script leaves running in its group is killed when it exits, so a check can never pile up
// processes.
//
// Built-in nginx check, `builtin:nginx` or `builtin:nginx:PORT`:
// - `pgrep -x nginx`: is an nginx process alive. Not `pidof`: in Debian minbase it is killall5's
//   link and always fails (DESIGN.md §6).
// - with PORT: also `GET http://127.0.0.1:PORT/` must get an HTTP response within the timeout.
//   Any status counts as alive (a 502 means the backends are down, and they are the same backends
//   behind both LBs: moving the VIP would not help, flapping would hurt). This catches an nginx
//   whose processes exist but that no longer answers (wedged workers, a listener gone after a bad
//   reload), which pgrep alone cannot see.
import { request } from 'node:http';
import { describeFailure, runCommand } from '../exec.ts';
import { startPeriodicCheck, type Clock, type PeriodicCheck, type ProbeResult } from './periodic.ts';
import type { CheckStatus } from './state.ts';

export type ScriptCommand = { kind: 'builtin-nginx'; port?: number } | { kind: 'command'; argv: string[] };

/** `builtin:nginx`, `builtin:nginx:8080`, or a command line. Throws on an unknown builtin. */
export function parseScript(script: string): ScriptCommand {
  const text = script.trim();
  if (text.startsWith('builtin:')) {
    const m = /^builtin:nginx(?::(\d{1,5}))?$/.exec(text);
    if (!m) throw new Error(`unknown built-in check ${JSON.stringify(text)} (known: builtin:nginx, builtin:nginx:PORT)`);
    if (m[1] === undefined) return { kind: 'builtin-nginx' };
    const port = Number(m[1]);
    if (port < 1 || port > 65535) throw new Error(`bad port in ${text}`);
    return { kind: 'builtin-nginx', port };
  }
  const argv = text.split(/\s+/).filter(Boolean);
  if (argv.length === 0) throw new Error('empty track script');
  return { kind: 'command', argv };
}

export async function runScriptProbe(argv: readonly string[], timeoutMs: number, signal?: AbortSignal): Promise<ProbeResult> {
  const [file, ...args] = argv as [string, ...string[]];
  const r = await runCommand(file, args, { timeoutMs, killGroupOnExit: true, ...(signal ? { signal } : {}) });
  return r.code === 0 && !r.timedOut ? { ok: true } : { ok: false, detail: describeFailure(r) };
}

export function httpAlive(port: number, timeoutMs: number): Promise<ProbeResult> {
  return new Promise((resolve) => {
    const req = request({ host: '127.0.0.1', port, path: '/', method: 'GET', timeout: timeoutMs, headers: { 'user-agent': 'haupd-check' } }, (res) => {
      res.resume();
      resolve({ ok: true, detail: `HTTP ${res.statusCode}` });
      req.destroy();
    });
    req.on('timeout', () => req.destroy(new Error(`no HTTP answer within ${timeoutMs} ms`)));
    req.on('error', (err) => resolve({ ok: false, detail: `GET 127.0.0.1:${port}: ${err.message}` }));
    req.end();
  });
}

export async function nginxProbe(port: number | undefined, timeoutMs: number, signal?: AbortSignal): Promise<ProbeResult> {
  const started = performance.now();
  const p = await runScriptProbe(['pgrep', '-x', 'nginx'], timeoutMs, signal);
  if (!p.ok) return { ok: false, detail: p.detail?.startsWith('exit 1') ? 'no nginx process' : `pgrep: ${p.detail}` };
  if (port === undefined) return { ok: true };
  return httpAlive(port, Math.max(1, timeoutMs - (performance.now() - started)));
}

export interface TrackScriptSpec {
  name: string;
  script: string;
  intervalMs: number;
  timeoutMs: number;
  rise: number;
  fall: number;
  weight: number;
}

export interface StartedTrackScript extends PeriodicCheck {
  readonly spec: TrackScriptSpec;
}

export function startTrackScript(spec: TrackScriptSpec, onChange: (status: CheckStatus, last: ProbeResult) => void, clock?: Clock): StartedTrackScript {
  const cmd = parseScript(spec.script);
  const check = startPeriodicCheck({
    intervalMs: spec.intervalMs,
    rise: spec.rise,
    fall: spec.fall,
    probe: (signal) => (cmd.kind === 'builtin-nginx' ? nginxProbe(cmd.port, spec.timeoutMs, signal) : runScriptProbe(cmd.argv, spec.timeoutMs, signal)),
    onChange,
    ...(clock ? { clock } : {}),
  });
  return {
    spec,
    get status() {
      return check.status;
    },
    get last() {
      return check.last;
    },
    get runs() {
      return check.runs;
    },
    stop: () => check.stop(),
  };
}
