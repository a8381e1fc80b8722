/**
 * WS-Security (OASIS WSS 1.0, X.509 token profile) as STIL's integration platform asks of callers
 * of Ungedatabasen: exclusive canonicalisation against the W3C recommendation's own example, a
 * signature round trip, every way a request can fail the check, and the education adapter
 * against a simulator that demands it, over real HTTP. The certificate is the test-only function
 * certificate of test/fixtures/tls.
 */
import { createPrivateKey, X509Certificate } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AdapterError } from '../../adapters/adapter';
import { createEducationAdapter, startEducationSimulator, type EducationSimulator } from '../../adapters/education';
import { buildEnvelope } from '../../adapters/soap/envelope';
import { makeSelfSignedCertificate } from '../../adapters/soap/self-signed-certificate';
import { createWsSecuritySigner, exclusiveCanonical, parseElements } from '../../adapters/soap/ws-security';
import { createWsSecurityVerifier } from '../../adapters/soap/ws-security-verify';
import { loadConfig } from '../../src/config';
import { adaptersFromConfig } from '../../src/runtime/adapters';

const fixture = (file: string) => readFileSync(join(process.cwd(), 'test/fixtures/tls', file), 'utf8');
const certificatePem = fixture('client.pem');
const privateKeyPem = fixture('client.key');
const otherCertificatePem = fixture('server.pem');
const otherKeyPem = fixture('server.key');

describe('exclusive XML canonicalisation', () => {
  const canonical = (xml: string, localName: string) => exclusiveCanonical(parseElements(xml).find((e) => e.name.endsWith(localName))!);

  it('renders the W3C recommendation’s example as it gives it (xml-exc-c14n § 2.2)', () => {
    const document = '<n0:local xmlns:n0="foo:bar" xmlns:n3="ftp://example.org"><n1:elem2 xmlns:n1="http://example.net" xml:lang="en"><n3:stuff xmlns:n3="ftp://example.org"/></n1:elem2></n0:local>';
    expect(canonical(document, 'elem2')).toBe('<n1:elem2 xmlns:n1="http://example.net" xml:lang="en"><n3:stuff xmlns:n3="ftp://example.org"></n3:stuff></n1:elem2>');
    // The apex declares only what it uses, inherited or not; n0 is not used, so not rendered.
    const inherited = '<n0:local xmlns:n0="foo:bar" xmlns:n3="ftp://example.org"><n1:elem2 xmlns:n1="http://example.net"><n3:stuff/></n1:elem2></n0:local>';
    expect(canonical(inherited, 'elem2')).toBe('<n1:elem2 xmlns:n1="http://example.net"><n3:stuff xmlns:n3="ftp://example.org"></n3:stuff></n1:elem2>');
  });

  it('sorts namespaces and attributes, escapes text and attributes, and keeps whitespace', () => {
    const document = '<r xmlns="urn:d" xmlns:b="urn:b" xmlns:a="urn:a"><e b:z="1" a:y="2" x="3 &amp; &quot;4&quot;"> t &lt; &gt; &amp; </e></r>';
    expect(canonical(document, 'e')).toBe('<e xmlns="urn:d" xmlns:a="urn:a" xmlns:b="urn:b" x="3 &amp; &quot;4&quot;" a:y="2" b:z="1"> t &lt; &gt; &amp; </e>');
  });

  it('undeclares a default namespace only where an ancestor in the output declared one', () => {
    expect(canonical('<r xmlns="urn:d"><e xmlns=""><f/></e></r>', 'e')).toBe('<e><f></f></e>');
    expect(canonical('<r xmlns="urn:d"><g><e xmlns=""/></g></r>', 'g')).toBe('<g xmlns="urn:d"><e xmlns=""></e></g>');
  });
});

