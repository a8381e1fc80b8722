/**
 * WS-Security in workerd: the education adapter signs its requests with WebCrypto alone, and the
 * Ungedatabasen simulator (in Node, demanding WS-Security; test/workers/global-setup.ts) answers them.
 */
import { env } from 'cloudflare:test';
import { describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config';
import { adaptersFromConfig } from '../../src/runtime/adapters';

describe('WS-Security in workerd', () => {
  const subject = () => ({ citizenId: 'c-1', cpr: env.EDUCATION_SIMULATOR_CPR });

  it('signs with the configured certificate: the platform answers', async () => {
    const config = loadConfig({ NODE_ENV: 'test', EDUCATION_URL: env.EDUCATION_SIMULATOR_URL, EDUCATION_WSSE_CERT: env.WSSE_CERTIFICATE, EDUCATION_WSSE_KEY: env.WSSE_KEY });
    const education = adaptersFromConfig(config, '101').education!;
    expect((await education.pull(subject())).records.length).toBeGreaterThan(0);
  });

  it('without the certificate the platform refuses, and the adapter says why', async () => {
    const education = adaptersFromConfig(loadConfig({ NODE_ENV: 'test', EDUCATION_URL: env.EDUCATION_SIMULATOR_URL }), '101').education!;
    await expect(education.pull(subject())).rejects.toMatchObject({ permanent: true, code: 'soap-invalidsecurity' });
  });
});
