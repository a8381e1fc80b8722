/**
 * WS-Security for SOAP 1.1 (OASIS WSS 1.0, X.509 token profile), as STIL's integration platform
 * asks of callers of Ungedatabasen: a `wsse:Security` header with a timestamp, the caller's function
 * certificate (FOCES) as a BinarySecurityToken, and an XML signature (RSA-SHA256, exclusive XML
 * canonicalisation, SHA-256 digests) over the timestamp and the body. Signing uses WebCrypto only,
 * so the adapters sign alike on Node and on Workers; the service's side, which the simulators
 * play, is ws-security-verify.ts.
 *
 * The canonical form is computed from a namespace-aware parse of the envelope by one function,
 * `exclusiveCanonical`, for both sides: what the signer digests is what a verifier reads.
 */
import { XMLParser } from 'fast-xml-parser';

export const WSSE_NS = 'http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-wssecurity-secext-1.0.xsd';
export const WSU_NS = 'http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-wssecurity-utility-1.0.xsd';
export const DSIG_NS = 'http://www.w3.org/2000/09/xmldsig#';
export const EXC_C14N = 'http://www.w3.org/2001/10/xml-exc-c14n#';
export const RSA_SHA256 = 'http://www.w3.org/2001/04/xmldsig-more#rsa-sha256';
export const SHA256 = 'http://www.w3.org/2001/04/xmlenc#sha256';
export const X509V3 = 'http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-x509-token-profile-1.0#X509v3';
const BASE64_BINARY = 'http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-soap-message-security-1.0#Base64Binary';

// ---------------------------------------------------------------------------------------------
// Exclusive XML canonicalisation (https://www.w3.org/TR/xml-exc-c14n/, without comments, without
// an InclusiveNamespaces prefix list) of one element and what it contains.

/** fast-xml-parser's ordered form: an element is `{ name: children, ':@': attributes }`, text is `{ '#text': s }`. */
type OrderedNode = Record<string, unknown>;

const orderedParser = new XMLParser({
  preserveOrder: true,
  ignoreAttributes: false,
  attributeNamePrefix: '',
  trimValues: false,
  parseTagValue: false,
  parseAttributeValue: false,
  removeNSPrefix: false,
  processEntities: true,
  ignoreDeclaration: true,
  ignorePiTags: true,
});

export interface Element {
  name: string;
  attributes: Record<string, string>;
  children: OrderedNode[];
  /** Namespaces in scope at this element (its own declarations included), by prefix ('' the default). */
  scope: Map<string, string>;
}

const nameOf = (node: OrderedNode) => Object.keys(node).find((k) => k !== ':@');
/** The `xml` prefix is bound by definition and never declared (XML Namespaces § 3). */
const XML_NS = 'http://www.w3.org/XML/1998/namespace';
const prefixOf = (qname: string) => (qname.includes(':') ? qname.slice(0, qname.indexOf(':')) : '');
const localOf = (qname: string) => (qname.includes(':') ? qname.slice(qname.indexOf(':') + 1) : qname);

function elementOf(node: OrderedNode, parentScope: Map<string, string>): Element | undefined {
  const name = nameOf(node);
  if (!name || name === '#text') return undefined;
  const attributes = (node[':@'] as Record<string, string> | undefined) ?? {};
  const scope = new Map(parentScope.size > 0 ? parentScope : [['xml', XML_NS]]);
  for (const [attribute, value] of Object.entries(attributes)) {
    if (attribute === 'xmlns') scope.set('', value);
    else if (attribute.startsWith('xmlns:')) scope.set(attribute.slice(6), value);
  }
  return { name, attributes, children: (node[name] as OrderedNode[]) ?? [], scope };
}

const escapeText = (s: string) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/\r/g, '&#xD;');
const escapeAttribute = (s: string) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/"/g, '&quot;').replace(/\t/g, '&#x9;').replace(/\n/g, '&#xA;').replace(/\r/g, '&#xD;');

