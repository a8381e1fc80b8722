/**
 * Where we deliver events (S6): never into a private, loopback, link-local or otherwise internal
 * network unless the address is explicitly allowed (`SUBSCRIPTION_ALLOWED_HOSTS`). A subscriber
 * could otherwise make the service call its own admin ports or the municipality's intranet (SSRF).
 *
 * Checked when a subscription is made (the URL, and on Node the addresses its name resolves to) and
 * again at every delivery, on the address actually connected to (Node: the lookup of the HTTP
 * agent), so a name that later resolves elsewhere (DNS rebinding) is refused too.
 */

export type AddressCheck = { ok: true } | { ok: false; reason: string };

const V4 = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$/;

function v4Parts(address: string): number[] | null {
  const match = V4.exec(address);
  if (!match) return null;
  const parts = match.slice(1).map(Number);
  return parts.every((p) => p <= 255) ? parts : null;
}

/** Why an IPv4 address is internal, or null when it is a public one. */
function internalV4([a, b, c]: number[]): string | null {
  if (a === 0) return 'this-network (0.0.0.0/8)';
  if (a === 10) return 'private (10.0.0.0/8)';
  if (a === 100 && b! >= 64 && b! <= 127) return 'carrier-grade NAT (100.64.0.0/10)';
  if (a === 127) return 'loopback (127.0.0.0/8)';
  if (a === 169 && b === 254) return 'link-local (169.254.0.0/16, e.g. cloud metadata)';
  if (a === 172 && b! >= 16 && b! <= 31) return 'private (172.16.0.0/12)';
  if (a === 192 && b === 0 && c === 0) return 'IETF protocol assignments (192.0.0.0/24)';
  if (a === 192 && b === 168) return 'private (192.168.0.0/16)';
  if (a === 198 && (b === 18 || b === 19)) return 'benchmarking (198.18.0.0/15)';
  if (a! >= 224) return 'multicast or reserved (224.0.0.0/3)';
  return null;
}

/** The 16 bytes of an IPv6 address, or null if it is not one. */
function v6Bytes(address: string): number[] | null {
  let text = address.toLowerCase();
  if (text.startsWith('[') && text.endsWith(']')) text = text.slice(1, -1);
  text = text.split('%')[0]!; // zone index
  if (!/^[0-9a-f:.]+$/.test(text) || !text.includes(':')) return null;
  let tail: number[] = [];
  const lastColon = text.lastIndexOf(':');
  const last = text.slice(lastColon + 1);
  if (last.includes('.')) {
    const v4 = v4Parts(last);
    if (!v4) return null;
    tail = v4;
    text = `${text.slice(0, lastColon + 1)}0:0`;
  }
  const halves = text.split('::');
  if (halves.length > 2) return null;
  const groups = (part: string) => (part ? part.split(':') : []);
  const head = groups(halves[0]!);
  const rest = halves.length === 2 ? groups(halves[1]!) : [];
  const missing = 8 - head.length - rest.length;
  if ((halves.length === 1 && missing !== 0) || missing < 0) return null;
  const all = [...head, ...Array(halves.length === 2 ? missing : 0).fill('0'), ...rest];
  if (all.length !== 8 || all.some((g) => !/^[0-9a-f]{1,4}$/.test(g))) return null;
  const bytes = all.flatMap((g) => [parseInt(g, 16) >> 8, parseInt(g, 16) & 0xff]);
  if (tail.length) bytes.splice(12, 4, ...tail);
  return bytes;
}

