/**
 * A `fetch` that presents a client certificate (mutual TLS), for sector services that admit only
 * holders of a function certificate — STAR's services want a FOCES/OCES certificate. Built on
 * node:https, so it needs no HTTP client of its own; the adapters take it through their `fetch`
 * option. Node only (Workers present client certificates through an mTLS binding instead).
 */
import { Agent, request } from 'node:https';
import { Readable } from 'node:stream';

export interface MutualTlsOptions {
  /** PEM: the client certificate (chain) and its private key. */
  cert: string;
  key: string;
  /** PEM: the CA(s) to trust for the server, if not the system's. */
  ca?: string;
}

export function createMutualTlsFetch(options: MutualTlsOptions): typeof fetch {
  const agent = new Agent({ cert: options.cert, key: options.key, ...(options.ca ? { ca: options.ca } : {}), keepAlive: true });
  return async (input, init) => {
    // A Request carries its own method, headers, body and signal (fhir-kit-client sends one, without init).
    const asked = input instanceof Request ? input : undefined;
    const url = new URL(typeof input === 'string' ? input : input instanceof URL ? input.href : input.url);
    if (url.protocol !== 'https:') throw new TypeError('mutual TLS needs an https URL');
    const headers = Object.fromEntries(new Headers(init?.headers ?? asked?.headers));
    const body = init?.body ?? (asked?.body ? await asked.text() : undefined);
    if (body !== undefined && body !== null && typeof body !== 'string') throw new TypeError('the mutual TLS fetch sends text bodies only');
    const method = init?.method ?? asked?.method ?? 'GET';
    const signal = init?.signal ?? asked?.signal;
    return new Promise<Response>((resolve, reject) => {
      const outgoing = request(url, { method, headers, agent, ...(signal ? { signal } : {}) }, (incoming) => {
        const responseHeaders = new Headers();
        for (const [name, value] of Object.entries(incoming.headers)) {
          if (value === undefined) continue;
          for (const one of Array.isArray(value) ? value : [value]) responseHeaders.append(name, one);
        }
        const status = incoming.statusCode ?? 502;
        const empty = status === 204 || status === 304 || method === 'HEAD';
        if (empty) incoming.resume();
        resolve(new Response(empty ? null : (Readable.toWeb(incoming) as ReadableStream<Uint8Array>), { status, statusText: incoming.statusMessage ?? '', headers: responseHeaders }));
      });
      outgoing.on('error', reject);
      if (typeof body === 'string') outgoing.write(body);
      outgoing.end();
    });
  };
}
