/**
 * Runs in Node before the workerd tests: a DFDG simulator on loopback for the Cron Trigger test, a
 * social FHIR simulator for the certificate binding test, a regional health FHIR simulator for the
 * regional consent test, an Ungedatabasen simulator demanding
 * WS-Security for the signing test, an event receiver for the subscription
 * test (it keeps what it got; `GET /received` lists it), and an identity provider's JWKS
 * (`GET /jwks`; `GET /jwks-reads` counts the reads) for the token test.
 */
import type { Consent } from '@medplum/fhirtypes';
import { readFileSync } from 'node:fs';
import { createServer } from 'node:http';
import type { TestProject } from 'vitest/node';
import { startDfdgSimulator } from '../../adapters/dfdg';
import { startEducationSimulator } from '../../adapters/education/simulator';
import { healthRecordsFor } from '../../adapters/health/records';
import { startHealthSimulator } from '../../adapters/health/simulator';
import { generatePopulation } from '../../adapters/shared/population';
import { startSocialSimulator } from '../../adapters/social/simulator';
import { danishToday } from '../../src/views/danish';

export const CRON_POPULATION_SEED = 515;
/** Citizens the DFDG simulator knows; each workerd test file takes its own (cron: 0, 1, 3, 4; queue: 4–6; rounds: 8–10). */
export const CRON_POPULATION_SIZE = 11;
/** The regional health simulator's population (test/workers/regional-consent.test.ts) and its records' seed. */
const HEALTH_POPULATION_SEED = 616;
const HEALTH_RECORDS_SEED = 2026;

export default async function setup(project: TestProject) {
  const population = generatePopulation(CRON_POPULATION_SIZE, CRON_POPULATION_SEED).map((c) => ({ ...c, sectors: { ...c.sectors, employment: true } }));
  const simulator = await startDfdgSimulator({ population, port: 0 });
  project.provide('dfdgUrl', simulator.url);
  // A social FHIR server: the FHIR adapter's requests must also reach it through the certificate binding.
  const social = await startSocialSimulator({ size: 5, seed: CRON_POPULATION_SEED });
  project.provide('socialUrl', social.baseUrl);
  project.provide('socialCpr', social.citizens[0]!.cpr);
  // A regional health server: its first citizen's Consent permits until tomorrow (the nightly job ends it
  // once that day has passed; tomorrow, so a run that crosses midnight still finds it permitting), its
  // second's has no last day.
  const health = await startHealthSimulator({ population: generatePopulation(2, HEALTH_POPULATION_SEED).map((c) => ({ ...c, sectors: { employment: false, education: false, social: false, health: true } })), seed: HEALTH_RECORDS_SEED, port: 0 });
  const consentIdOf = (ordinal: number) => healthRecordsFor(health.citizens[ordinal]!, ordinal, HEALTH_RECORDS_SEED).find((r) => r.resourceType === 'Consent')!.id!;
  const ending = await health.repository.readResource<Consent>('Consent', consentIdOf(0));
  const endingLastDay = danishToday(new Date(Date.now() + 86_400_000));
  await health.repository.updateResource<Consent>({ ...ending, provision: { ...ending.provision, period: { start: '2025-01-01', end: endingLastDay } } });
  project.provide('healthUrl', health.baseUrl);
  project.provide('healthCitizens', JSON.stringify(health.citizens.map((c, ordinal) => ({ cpr: c.cpr, consentId: consentIdOf(ordinal), ...(ordinal === 0 ? { lastDay: endingLastDay } : {}) }))));
  // Ungedatabasen demanding WS-Security, trusting the test-only function certificate: the adapter signs in workerd.
  const certificatePem = readFileSync(new URL('../fixtures/tls/client.pem', import.meta.url), 'utf8');
  const education = await startEducationSimulator({ size: 40, seed: CRON_POPULATION_SEED, wsSecurity: { trustedCertificatesPem: [certificatePem] } });
  project.provide('educationUrl', education.url);
  project.provide('educationCpr', education.knownCitizens()[0]!.cpr);
  project.provide('wsseCertificate', certificatePem);
  project.provide('wsseKey', readFileSync(new URL('../fixtures/tls/client.key', import.meta.url), 'utf8'));
  const received: { headers: Record<string, unknown>; body: string }[] = [];
  const receiver = createServer((request, response) => {
    let body = '';
    request.on('data', (chunk) => (body += chunk));
    request.on('end', () => {
      if (request.method === 'GET') return response.end(JSON.stringify(received));
      received.push({ headers: request.headers, body });
      response.statusCode = 204;
      response.end();
    });
  });
  await new Promise<void>((resolve) => receiver.listen(0, '127.0.0.1', resolve));
  project.provide('receiverUrl', `http://127.0.0.1:${(receiver.address() as { port: number }).port}`);

  // The IdP: one RS256 and one ES256 signing key; the test signs with the private halves.
  const privateKeys: Record<string, unknown>[] = [];
  const publicKeys: Record<string, unknown>[] = [];
  for (const [alg, kid, algorithm] of [
    ['RS256', 'idp-rsa', { name: 'RSASSA-PKCS1-v1_5', modulusLength: 2048, publicExponent: new Uint8Array([1, 0, 1]), hash: 'SHA-256' }],
    ['ES256', 'idp-ec', { name: 'ECDSA', namedCurve: 'P-256' }],
  ] as const) {
    const pair = (await crypto.subtle.generateKey(algorithm, true, ['sign', 'verify'])) as CryptoKeyPair;
    privateKeys.push({ ...(await crypto.subtle.exportKey('jwk', pair.privateKey)), kid, alg });
    publicKeys.push({ ...(await crypto.subtle.exportKey('jwk', pair.publicKey)), kid, alg, use: 'sig' });
  }
  let jwksReads = 0;
  const idp = createServer((request, response) => {
    if (request.url === '/jwks-reads') return response.end(String(jwksReads));
    jwksReads++;
    response.writeHead(200, { 'content-type': 'application/jwk-set+json', 'cache-control': 'max-age=600' });
    response.end(JSON.stringify({ keys: publicKeys }));
  });
  await new Promise<void>((resolve) => idp.listen(0, '127.0.0.1', resolve));
  project.provide('idpUrl', `http://127.0.0.1:${(idp.address() as { port: number }).port}`);
  project.provide('idpPrivateKeys', JSON.stringify(privateKeys));
  return async () => {
    await simulator.close();
    await social.close();
    await health.close();
    await education.close();
    await new Promise<void>((resolve) => receiver.close(() => resolve()));
    await new Promise<void>((resolve) => idp.close(() => resolve()));
  };
}

declare module 'vitest' {
  export interface ProvidedContext {
    dfdgUrl: string;
    socialUrl: string;
    socialCpr: string;
    healthUrl: string;
    /** The health simulator's citizens in order, with their Consent's id. */
    healthCitizens: string;
    educationUrl: string;
    educationCpr: string;
    wsseCertificate: string;
    wsseKey: string;
    receiverUrl: string;
    idpUrl: string;
    idpPrivateKeys: string;
  }
}
