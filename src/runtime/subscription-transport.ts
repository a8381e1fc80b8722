/**
 * How events reach subscribers from Node (S6): names resolved by the system resolver, and every
 * connection's address checked at connect time — the agent's lookup refuses internal addresses
 * unless the host is allowed — so a name that resolves to a public address when the subscription is
 * made and to an internal one later (DNS rebinding) is refused at delivery.
 */
import { lookup, type LookupAddress } from 'node:dns';
import { lookup as lookupAll } from 'node:dns/promises';
import { Agent, fetch as undiciFetch } from 'undici';
import type { SubscriptionTransport } from '../subscriptions/service';
import { internalAddressReason } from '../subscriptions/address-guard';

type LookupCallback = (error: NodeJS.ErrnoException | null, address: string | LookupAddress[], family?: number) => void;

/** A `lookup` for the HTTP agent that fails when a name resolves to an internal address of a host not allowed. */
export function guardedLookup(allowedHosts: readonly string[], resolve: typeof lookup = lookup) {
  const allowed = new Set(allowedHosts.map((h) => h.toLowerCase().replace(/:\d+$/, '')));
  return (hostname: string, options: { all?: boolean; family?: number }, callback: LookupCallback) => {
    resolve(hostname, { ...options, all: true }, (error, addresses) => {
      if (error) return callback(error, []);
      const list = addresses as unknown as LookupAddress[];
      if (!allowed.has(hostname.toLowerCase())) {
        for (const { address } of list) {
          const reason = internalAddressReason(address);
          // Without the address: this becomes the delivery's lastError, which the subscriber reads.
          if (reason) return callback(Object.assign(new Error(`${hostname} resolves to an internal address: ${reason}; refused`), { code: 'EADDRNOTALLOWED' }), []);
        }
      }
      if (options.all) callback(null, list);
      else callback(null, list[0]!.address, list[0]!.family);
    });
  };
}

export function nodeSubscriptionTransport(allowedHosts: readonly string[]): SubscriptionTransport {
  const agent = new Agent({ connect: { lookup: guardedLookup(allowedHosts) as never }, connections: 16 });
  return {
    resolveHost: async (host) => (await lookupAll(host, { all: true })).map((a) => a.address),
    fetch: (url, init) => undiciFetch(url, { ...(init as object), dispatcher: agent }) as unknown as Promise<Response>,
  };
}
