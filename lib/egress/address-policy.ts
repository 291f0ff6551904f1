import { BlockList, isIP } from 'node:net';

/**
 * Which IP addresses an outbound call may connect to. Everything that is not a public unicast
 * address is refused: a job's URL is written by an API caller, and without this rule it could
 * reach the function's own network (the database, the instance metadata service, a neighbour's
 * admin port) through our credentials.
 */
const FORBIDDEN_V4: ReadonlyArray<readonly [string, number, string]> = [
  ['0.0.0.0', 8, 'this-network'],
  ['10.0.0.0', 8, 'private'],
  ['100.64.0.0', 10, 'carrier-grade NAT'],
  ['127.0.0.0', 8, 'loopback'],
  ['169.254.0.0', 16, 'link-local (includes the instance metadata service)'],
  ['172.16.0.0', 12, 'private'],
  ['192.0.0.0', 24, 'IETF protocol assignments'],
  ['192.0.2.0', 24, 'documentation'],
  ['192.88.99.0', 24, '6to4 relay anycast'],
  ['192.168.0.0', 16, 'private'],
  ['198.18.0.0', 15, 'benchmarking'],
  ['198.51.100.0', 24, 'documentation'],
  ['203.0.113.0', 24, 'documentation'],
  ['224.0.0.0', 4, 'multicast'],
  ['240.0.0.0', 4, 'reserved (includes broadcast)'],
];

const FORBIDDEN_V6: ReadonlyArray<readonly [string, number, string]> = [
  ['::', 128, 'unspecified'],
  ['::1', 128, 'loopback'],
  ['100::', 64, 'discard-only'],
  ['2001:db8::', 32, 'documentation'],
  ['fc00::', 7, 'unique-local (includes the instance metadata service fd00:ec2::254)'],
  ['fe80::', 10, 'link-local'],
  ['fec0::', 10, 'site-local (deprecated)'],
  ['ff00::', 8, 'multicast'],
];

const LOOPBACK_V4 = ['127.0.0.0', 8] as const;

export interface AddressPolicy {
  /**
   * Test-only: let calls reach loopback addresses (127.0.0.0/8, ::1), so a test can run a
   * receiver on the same machine. Set in code where a test builds its registry; no environment
   * variable or deploy option turns it on.
   */
  allowLoopback?: boolean;
}

/** The reason an address may not be connected to, or null when it may. Works for IPv4 and IPv6. */
export function forbiddenAddressReason(address: string, policy: AddressPolicy = {}): string | null {
  const v4 = embeddedIPv4(address);
  if (v4 !== null) {
    if (policy.allowLoopback && inSubnet(v4, LOOPBACK_V4[0], LOOPBACK_V4[1], 'ipv4')) return null;
    for (const [net, prefix, reason] of FORBIDDEN_V4) {
      if (inSubnet(v4, net, prefix, 'ipv4')) return reason;
    }
    return null;
  }
  if (isIP(address) !== 6) return 'not an IP address';
  if (policy.allowLoopback && inSubnet(address, '::1', 128, 'ipv6')) return null;
  for (const [net, prefix, reason] of FORBIDDEN_V6) {
    if (inSubnet(address, net, prefix, 'ipv6')) return reason;
  }
  return null;
}

function inSubnet(address: string, net: string, prefix: number, type: 'ipv4' | 'ipv6'): boolean {
  const list = new BlockList();
  list.addSubnet(net, prefix, type);
  return list.check(address, type);
}

/**
 * The IPv4 address an address stands for: itself, or the one embedded in an IPv6 address that
 * routes to it (IPv4-mapped ::ffff:a.b.c.d, IPv4-compatible ::a.b.c.d, NAT64 64:ff9b::/96, and
 * 6to4 2002:AABB:CCDD::/48). Null for other IPv6 addresses.
 */
export function embeddedIPv4(address: string): string | null {
  if (isIP(address) === 4) return address;
  const words = ipv6Words(address);
  if (!words) return null;
  const fromWords = (high: number, low: number) =>
    `${high >> 8}.${high & 0xff}.${low >> 8}.${low & 0xff}`;
  const zero = (from: number, to: number) => words.slice(from, to).every((word) => word === 0);
  // ::ffff:a.b.c.d (mapped) and ::ffff:0:a.b.c.d (translated)
  if (zero(0, 5) && words[5] === 0xffff) return fromWords(words[6]!, words[7]!);
  if (zero(0, 4) && words[4] === 0xffff && words[5] === 0) return fromWords(words[6]!, words[7]!);
  // ::a.b.c.d (deprecated IPv4-compatible); :: and ::1 are handled as IPv6
  if (zero(0, 6) && (words[6] !== 0 || words[7]! > 1)) return fromWords(words[6]!, words[7]!);
  // 64:ff9b::/96 and 64:ff9b:1::/48 (NAT64)
  if (words[0] === 0x64 && words[1] === 0xff9b && zero(2, 6)) {
    return fromWords(words[6]!, words[7]!);
  }
  if (words[0] === 0x64 && words[1] === 0xff9b && words[2] === 1) {
    return fromWords(words[6]!, words[7]!);
  }
  if (words[0] === 0x2002) return fromWords(words[1]!, words[2]!);
  return null;
}

/** The eight 16-bit words of an IPv6 address (with or without an embedded dotted quad). */
function ipv6Words(address: string): number[] | null {
  const bare = address.replace(/%.*$/, '');
  if (isIP(bare) !== 6) return null;
  let text = bare.toLowerCase();
  const dotted = /(\d+)\.(\d+)\.(\d+)\.(\d+)$/.exec(text);
  if (dotted) {
    const [a, b, c, d] = dotted.slice(1).map(Number) as [number, number, number, number];
    text = `${text.slice(0, dotted.index)}${((a << 8) | b).toString(16)}:${((c << 8) | d).toString(16)}`;
  }
  const [head = '', tail] = text.split('::') as [string, string | undefined];
  const parse = (part: string) => (part === '' ? [] : part.split(':').map((w) => parseInt(w, 16)));
  const left = parse(head);
  const right = tail === undefined ? [] : parse(tail);
  const fill = tail === undefined ? 0 : 8 - left.length - right.length;
  const words = [...left, ...Array<number>(fill).fill(0), ...right];
  return words.length === 8 ? words : null;
}