function internalV6(bytes: number[]): string | null {
  const zeroUpTo = (n: number) => bytes.slice(0, n).every((b) => b === 0);
  if (zeroUpTo(16)) return 'unspecified (::)';
  if (zeroUpTo(15) && bytes[15] === 1) return 'loopback (::1)';
  // IPv4-mapped (::ffff:a.b.c.d) and NAT64 (64:ff9b::/96) carry an IPv4 address: judge that one.
  if (zeroUpTo(10) && bytes[10] === 0xff && bytes[11] === 0xff) return internalV4(bytes.slice(12));
  if (bytes[0] === 0x00 && bytes[1] === 0x64 && bytes[2] === 0xff && bytes[3] === 0x9b && bytes.slice(4, 12).every((b) => b === 0)) return internalV4(bytes.slice(12));
  // So do IPv4-compatible (::a.b.c.d, deprecated; sent through a tunnel where one is set up) and 6to4 (2002:AABB:CCDD::/48).
  if (zeroUpTo(12)) return internalV4(bytes.slice(12));
  if (bytes[0] === 0x20 && bytes[1] === 0x02) return internalV4(bytes.slice(2, 6));
  // Local-use NAT64 (RFC 8215) translates to whatever IPv4 the network's own translator serves: internal.
  if (bytes[0] === 0x00 && bytes[1] === 0x64 && bytes[2] === 0xff && bytes[3] === 0x9b && bytes[4] === 0x00 && bytes[5] === 0x01) return 'local-use NAT64 (64:ff9b:1::/48)';
  if (bytes[0] === 0x01 && bytes.slice(1, 8).every((b) => b === 0)) return 'discard-only (100::/64)';
  if ((bytes[0]! & 0xfe) === 0xfc) return 'unique local (fc00::/7)';
  if (bytes[0] === 0xfe && (bytes[1]! & 0xc0) === 0x80) return 'link-local (fe80::/10)';
  if (bytes[0] === 0xfe && (bytes[1]! & 0xc0) === 0xc0) return 'site-local (fec0::/10, deprecated)';
  if (bytes[0] === 0xff) return 'multicast (ff00::/8)';
  return null;
}

/** Why an IP address is not one we deliver to; null for a public address, undefined if it is no IP address. */
export function internalAddressReason(address: string): string | null | undefined {
  const v4 = v4Parts(address);
  if (v4) return internalV4(v4);
  const v6 = v6Bytes(address);
  if (v6) return internalV6(v6);
  return undefined;
}

const normaliseHost = (host: string) => host.toLowerCase().replace(/^\[|\]$/g, '').replace(/\.$/, '');

/** Whether `host` (and port) is on the explicit allowlist: `host` or `host:port` entries. */
export function isAllowedHost(url: URL, allowed: readonly string[]): boolean {
  const host = normaliseHost(url.hostname);
  const port = url.port || (url.protocol === 'https:' ? '443' : '80');
  return allowed.some((entry) => {
    const [name, entryPort] = entry.toLowerCase().startsWith('[') ? [entry.slice(1, entry.indexOf(']')), entry.slice(entry.indexOf(']') + 2) || undefined] : entry.split(':').length === 2 ? entry.split(':') : [entry, undefined];
    return normaliseHost(name!) === host && (!entryPort || entryPort === port);
  });
}

/**
 * The URL itself: https (plain http only to an allowed host), no credentials in it, and no host that
 * is internal by its name or address. Names are resolved by `resolve` where the runtime can (Node).
 */
export async function checkSubscriptionUrl(raw: string, allowed: readonly string[], resolve?: (host: string) => Promise<string[]>): Promise<AddressCheck> {
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    return { ok: false, reason: 'not an absolute URL' };
  }
  if (url.username || url.password) return { ok: false, reason: 'credentials do not belong in the URL; the events are signed instead' };
  if (url.protocol !== 'https:' && url.protocol !== 'http:') return { ok: false, reason: `events go over https, not ${url.protocol.replace(':', '')}` };
  if (isAllowedHost(url, allowed)) return { ok: true };
  if (url.protocol !== 'https:') return { ok: false, reason: 'events go over https (plain http only to an address on SUBSCRIPTION_ALLOWED_HOSTS)' };
  const host = normaliseHost(url.hostname);
  const literal = internalAddressReason(host);
  if (literal) return { ok: false, reason: `${host} is ${literal}: not an address we deliver to unless it is on SUBSCRIPTION_ALLOWED_HOSTS` };
  if (literal === null) return { ok: true };
  if (host === 'localhost' || host.endsWith('.localhost') || host.endsWith('.local') || host.endsWith('.internal') || !host.includes('.'))
    return { ok: false, reason: `${host} names a machine on the local network: not an address we deliver to unless it is on SUBSCRIPTION_ALLOWED_HOSTS` };
  if (resolve) {
    let addresses: string[];
    try {
      addresses = await resolve(host);
    } catch {
      return { ok: false, reason: `${host} does not resolve` };
    }
    for (const address of addresses) {
      const reason = internalAddressReason(address);
      // The range, not the address: the subscriber reads this, and must not learn what our resolver says about internal names.
      if (reason) return { ok: false, reason: `${host} resolves to an internal address: ${reason}; not one we deliver to unless the host is on SUBSCRIPTION_ALLOWED_HOSTS` };
    }
  }
  return { ok: true };
}
