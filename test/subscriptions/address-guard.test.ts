/**
 * S6: an outbound subscription to a private or loopback address is refused unless the address is
 * explicitly allowed — by the URL's literal address, by its name, by what the name resolves to, and
 * (Node) at connect time through the HTTP agent's lookup.
 */
import type { lookup } from 'node:dns';
import { describe, expect, it } from 'vitest';
import { checkSubscriptionUrl, internalAddressReason } from '../../src/subscriptions/address-guard';
import { guardedLookup } from '../../src/runtime/subscription-transport';

describe('internal addresses', () => {
  it('names internal IPv4 and IPv6 ranges, including IPv4 hidden in IPv6', () => {
    const internal = ['127.0.0.1', '127.8.9.10', '10.1.2.3', '172.16.0.1', '172.31.255.255', '192.168.1.1', '169.254.169.254', '100.64.0.1', '0.0.0.0', '224.0.0.1', '255.255.255.255', '198.18.0.1', '192.0.0.8',
      '::1', '::', 'fe80::1', 'fc00::1', 'fd12:3456::1', 'ff02::1', '::ffff:127.0.0.1', '::ffff:7f00:1', '::ffff:10.0.0.1', '64:ff9b::a00:1', '[::1]', 'fe80::1%eth0'];
    for (const address of internal) expect(internalAddressReason(address), address).toEqual(expect.any(String));
    const external = ['8.8.8.8', '1.1.1.1', '172.32.0.1', '100.128.0.1', '193.163.1.1', '2001:4860:4860::8888', '::ffff:8.8.8.8', '2a00:1450::1'];
    for (const address of external) expect(internalAddressReason(address), address).toBeNull();
    for (const notAnAddress of ['example.dk', '256.1.1.1', '1.2.3', '::g', '1::2::3']) expect(internalAddressReason(notAnAddress), notAnAddress).toBeUndefined();
  });

  it('also sees IPv4 in the other IPv6 forms that carry it, and the deprecated and discard IPv6 ranges', async () => {
    // IPv4-compatible (::a.b.c.d, as the URL parser writes it: ::7f00:1), 6to4 (2002:AABB:CCDD::), local-use
    // NAT64 (64:ff9b:1::/48, whatever IPv4 it translates to), site-local (fec0::/10), discard-only (100::/64).
    const internal = ['::127.0.0.1', '::7f00:1', '::a00:1', '2002:7f00:1::', '2002:a00:1::1', '2002:c0a8:101::', '64:ff9b:1::a00:1', '64:ff9b:1:2::1', 'fec0::1', 'feff::1', '100::1'];
    for (const address of internal) expect(internalAddressReason(address), address).toEqual(expect.any(String));
    for (const address of ['2002:808:808::1', '::808:808', '2001:db9::1', '64:ff9b:2::1']) expect(internalAddressReason(address), address).toBeNull();
    expect((await checkSubscriptionUrl('https://[::127.0.0.1]/hook', [])).ok).toBe(false);
    expect((await checkSubscriptionUrl('https://[2002:a9fe:a9fe::]/latest', [])).ok).toBe(false);
  });
});

describe('subscription URLs', () => {
  const refused = async (url: string, allowed: string[] = [], resolve?: (h: string) => Promise<string[]>) => {
    const result = await checkSubscriptionUrl(url, allowed, resolve);
    expect(result.ok, url).toBe(false);
    return result.ok ? '' : result.reason;
  };
  it('refuses loopback, private and link-local addresses, local names, plain http and credentials', async () => {
    expect(await refused('https://127.0.0.1/hook')).toMatch(/loopback/);
    expect(await refused('https://[::1]:8443/hook')).toMatch(/loopback/);
    expect(await refused('https://10.0.0.5/hook')).toMatch(/private/);
    expect(await refused('https://169.254.169.254/latest/meta-data')).toMatch(/link-local/);
    expect(await refused('https://[::ffff:192.168.0.1]/')).toMatch(/private/);
    expect(await refused('https://localhost/hook')).toMatch(/local network/);
    expect(await refused('https://printer.local/hook')).toMatch(/local network/);
    expect(await refused('https://intranet/hook')).toMatch(/local network/);
    expect(await refused('http://vendor.example.dk/hook')).toMatch(/https/);
    expect(await refused('https://user:pw@vendor.example.dk/hook')).toMatch(/credentials/);
    expect(await refused('ftp://vendor.example.dk/')).toMatch(/https/);
    expect(await refused('not a url')).toMatch(/absolute URL/);
  });

  it('refuses a public-looking name that resolves to an internal address', async () => {
    const resolve = async (host: string) => (host === 'rebind.example.dk' ? ['93.184.216.34', '127.0.0.1'] : ['93.184.216.34']);
    const reason = await refused('https://rebind.example.dk/hook', [], resolve);
    expect(reason).toMatch(/resolves to an internal address: loopback/);
    // The answer goes to the subscriber: it must not learn what the municipality's resolver says about its names.
    expect(reason).not.toContain('127.0.0.1');
    expect(await checkSubscriptionUrl('https://vendor.example.dk/hook', [], resolve)).toEqual({ ok: true });
    expect(await refused('https://gone.example.dk/hook', [], async () => { throw new Error('ENOTFOUND'); })).toMatch(/does not resolve/);
  });

  it('allows an internal address only when it is on the allowlist (host, or host and port)', async () => {
    expect(await checkSubscriptionUrl('http://127.0.0.1:9000/hook', ['127.0.0.1'])).toEqual({ ok: true });
    expect(await checkSubscriptionUrl('https://10.0.0.5/hook', ['10.0.0.5:443'])).toEqual({ ok: true });
    expect(await refused('https://10.0.0.5:8443/hook', ['10.0.0.5:443'])).toMatch(/private/);
    expect(await checkSubscriptionUrl('http://[::1]:9000/', ['[::1]:9000'])).toEqual({ ok: true });
    expect(await checkSubscriptionUrl('https://93.184.216.34/hook', [])).toEqual({ ok: true });
  });
});

describe('the connect-time lookup (Node)', () => {
  const fakeResolver = (answers: Record<string, string[]>) =>
    ((hostname: string, _options: unknown, callback: (e: Error | null, a: { address: string; family: number }[]) => void) =>
      callback(null, (answers[hostname] ?? []).map((address) => ({ address, family: address.includes(':') ? 6 : 4 })))) as unknown as typeof lookup;
  const run = (lookupFn: ReturnType<typeof guardedLookup>, host: string) =>
    new Promise<{ error: Error | null; address: unknown }>((resolve) => lookupFn(host, {}, (error, address) => resolve({ error, address })));

  it('refuses a name that resolves to an internal address when connecting, unless the host is allowed', async () => {
    const resolver = fakeResolver({ 'rebind.example.dk': ['10.0.0.7'], 'vendor.example.dk': ['93.184.216.34'], 'receiver.test': ['127.0.0.1'] });
    const guarded = guardedLookup(['receiver.test'], resolver);
    const refusal = (await run(guarded, 'rebind.example.dk')).error?.message;
    expect(refusal).toMatch(/resolves to an internal address: private/);
    expect(refusal).not.toContain('10.0.0.7'); // kept as the delivery's lastError, which the subscriber reads
    expect(await run(guarded, 'vendor.example.dk')).toEqual({ error: null, address: '93.184.216.34' });
    expect(await run(guarded, 'receiver.test')).toEqual({ error: null, address: '127.0.0.1' });
  });
});