function render(element: Element, rendered: Map<string, string>, out: string[]): void {
  const utilized = new Set([prefixOf(element.name)]);
  const attributes: { uri: string; local: string; qname: string; value: string }[] = [];
  for (const [qname, value] of Object.entries(element.attributes)) {
    if (qname === 'xmlns' || qname.startsWith('xmlns:')) continue;
    const prefix = prefixOf(qname);
    if (prefix) utilized.add(prefix);
    const uri = prefix ? (element.scope.get(prefix) ?? '') : '';
    attributes.push({ uri, local: localOf(qname), qname, value });
  }
  const declarations: [string, string][] = [];
  const next = new Map(rendered);
  for (const prefix of utilized) {
    if (prefix === 'xml') continue;
    const uri = element.scope.get(prefix) ?? '';
    if (prefix === '' && uri === '' && !rendered.get('')) continue;
    if (rendered.get(prefix) === uri) continue;
    declarations.push([prefix, uri]);
    next.set(prefix, uri);
  }
  declarations.sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  attributes.sort((a, b) => (a.uri === b.uri ? (a.local < b.local ? -1 : a.local > b.local ? 1 : 0) : a.uri < b.uri ? -1 : 1));
  out.push(`<${element.name}`);
  for (const [prefix, uri] of declarations) out.push(prefix ? ` xmlns:${prefix}="${escapeAttribute(uri)}"` : ` xmlns="${escapeAttribute(uri)}"`);
  for (const a of attributes) out.push(` ${a.qname}="${escapeAttribute(a.value)}"`);
  out.push('>');
  for (const child of element.children) {
    if ('#text' in child) out.push(escapeText(String(child['#text'])));
    else {
      const inner = elementOf(child, element.scope);
      if (inner) render(inner, next, out);
    }
  }
  out.push(`</${element.name}>`);
}

/** The exclusive canonical form of an element found in a parsed document. */
export function exclusiveCanonical(element: Element): string {
  const out: string[] = [];
  render(element, new Map(), out);
  return out.join('');
}

/** Every element of a document, depth first, with the namespaces in scope. */
function* elements(nodes: readonly OrderedNode[], scope: Map<string, string>): Generator<Element> {
  for (const node of nodes) {
    const element = elementOf(node, scope);
    if (!element) continue;
    yield element;
    yield* elements(element.children, element.scope);
  }
}

const uriOf = (element: Element, qname: string) => element.scope.get(prefixOf(qname)) ?? '';
export const is = (element: Element, uri: string, local: string) => localOf(element.name) === local && uriOf(element, element.name) === uri;
/** An attribute by namespace URI and local name (`uri` '' for an unqualified one). */
export function attribute(element: Element, uri: string, local: string): string | undefined {
  for (const [qname, value] of Object.entries(element.attributes)) {
    if (qname === 'xmlns' || qname.startsWith('xmlns:') || localOf(qname) !== local) continue;
    if ((prefixOf(qname) ? (element.scope.get(prefixOf(qname)) ?? '') : '') === uri) return value;
  }
  return undefined;
}
/** The element children of an element, in order. */
export const childrenOf = (element: Element) => element.children.map((node) => elementOf(node, element.scope)).filter((e): e is Element => !!e);
/** The first child element with this namespace URI and local name. */
export const childOf = (element: Element, uri: string, local: string) => childrenOf(element).find((e) => is(e, uri, local));
export const textOf = (element: Element) => element.children.map((node) => ('#text' in node ? String(node['#text']) : '')).join('');

// ---------------------------------------------------------------------------------------------
// Keys, digests and signatures with WebCrypto.

export function pemBody(pem: string, label: string): Uint8Array {
  const match = new RegExp(`-----BEGIN ${label}-----([\\s\\S]*?)-----END ${label}-----`).exec(pem);
  if (!match) throw new Error(`no ${label} in the PEM text given`);
  return base64ToBytes(match[1]!.replace(/\s+/g, ''));
}
export function base64ToBytes(base64: string): Uint8Array {
  const binary = atob(base64);
  const bytes = new Uint8Array(binary.length);
  for (let i = 0; i < binary.length; i++) bytes[i] = binary.charCodeAt(i);
  return bytes;
}
export function bytesToBase64(bytes: Uint8Array): string {
  let binary = '';
  for (let i = 0; i < bytes.length; i += 0x8000) binary += String.fromCharCode(...bytes.subarray(i, i + 0x8000));
  return btoa(binary);
}
const utf8 = new TextEncoder();
export const sha256Base64 = async (text: string) => bytesToBase64(new Uint8Array(await crypto.subtle.digest('SHA-256', utf8.encode(text))));
export const RSA = { name: 'RSASSA-PKCS1-v1_5', hash: 'SHA-256' } as const;

export interface WsSecuritySigner {
  /** Adds the `wsse:Security` header to an envelope `buildEnvelope` made, signing its timestamp and body. */
  sign(envelope: string, now?: Date): Promise<string>;
}

/**
 * A signer with the caller's function certificate and its private key (PEM: `CERTIFICATE` and a
 * PKCS#8 `PRIVATE KEY`, RSA). `ttlSeconds`: how long a signed request stays valid (default 300).
 */
