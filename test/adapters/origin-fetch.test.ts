/**
 * Routing one origin's requests through a fetch of its own (how a Workers mTLS certificate binding
 * reaches fhir-kit-client, which calls the global fetch): that origin only, whatever form the
 * request takes; every other request, and one that names no absolute URL, goes to the fetch that was
 * global before, and fails as it would have.
 */
import { afterAll, describe, expect, it } from 'vitest';

const original = globalThis.fetch;
afterAll(() => {
  globalThis.fetch = original;
});

describe('routeOriginThrough', () => {
  it('sends a routed origin through its fetch and everything else through the fetch before', async () => {
    const seen: string[] = [];
    // Like a real fetch, each refuses what is no absolute URL with a rejected promise.
    const answer = (who: string) => (async (input: Parameters<typeof fetch>[0]) => {
      const url = new URL(typeof input === 'string' ? input : input instanceof URL ? input.href : input.url).href;
      seen.push(`${who} ${url}`);
      return new Response(who);
    }) as typeof fetch;
    globalThis.fetch = answer('plain');
    const { routeOriginThrough } = await import('../../adapters/shared/origin-fetch');
    routeOriginThrough('https://fhir.region.example:8443/fhir/R4', answer('certificate'));

    await fetch('https://fhir.region.example:8443/fhir/R4/Patient/_search');
    await fetch(new Request('https://fhir.region.example:8443/fhir/R4/metadata'));
    await fetch(new URL('https://fhir.region.example:8443/x'));
    await fetch('https://fhir.region.example/fhir/R4/metadata'); // another port: another origin
    await fetch('https://vendor.example.dk/hook');
    expect(seen).toEqual([
      'certificate https://fhir.region.example:8443/fhir/R4/Patient/_search',
      'certificate https://fhir.region.example:8443/fhir/R4/metadata',
      'certificate https://fhir.region.example:8443/x',
      'plain https://fhir.region.example/fhir/R4/metadata',
      'plain https://vendor.example.dk/hook',
    ]);

    // Routed again (a second adapter for the same server): still one wrapper, the newest route.
    routeOriginThrough('https://fhir.region.example:8443', answer('renewed'));
    expect(await (await fetch('https://fhir.region.example:8443/y')).text()).toBe('renewed');

    // No absolute URL: left to the fetch before, which refuses it as a promise, not a throw.
    const outcome = globalThis.fetch('not a url');
    expect(outcome).toBeInstanceOf(Promise);
    await expect(outcome).rejects.toThrow(TypeError);
  });
});
