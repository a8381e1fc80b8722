/**
 * The service's side of WS-Security (ws-security.ts): what STIL's platform checks of a request, as
 * the education simulator plays it. Node only (it reads the certificate with node:crypto).
 */
import { X509Certificate } from 'node:crypto';
import { renderXml } from './xml';
import { attribute, base64ToBytes, bytesToBase64, childOf, childrenOf, DSIG_NS, EXC_C14N, exclusiveCanonical, is, parseElements, pemBody, RSA, RSA_SHA256, SHA256, sha256Base64, textOf, WSSE_NS, WSU_NS, X509V3, type Element } from './ws-security';

const SOAP11_ENVELOPE_NS = 'http://schemas.xmlsoap.org/soap/envelope/';
const utf8 = new TextEncoder();
export type WsSecurityCheck = { ok: true; subject: string } | { ok: false; faultCode: 'wsse:InvalidSecurity' | 'wsse:FailedCheck' | 'wsse:FailedAuthentication' | 'wsse:MessageExpired'; reason: string };

export interface WsSecurityVerifierOptions {
  /** The certificates whose holders may call (PEM), as the platform registers a municipality's function certificate. */
  trustedCertificatesPem: readonly string[];
  /** Tolerated clock difference, seconds (default 60). */
  clockSkewSeconds?: number;
  now?: () => Date;
}

/**
 * Checks a request's `wsse:Security` header: timestamp in time, certificate trusted, body and
 * timestamp signed by it. Give it only text the hardened reader (envelope.ts) has accepted: the
 * namespace-aware parse here does not refuse DOCTYPEs or entity declarations itself.
 */
