// IPv4 arithmetic for the inventory checks. Pure; dotted-quad only (no shorthand like 10.1).

/** 32-bit unsigned value of a dotted-quad IPv4 address, or undefined when it is not one. */
export function parseIPv4(text: string): number | undefined {
  const m = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$/.exec(text);
  if (!m) return undefined;
  let value = 0;
  for (const part of m.slice(1)) {
    if (part.length > 1 && part.startsWith('0')) return undefined; // 010 is octal to some tools
    const n = Number(part);
    if (n > 255) return undefined;
    value = value * 256 + n;
  }
  return value;
}

export function formatIPv4(value: number): string {
  return [24, 16, 8, 0].map((shift) => Math.floor(value / 2 ** shift) % 256).join('.');
}

export interface Cidr {
  /** The address as written, without the prefix: `10.0.0.3`. */
  address: string;
  prefix: number;
}

/** `10.0.0.3/24` -> { address, prefix }, or undefined. The prefix is required (1..32). */
export function parseCidr(text: string): Cidr | undefined {
  const m = /^([^/]+)\/(\d{1,2})$/.exec(text);
  if (!m || parseIPv4(m[1]!) === undefined) return undefined;
  const prefix = Number(m[2]);
  if (prefix < 1 || prefix > 32) return undefined;
  return { address: m[1]!, prefix };
}

/** Network number of `address` under `prefix`. */
export function networkOf(address: number, prefix: number): number {
  const size = 2 ** (32 - prefix);
  return address - (address % size);
}

export function sameSubnet(a: string, b: string, prefix: number): boolean {
  const x = parseIPv4(a);
  const y = parseIPv4(b);
  return x !== undefined && y !== undefined && networkOf(x, prefix) === networkOf(y, prefix);
}

/** True for the network or broadcast address of its subnet (prefixes /1../30 have both). */
export function isNetworkOrBroadcast(address: string, prefix: number): boolean {
  const a = parseIPv4(address);
  if (a === undefined || prefix > 30) return false;
  const net = networkOf(a, prefix);
  return a === net || a === net + 2 ** (32 - prefix) - 1;
}

/** `HOST:PORT` with an IPv4 host, e.g. `127.0.0.1:9650`. */
export function parseHostPort(text: string): { host: string; port: number } | undefined {
  const m = /^([^:]+):(\d{1,5})$/.exec(text);
  if (!m || parseIPv4(m[1]!) === undefined) return undefined;
  const port = Number(m[2]);
  return port >= 1 && port <= 65535 ? { host: m[1]!, port } : undefined;
}