export function createWsSecuritySigner(options: { certificatePem: string; privateKeyPem: string; ttlSeconds?: number }): WsSecuritySigner {
  const certificate = bytesToBase64(pemBody(options.certificatePem, 'CERTIFICATE'));
  const keyBytes = pemBody(options.privateKeyPem, 'PRIVATE KEY');
  // Imported on first use: configuration is read synchronously, WebCrypto imports asynchronously.
  let key: Promise<Awaited<ReturnType<typeof crypto.subtle.importKey>>> | undefined;
  const ttl = options.ttlSeconds ?? 300;
  return {
    async sign(envelope, now = new Date()) {
      const id = crypto.randomUUID();
      const [tokenId, timestampId, bodyId] = [`X509-${id}`, `TS-${id}`, `Body-${id}`];
      const created = now.toISOString().replace(/\.\d{3}Z$/, 'Z');
      const expires = new Date(now.getTime() + ttl * 1000).toISOString().replace(/\.\d{3}Z$/, 'Z');
      const reference = (uri: string, digest: string) =>
        `<ds:Reference URI="#${uri}"><ds:Transforms><ds:Transform Algorithm="${EXC_C14N}"></ds:Transform></ds:Transforms><ds:DigestMethod Algorithm="${SHA256}"></ds:DigestMethod><ds:DigestValue>${digest}</ds:DigestValue></ds:Reference>`;
      const timestamp = `<wsu:Timestamp wsu:Id="${timestampId}"><wsu:Created>${created}</wsu:Created><wsu:Expires>${expires}</wsu:Expires></wsu:Timestamp>`;
      const withIds = (signedInfo: string, signatureValue: string) => {
        const security =
          `<wsse:Security xmlns:wsse="${WSSE_NS}" xmlns:wsu="${WSU_NS}" soap:mustUnderstand="1">` +
          `<wsse:BinarySecurityToken EncodingType="${BASE64_BINARY}" ValueType="${X509V3}" wsu:Id="${tokenId}">${certificate}</wsse:BinarySecurityToken>` +
          `<ds:Signature xmlns:ds="${DSIG_NS}">${signedInfo}<ds:SignatureValue>${signatureValue}</ds:SignatureValue>` +
          `<ds:KeyInfo><wsse:SecurityTokenReference><wsse:Reference URI="#${tokenId}" ValueType="${X509V3}"></wsse:Reference></wsse:SecurityTokenReference></ds:KeyInfo></ds:Signature>` +
          `${timestamp}</wsse:Security>`;
        const headed = envelope.includes('<soap:Header>') ? envelope.replace('<soap:Header>', `<soap:Header>${security}`) : envelope.replace('<soap:Body>', `<soap:Header>${security}</soap:Header><soap:Body>`);
        return headed.replace('<soap:Body>', `<soap:Body xmlns:wsu="${WSU_NS}" wsu:Id="${bodyId}">`);
      };
      if (!envelope.includes('<soap:Body>')) throw new Error('not an envelope of buildEnvelope: no <soap:Body>');
      // Digests of the timestamp and the body as they stand in the signed document.
      const draft = parseElements(withIds('<ds:SignedInfo></ds:SignedInfo>', ''));
      const byId = (wanted: string) => draft.find((e) => attribute(e, WSU_NS, 'Id') === wanted)!;
      const signedInfo =
        `<ds:SignedInfo><ds:CanonicalizationMethod Algorithm="${EXC_C14N}"></ds:CanonicalizationMethod><ds:SignatureMethod Algorithm="${RSA_SHA256}"></ds:SignatureMethod>` +
        `${reference(timestampId, await sha256Base64(exclusiveCanonical(byId(timestampId))))}${reference(bodyId, await sha256Base64(exclusiveCanonical(byId(bodyId))))}</ds:SignedInfo>`;
      const placed = parseElements(withIds(signedInfo, '')).find((e) => is(e, DSIG_NS, 'SignedInfo'))!;
      key ??= crypto.subtle.importKey('pkcs8', keyBytes, RSA, false, ['sign']);
      const signature = new Uint8Array(await crypto.subtle.sign(RSA, await key, utf8.encode(exclusiveCanonical(placed))));
      return withIds(signedInfo, bytesToBase64(signature));
    },
  };
}

/** Every element of a document, depth first, with the namespaces in scope at each. */
export function parseElements(xml: string): Element[] {
  return [...elements(orderedParser.parse(xml) as OrderedNode[], new Map())];
}