export function createWsSecurityVerifier(options: WsSecurityVerifierOptions) {
  const trusted = new Set(options.trustedCertificatesPem.map((pem) => bytesToBase64(pemBody(pem, 'CERTIFICATE'))));
  const skew = (options.clockSkewSeconds ?? 60) * 1000;
  const now = options.now ?? (() => new Date());
  const fail = (faultCode: Extract<WsSecurityCheck, { ok: false }>['faultCode'], reason: string): WsSecurityCheck => ({ ok: false, faultCode, reason });

  return async function verify(xml: string): Promise<WsSecurityCheck> {
    let all: Element[];
    try {
      all = parseElements(xml);
    } catch {
      return fail('wsse:InvalidSecurity', 'the envelope could not be read');
    }
    const securities = all.filter((e) => is(e, WSSE_NS, 'Security'));
    if (securities.length !== 1) return fail('wsse:InvalidSecurity', securities.length === 0 ? 'the request has no wsse:Security header' : 'the request has more than one wsse:Security header');
    const security = securities[0]!;
    const timestamp = childOf(security, WSU_NS, 'Timestamp');
    const token = childOf(security, WSSE_NS, 'BinarySecurityToken');
    const signature = childOf(security, DSIG_NS, 'Signature');
    if (!timestamp || !token || !signature) return fail('wsse:InvalidSecurity', 'the wsse:Security header needs a wsu:Timestamp, a wsse:BinarySecurityToken and a ds:Signature');

    const createdAt = childOf(timestamp, WSU_NS, 'Created');
    const expiresAt = childOf(timestamp, WSU_NS, 'Expires');
    const created = createdAt ? Date.parse(textOf(createdAt)) : NaN;
    const expires = expiresAt ? Date.parse(textOf(expiresAt)) : NaN;
    const at = now().getTime();
    if (Number.isNaN(created) || Number.isNaN(expires)) return fail('wsse:InvalidSecurity', 'the timestamp needs wsu:Created and wsu:Expires');
    if (created > at + skew) return fail('wsse:MessageExpired', 'the timestamp is in the future');
    if (expires < at - skew) return fail('wsse:MessageExpired', 'the signed request has expired');

    if (attribute(token, '', 'ValueType') !== X509V3) return fail('wsse:InvalidSecurity', 'the security token is not an X.509 v3 certificate');
    const certificate = textOf(token).replace(/\s+/g, '');
    if (!trusted.has(certificate)) return fail('wsse:FailedAuthentication', 'the certificate is not one registered for this service');

    const signedInfo = childOf(signature, DSIG_NS, 'SignedInfo');
    const signatureValue = childOf(signature, DSIG_NS, 'SignatureValue');
    if (!signedInfo || !signatureValue) return fail('wsse:InvalidSecurity', 'the signature needs ds:SignedInfo and ds:SignatureValue');
    const algorithm = (local: string) => {
      const method = childOf(signedInfo, DSIG_NS, local);
      return method ? attribute(method, '', 'Algorithm') : undefined;
    };
    if (algorithm('CanonicalizationMethod') !== EXC_C14N || algorithm('SignatureMethod') !== RSA_SHA256) return fail('wsse:InvalidSecurity', 'only exclusive canonicalisation and RSA-SHA256 are accepted');

    // Every reference digested right, and among them the body and the timestamp (not just anything).
    // The envelope's own body, not a look-alike wrapped somewhere else.
    const root = all[0];
    const body = root && is(root, SOAP11_ENVELOPE_NS, 'Envelope') ? childOf(root, SOAP11_ENVELOPE_NS, 'Body') : undefined;
    const bodyId = body ? attribute(body, WSU_NS, 'Id') : undefined;
    const timestampId = attribute(timestamp, WSU_NS, 'Id');
    const referenced = new Set<string>();
    for (const reference of childrenOf(signedInfo).filter((e) => is(e, DSIG_NS, 'Reference'))) {
      const uri = attribute(reference, '', 'URI') ?? '';
      const target: Element[] = uri.startsWith('#') ? all.filter((e) => attribute(e, WSU_NS, 'Id') === uri.slice(1)) : [];
      if (target.length !== 1) return fail('wsse:InvalidSecurity', `the signature refers to ${uri || 'nothing'}, which is not one element of the request`);
      const transformList = childOf(reference, DSIG_NS, 'Transforms');
      const transforms = transformList ? childrenOf(transformList).map((e) => (is(e, DSIG_NS, 'Transform') ? attribute(e, '', 'Algorithm') : undefined)) : [];
      const digestElement = childOf(reference, DSIG_NS, 'DigestMethod');
      const digestMethod = digestElement ? attribute(digestElement, '', 'Algorithm') : undefined;
      if (transforms.some((t) => t !== EXC_C14N) || digestMethod !== SHA256) return fail('wsse:InvalidSecurity', 'only exclusive canonicalisation and SHA-256 digests are accepted');
      const digestValue = childOf(reference, DSIG_NS, 'DigestValue');
      const digest = digestValue ? textOf(digestValue).trim() : '';
      if ((await sha256Base64(exclusiveCanonical(target[0]!))) !== digest) return fail('wsse:FailedCheck', `the signed part ${uri} was changed after signing`);
      referenced.add(uri.slice(1));
    }
    if (!bodyId || !timestampId || !referenced.has(bodyId) || !referenced.has(timestampId)) return fail('wsse:InvalidSecurity', 'the signature must cover the body and the timestamp');

    const x509 = new X509Certificate(base64ToBytes(certificate));
    const publicKey = await crypto.subtle.importKey('spki', x509.publicKey.export({ type: 'spki', format: 'der' }), RSA, false, ['verify']);
    const valid = await crypto.subtle.verify(RSA, publicKey, base64ToBytes(textOf(signatureValue).replace(/\s+/g, '')), utf8.encode(exclusiveCanonical(signedInfo)));
    if (!valid) return fail('wsse:FailedCheck', 'the signature does not match the signed information');
    return { ok: true, subject: x509.subject };
  };
}

/** The SOAP 1.1 fault a service answers a request that fails the check with (WSS 1.0 § 12 fault codes). */
export function buildSecurityFault(faultCode: string, reason: string): string {
  return (
    `<?xml version="1.0" encoding="UTF-8"?><soap:Envelope xmlns:soap="${SOAP11_ENVELOPE_NS}"><soap:Body><soap:Fault>` +
    `<faultcode xmlns:wsse="${WSSE_NS}">${faultCode}</faultcode>${renderXml({ faultstring: reason })}` +
    `</soap:Fault></soap:Body></soap:Envelope>`
  );
}