describe('signing and checking a request', () => {
  const envelope = buildEnvelope({ namespace: 'urn:test:ungedata', header: { Kaldskontekst: { KommuneKode: '101' } }, operation: 'HentBorgerDataRequest', content: { CPRNr: '0000000000', Note: 'a & b < c' } });
  const signer = createWsSecuritySigner({ certificatePem, privateKeyPem });
  const verify = createWsSecurityVerifier({ trustedCertificatesPem: [certificatePem] });
  let signed: string;
  beforeAll(async () => {
    signed = await signer.sign(envelope);
  });

  it('a signed request passes, naming whose certificate signed it', async () => {
    expect(await verify(signed)).toEqual({ ok: true, subject: 'CN=Test-only FOCES function certificate' });
    // The envelope's own content is untouched.
    expect(signed).toContain('<Kaldskontekst xmlns="urn:test:ungedata"><KommuneKode>101</KommuneKode></Kaldskontekst>');
    expect(signed).toContain('<Note>a &amp; b &lt; c</Note>');
  });

  it('a changed body, a stretched timestamp or a changed signature fails the check', async () => {
    expect(await verify(signed.replace('<CPRNr>0000000000</CPRNr>', '<CPRNr>0000000001</CPRNr>'))).toMatchObject({ ok: false, faultCode: 'wsse:FailedCheck', reason: expect.stringContaining('changed after signing') });
    const expires = /<wsu:Expires>([^<]+)<\/wsu:Expires>/.exec(signed)![1]!;
    expect(await verify(signed.replace(expires, '2099-01-01T00:00:00Z'))).toMatchObject({ ok: false, faultCode: 'wsse:FailedCheck' });
    const value = /<ds:SignatureValue>([^<]+)<\/ds:SignatureValue>/.exec(signed)![1]!;
    const flipped = (value[0] === 'A' ? 'B' : 'A') + value.slice(1);
    expect(await verify(signed.replace(value, flipped))).toMatchObject({ ok: false, faultCode: 'wsse:FailedCheck', reason: 'the signature does not match the signed information' });
  });

  it('no header, an unknown certificate, or a signature by another key fails it', async () => {
    expect(await verify(envelope)).toMatchObject({ ok: false, faultCode: 'wsse:InvalidSecurity', reason: 'the request has no wsse:Security header' });
    expect(await createWsSecurityVerifier({ trustedCertificatesPem: [otherCertificatePem] })(signed)).toMatchObject({ ok: false, faultCode: 'wsse:FailedAuthentication' });
    // A trusted certificate presented with a signature made by another key.
    const forged = await createWsSecuritySigner({ certificatePem, privateKeyPem: otherKeyPem }).sign(envelope);
    expect(await verify(forged)).toMatchObject({ ok: false, faultCode: 'wsse:FailedCheck', reason: 'the signature does not match the signed information' });
  });

  it('an expired request, or one dated ahead, fails it (beyond the tolerated clock difference)', async () => {
    const later = createWsSecurityVerifier({ trustedCertificatesPem: [certificatePem], now: () => new Date(Date.now() + 10 * 60_000) });
    expect(await later(signed)).toMatchObject({ ok: false, faultCode: 'wsse:MessageExpired', reason: 'the signed request has expired' });
    const earlier = createWsSecurityVerifier({ trustedCertificatesPem: [certificatePem], now: () => new Date(Date.now() - 10 * 60_000) });
    expect(await earlier(signed)).toMatchObject({ ok: false, faultCode: 'wsse:MessageExpired', reason: 'the timestamp is in the future' });
    const withinSkew = createWsSecurityVerifier({ trustedCertificatesPem: [certificatePem], now: () => new Date(Date.now() + 5 * 60_000 + 30_000) });
    expect(await withinSkew(signed)).toMatchObject({ ok: true });
  });

  it('a signature that does not cover the envelope’s own body fails it, however valid it is', async () => {
    // The signed body moved into a header and replaced by another: the signature still verifies over the moved one.
    const bodyStart = /<soap:Body [^>]*>/.exec(signed)![0];
    const signedBody = signed.slice(signed.indexOf(bodyStart), signed.indexOf('</soap:Body>') + '</soap:Body>'.length);
    const wrapped = signed
      .replace(signedBody, '<soap:Body><HentBorgerDataRequest xmlns="urn:test:ungedata"><CPRNr>0000000002</CPRNr></HentBorgerDataRequest></soap:Body>')
      .replace('</soap:Header>', `<Wrapper>${signedBody}</Wrapper></soap:Header>`);
    expect(await verify(wrapped)).toMatchObject({ ok: false, faultCode: 'wsse:InvalidSecurity', reason: 'the signature must cover the body and the timestamp' });
  });
});

