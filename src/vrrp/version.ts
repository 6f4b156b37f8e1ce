// haupd's version: set by the bundle (esbuild `define`), '0.1.0-dev' from a checkout.
declare const HAUPD_BUNDLED_VERSION: string | undefined;
export const HAUPD_VERSION: string = typeof HAUPD_BUNDLED_VERSION === 'string' ? HAUPD_BUNDLED_VERSION : '0.1.0-dev';
/** Running from the bundle (lib/haupd.cjs), not from a checkout through tsx. */
export const IS_BUNDLED: boolean = typeof HAUPD_BUNDLED_VERSION === 'string';

export const DEFAULT_CONFIG = '/etc/haup/haupd.yml';
