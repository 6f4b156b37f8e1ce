// The cached base image: a Debian 12 minbase with systemd, sshd and iproute2, customised so
// every host booted from it is distinct and quiet. Built once into /var/cache/haup/lab/base
// (into a temp dir, renamed when complete, so an interrupted build is never used).
import { chmodSync, existsSync, mkdirSync, readFileSync, rmSync, renameSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { CACHE_DIR } from './state.ts';
import { run } from './run.ts';
import { withCacheLock } from './lock.ts';

export const MIRROR = 'http://deb.debian.org/debian';
export const SUITE = 'bookworm';
// DESIGN.md §6's list, plus ping (tests and users probe the lab with it; minbase lacks it).
const INCLUDE = ['systemd', 'systemd-sysv', 'dbus', 'openssh-server', 'iproute2', 'curl', 'ca-certificates', 'procps', 'iputils-ping'];
/** Bump when the customisation below changes: older cached images are then rebuilt. */
const IMAGE_VERSION = 5;
const MARKER = '.haup-lab-image';

/**
 * One directory per image version: running hosts have the image as their overlay's lower layer,
 * so a newer image never replaces it in place.
 */
export const baseDir = (cacheDir = CACHE_DIR) => join(cacheDir, `base-v${IMAGE_VERSION}`);

function expectedMarker(): string {
  return JSON.stringify({ version: IMAGE_VERSION, suite: SUITE, include: INCLUDE });
}

export function imageIsCached(cacheDir = CACHE_DIR): boolean {
  try {
    return readFileSync(join(baseDir(cacheDir), MARKER), 'utf8') === expectedMarker();
  } catch {
    return false;
  }
}

/** Units that would disturb tests or deploys inside a container (apt's timers take the dpkg lock). */
const MASKED_UNITS = [
  'apt-daily.timer',
  'apt-daily-upgrade.timer',
  'apt-daily.service',
  'apt-daily-upgrade.service',
  'dpkg-db-backup.timer',
  'e2scrub_all.timer',
  'e2scrub_reap.service',
  'fstrim.timer',
  'getty@tty1.service',
  'console-getty.service',
];

function customise(dir: string): void {
  // Each host gets its hostname from nspawn and its machine-id from --uuid: an empty
  // /etc/machine-id makes systemd take the container's uuid instead of a shared one.
  rmSync(join(dir, 'etc/hostname'), { force: true });
  writeFileSync(join(dir, 'etc/machine-id'), '');
  rmSync(join(dir, 'var/lib/dbus/machine-id'), { force: true });
  symlinkSync('/etc/machine-id', join(dir, 'var/lib/dbus/machine-id'));
  // Host keys come per host from /etc/ssh/lab (bind-mounted), never from the shared image.
  for (const t of ['rsa', 'ecdsa', 'ed25519', 'dsa']) {
    rmSync(join(dir, `etc/ssh/ssh_host_${t}_key`), { force: true });
    rmSync(join(dir, `etc/ssh/ssh_host_${t}_key.pub`), { force: true });
  }
  mkdirSync(join(dir, 'etc/ssh/lab'), { recursive: true });
  mkdirSync(join(dir, 'etc/ssh/sshd_config.d'), { recursive: true });
  writeFileSync(
    join(dir, 'etc/ssh/sshd_config.d/haup-lab.conf'),
    '# haup lab: per-host key bind-mounted by `haup lab up`; key-only root login.\n' +
      'HostKey /etc/ssh/lab/ssh_host_ed25519_key\nPermitRootLogin prohibit-password\n' +
      'PasswordAuthentication no\nKbdInteractiveAuthentication no\nUseDNS no\n',
  );
  mkdirSync(join(dir, 'root/.ssh'), { recursive: true });
  chmodSync(join(dir, 'root/.ssh'), 0o700);
  writeFileSync(join(dir, 'root/.ssh/authorized_keys'), '', { mode: 0o600 });
  // apt: only the lab's local repository, no Recommends (the repo is computed without them).
  mkdirSync(join(dir, 'srv/repo'), { recursive: true });
  writeFileSync(join(dir, 'etc/apt/sources.list'), 'deb [trusted=yes] file:/srv/repo ./\n');
  rmSync(join(dir, 'etc/apt/sources.list.d'), { recursive: true, force: true });
  mkdirSync(join(dir, 'etc/apt/sources.list.d'));
  writeFileSync(
    join(dir, 'etc/apt/apt.conf.d/90haup-lab'),
    'APT::Install-Recommends "false";\nAPT::Install-Suggests "false";\nAcquire::Languages "none";\n',
  );
  // nspawn with --network-namespace-path keeps the MACHINE's sysfs view of the network
  // (/sys/class/net lists the machine's interfaces with their ifindexes), so anything reading it
  // — haupd, ip's helpers, udev rules — would see the wrong eth0. Mount the sysfs of the host's own
  // namespace over the net parts before anything else starts.
  writeFileSync(
    join(dir, 'etc/systemd/system/haup-lab-netns-sysfs.service'),
    [
      '[Unit]',
      "Description=haup lab: this host's own network namespace in /sys/class/net",
      'DefaultDependencies=no',
      'Before=sysinit.target network-pre.target systemd-networkd.service',
      '',
      '[Service]',
      'Type=oneshot',
      'RemainAfterExit=yes',
      'ExecStart=/bin/sh -ec "mkdir -p /run/netns-sysfs; mountpoint -q /run/netns-sysfs || mount -t sysfs -o ro,nosuid,nodev,noexec sysfs /run/netns-sysfs; mount --bind /run/netns-sysfs/class/net /sys/class/net; mount --bind /run/netns-sysfs/devices/virtual/net /sys/devices/virtual/net"',
      '',
      '[Install]',
      'WantedBy=sysinit.target',
      '',
    ].join('\n'),
  );
  mkdirSync(join(dir, 'etc/systemd/system/sysinit.target.wants'), { recursive: true });
  symlinkSync('../haup-lab-netns-sysfs.service', join(dir, 'etc/systemd/system/sysinit.target.wants/haup-lab-netns-sysfs.service'));
  // Packages' postinst may start services: fine in a booted host (policy-rc.d not needed).
  rmSync(join(dir, 'var/cache/apt/archives'), { recursive: true, force: true });
  mkdirSync(join(dir, 'var/cache/apt/archives/partial'), { recursive: true });
  rmSync(join(dir, 'var/lib/apt/lists'), { recursive: true, force: true });
  mkdirSync(join(dir, 'var/lib/apt/lists/partial'), { recursive: true });
}

export interface BuildProgress {
  (line: string): void;
}

/** Ensure the base image exists; returns true when it had to be built. */
export async function ensureBaseImage(progress: BuildProgress, cacheDir = CACHE_DIR): Promise<boolean> {
  if (imageIsCached(cacheDir)) return false;
  return withCacheLock(cacheDir, async () => {
    if (imageIsCached(cacheDir)) return false; // built by someone else while we waited
    const final = baseDir(cacheDir);
    const tmp = `${final}.building`;
    rmSync(tmp, { recursive: true, force: true });
    mkdirSync(cacheDir, { recursive: true });
    let count = 0;
    progress(`debootstrap ${SUITE} (minbase) from ${MIRROR}: about 90 packages, ~280 MB, first run only`);
    await run(
      'debootstrap',
      ['--variant=minbase', `--include=${INCLUDE.join(',')}`, SUITE, tmp, MIRROR],
      {
        timeoutMs: 10 * 60_000,
        onLine: (l) => {
          const m = /^I: (Retrieving|Validating|Unpacking|Configuring|Extracting) (\S+)/.exec(l);
          if (m?.[1] === 'Retrieving') count++;
          if (m) progress(`debootstrap: ${m[1]!.toLowerCase()} ${m[2]}${m[1] === 'Retrieving' ? ` (${count})` : ''}`);
          else if (/^[IWE]: /.test(l)) progress(`debootstrap: ${l.slice(3)}`);
        },
      },
    );
    progress('customising the image (per-host identity, sshd, apt, timers off)');
    customise(tmp);
    await run('chroot', [tmp, 'systemctl', 'mask', ...MASKED_UNITS], { timeoutMs: 60_000 });
    writeFileSync(join(tmp, MARKER), expectedMarker());
    rmSync(final, { recursive: true, force: true }); // only a broken leftover of this same version
    renameSync(tmp, final);
    return true;
  });
}

export function imageExists(cacheDir = CACHE_DIR): boolean {
  return existsSync(join(baseDir(cacheDir), MARKER));
}