describe('the education adapter against a simulator that demands WS-Security', () => {
  let sim: EducationSimulator;
  beforeAll(async () => {
    sim = await startEducationSimulator({ size: 200, seed: 21, wsSecurity: { trustedCertificatesPem: [certificatePem] } });
  });
  afterAll(() => sim.close());
  const subject = () => {
    const young = sim.knownCitizens()[0]!;
    return { citizenId: `citizen-${young.index}`, cpr: young.cpr };
  };

  it('signs every request with the configured certificate and is answered', async () => {
    const adapter = createEducationAdapter({ baseUrl: sim.url, municipalityCode: '101', timeoutMs: 5_000, wsSecurity: createWsSecuritySigner({ certificatePem, privateKeyPem }) });
    const result = await adapter.pull(subject());
    expect(result.records.length).toBeGreaterThan(0);
    // The change feed too: every operation goes through the same signed transport.
    expect((await adapter.changes(null)).changes.length).toBeGreaterThan(0);
  });

  it('unsigned, or signed with a certificate the platform does not know: a permanent error that says why', async () => {
    const unsigned = createEducationAdapter({ baseUrl: sim.url, municipalityCode: '101', timeoutMs: 5_000 });
    const error = await unsigned.pull(subject()).then(() => undefined, (e: unknown) => e);
    expect(error).toBeInstanceOf(AdapterError);
    expect(error).toMatchObject({ permanent: true, code: 'soap-invalidsecurity', message: expect.stringContaining('no wsse:Security header') });
    const stranger = createEducationAdapter({ baseUrl: sim.url, municipalityCode: '101', timeoutMs: 5_000, wsSecurity: createWsSecuritySigner({ certificatePem: otherCertificatePem, privateKeyPem: otherKeyPem }) });
    expect(await stranger.pull(subject()).then(() => undefined, (e: unknown) => e)).toMatchObject({ permanent: true, code: 'soap-failedauthentication' });
  });

  it('is configured from EDUCATION_WSSE_CERT and EDUCATION_WSSE_KEY, which go together', async () => {
    const config = loadConfig({ EDUCATION_URL: sim.url, EDUCATION_WSSE_CERT: certificatePem, EDUCATION_WSSE_KEY: privateKeyPem });
    const adapter = adaptersFromConfig(config, '101').education!;
    expect((await adapter.pull(subject())).records.length).toBeGreaterThan(0);
    expect(() => loadConfig({ EDUCATION_URL: sim.url, EDUCATION_WSSE_CERT: certificatePem })).toThrow('EDUCATION_WSSE_CERT and EDUCATION_WSSE_KEY go together');
    expect(() => loadConfig({ EDUCATION_WSSE_CERT: 'not a certificate', EDUCATION_WSSE_KEY: privateKeyPem })).toThrow();
  });
});

describe('the demo’s self-signed function certificate', () => {
  it('is a well-formed X.509 v3 certificate for its own key, valid for the days asked, and signs requests a simulator trusting it accepts', async () => {
    const now = new Date('2026-11-24T12:00:00Z');
    const made = await makeSelfSignedCertificate('Demo function certificate', { now, validDays: 30 });
    const x509 = new X509Certificate(made.certificatePem);
    expect(x509.subject).toBe('CN=Demo function certificate');
    expect(x509.issuer).toBe(x509.subject);
    expect(x509.verify(x509.publicKey)).toBe(true);
    expect(x509.checkPrivateKey(createPrivateKey(made.privateKeyPem))).toBe(true);
    expect(new Date(x509.validFrom).getTime()).toBe(now.getTime() - 60_000);
    expect(new Date(x509.validTo).getTime()).toBe(now.getTime() + 30 * 86_400_000);
    // The serial is positive and fits DER's rules (node would refuse the certificate otherwise).
    expect(x509.serialNumber).toMatch(/^[0-9A-F]{32}$/);

    const envelope = buildEnvelope({ namespace: 'urn:test:ungedata', header: {}, operation: 'HentBorgerDataRequest', content: { CPRNr: '0000000000' } });
    const signed = await createWsSecuritySigner(made).sign(envelope);
    expect(await createWsSecurityVerifier({ trustedCertificatesPem: [made.certificatePem] })(signed)).toEqual({ ok: true, subject: 'CN=Demo function certificate' });
    // A second one is a different key: a simulator trusting the first refuses it.
    const other = await makeSelfSignedCertificate('Demo function certificate');
    expect(await createWsSecurityVerifier({ trustedCertificatesPem: [made.certificatePem] })(await createWsSecuritySigner(other).sign(envelope))).toMatchObject({ ok: false, faultCode: 'wsse:FailedAuthentication' });
  });

  it('uses GeneralizedTime for dates from 2050, as RFC 5280 asks', async () => {
    const made = await makeSelfSignedCertificate('Long-lived', { now: new Date('2049-12-01T00:00:00Z'), validDays: 60 });
    const x509 = new X509Certificate(made.certificatePem);
    expect(new Date(x509.validTo).toISOString()).toBe('2050-01-30T00:00:00.000Z');
  });
});
