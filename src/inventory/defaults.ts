// Every default of the inventory in one place; docs/inventory.md lists the same values.

export const DEFAULTS = {
  ssh: {
    user: 'root',
    port: 22,
    privateKey: '~/.ssh/id_ed25519',
    knownHosts: '~/.ssh/known_hosts',
    become: 'none',
    connectTimeout: 10,
  },
  instance: {
    version: 2,
    advertInt: 1,
    preempt: true,
    preemptDelay: 0,
    unicast: false,
    checksum: 'keepalived',
    // keepalived: garp_master_repeat 5, garp_master_delay 5
    garp: { burst: 5, repeatDelay: 5 },
  },
  check: { interval: 2, rise: 2, fall: 2, weight: 0 },
  partitionGuard: { interval: 1, fall: 3, rise: 2 },
  nginx: {
    listen: 80,
    serverName: '_',
    backendPort: 80,
    testPage: true,
    proxyParams: {
      // Debian's fixed proxy_params (1.22.1-9+deb12u6) uses $host; the old guides used $http_host.
      hostHeader: '$host',
      xForwardedFor: true,
      connectTimeout: 30,
      sendTimeout: 60,
      readTimeout: 60,
      buffering: true,
      bufferSize: '4k',
      buffers: { count: 8, size: '4k' },
    },
    upstream: { method: 'round_robin', zone: true, keepalive: 0, maxFails: 1, failTimeout: 10 },
  },
  haupd: { statusSocket: '/run/haupd/status.sock', metricsListen: '127.0.0.1:9650' },
  // Deploy journals kept per host (the engine's DEFAULT_KEEP_JOURNALS, for hosts built without an inventory).
  deploy: { keepJournals: 20 },
} as const;

/** Built-in checks, run by haupd itself (no shell script to install). */
export const BUILTIN_CHECKS = ['nginx'] as const;
