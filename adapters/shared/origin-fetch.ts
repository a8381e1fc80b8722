/**
 * Sends the requests for one origin through a fetch of its own, for a library that calls the global
 * `fetch` and takes no other (fhir-kit-client). On Workers a client certificate is presented only by
 * fetching through an mTLS certificate binding, so the FHIR servers' origins are routed to the
 * binding's `fetch` here; every other request goes to the fetch that was global before.
 *
 * Routing is by the request's origin, so concurrent calls of different adapters cannot cross; one
 * origin has one route (the last one set), which is what one certificate per deployment means.
 */
const routes = new Map<string, typeof fetch>();
let installed = false;

const urlOf = (input: Parameters<typeof fetch>[0]): string => (typeof input === 'string' ? input : input instanceof URL ? input.href : input.url);

/** The origin a request goes to; undefined for what is no absolute URL (left to the fetch before, to refuse as it does). */
function originOf(input: Parameters<typeof fetch>[0]): string | undefined {
  try {
    return new URL(urlOf(input)).origin;
  } catch {
    return undefined;
  }
}

/** From now on every request for `origin` (scheme, host and port) goes through `through`. */
export function routeOriginThrough(origin: string, through: typeof fetch): void {
  routes.set(new URL(origin).origin, through);
  if (installed) return;
  installed = true;
  const before = globalThis.fetch;
  globalThis.fetch = ((input, init) => {
    const origin = originOf(input);
    const route = origin === undefined ? undefined : routes.get(origin);
    return route ? route(input, init) : before(input, init);
  }) as typeof fetch;
}

