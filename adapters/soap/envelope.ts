/**
 * SOAP 1.1 envelopes: building requests and replies, reading them back through the hardened XML
 * reader, and SOAP faults with the STAR-style error codes the DFDG and Ungedatabasen adapters use.
 *
 * The envelope namespace is checked on the raw root start tag, because the reader drops namespace
 * prefixes (the modelled contracts are addressed by local names).
 */
import { createXmlReader, isXmlObject, renderXml, XmlInputError, type XmlObject, type XmlReaderOptions, type XmlValue, type XmlWritable, type XmlWritableObject } from './xml';

export const SOAP11_ENVELOPE_NS = 'http://schemas.xmlsoap.org/soap/envelope/';
export const SOAP12_ENVELOPE_NS = 'http://www.w3.org/2003/05/soap-envelope';
export const SOAP11_CONTENT_TYPE = 'text/xml; charset=utf-8';

export interface SoapMessage {
  /** Header blocks by local name; empty when the envelope has no header. */
  header: XmlObject;
  /** The first element of the body, by local name. */
  operation: string;
  content: XmlObject;
}

/** A SOAP 1.1 fault. `errorCode` is the STAR-style code from the detail (e.g. "1010"), if any. */
export interface SoapFault {
  faultCode: string;
  faultString: string;
  errorCode?: string;
  detail?: XmlObject;
}

export type SoapReply = { kind: 'message'; message: SoapMessage } | { kind: 'fault'; fault: SoapFault };

/**
 * Build an envelope. `header` and `body` are element maps; the body's operation element gets the
 * service namespace as its default namespace so its unprefixed children belong to it.
 */
export function buildEnvelope(input: { namespace: string; header?: XmlWritableObject; operation: string; content: XmlWritableObject }): string {
  let header = '';
  if (input.header) {
    const blocks: Record<string, XmlWritable> = {};
    for (const [name, block] of Object.entries(input.header))
      blocks[name] = typeof block === 'object' && block !== null && !Array.isArray(block) ? { '@xmlns': input.namespace, ...(block as XmlWritableObject) } : block;
    header = `<soap:Header>${renderXml(blocks)}</soap:Header>`;
  }
  const body = renderXml({ [input.operation]: { '@xmlns': input.namespace, ...input.content } });
  return `<?xml version="1.0" encoding="UTF-8"?><soap:Envelope xmlns:soap="${SOAP11_ENVELOPE_NS}">${header}<soap:Body>${body}</soap:Body></soap:Envelope>`;
}

export function buildFault(fault: { faultCode: 'Client' | 'Server'; faultString: string; errorCode?: string; errorText?: string; namespace: string }): string {
  const detail = fault.errorCode ? `<detail>${renderXml({ ErrorCode: fault.errorCode, ErrorText: fault.errorText ?? fault.faultString })}</detail>` : '';
  return (
    `<?xml version="1.0" encoding="UTF-8"?><soap:Envelope xmlns:soap="${SOAP11_ENVELOPE_NS}"><soap:Body><soap:Fault>` +
    `<faultcode>soap:${fault.faultCode}</faultcode>${renderXml({ faultstring: fault.faultString })}${detail}` +
    `</soap:Fault></soap:Body></soap:Envelope>`
  );
}

const ROOT_START_TAG = /^(?:\s|<\?[\s\S]*?\?>|<!--[\s\S]*?-->)*<(?:([A-Za-z_][\w.-]*):)?([A-Za-z_][\w.-]*)([^>]*)>/;

/** The namespace URI of the root element, read from its own start tag. */
function rootNamespace(xml: string): { localName: string; namespace: string | undefined } | undefined {
  const match = ROOT_START_TAG.exec(xml.startsWith('\uFEFF') ? xml.slice(1) : xml);
  if (!match) return undefined;
  const [, prefix, localName, attributes = ''] = match;
  const declaration = prefix ? new RegExp(`xmlns:${prefix.replace(/[.-]/g, '\\$&')}\\s*=\\s*["']([^"']*)["']`) : /xmlns\s*=\s*["']([^"']*)["']/;
  return { localName: localName!, namespace: declaration.exec(attributes)?.[1] };
}

function text(value: XmlValue | undefined): string | undefined {
  const first = Array.isArray(value) ? value[0] : value;
  if (typeof first === 'string') return first;
  if (isXmlObject(first) && typeof first['#text'] === 'string') return first['#text'];
  return undefined;
}

export interface SoapReader {
  /** Read an envelope; throws XmlInputError when it is not a well-formed SOAP 1.1 envelope. */
  read(xml: string): SoapReply;
}

/** A reusable envelope reader; `arrayElements` are the repeating elements of the service's contract. */
export function createSoapReader(options: XmlReaderOptions = {}): SoapReader {
  const reader = createXmlReader({ ...options, arrayElements: [...(options.arrayElements ?? [])] });
  return {
    read(xml: string): SoapReply {
      const document = reader.parse(xml);
      const root = rootNamespace(xml);
      if (!root || root.localName !== 'Envelope') throw new XmlInputError('malformed', 'the reply is not a SOAP envelope');
      if (root.namespace === SOAP12_ENVELOPE_NS) throw new XmlInputError('malformed', 'a SOAP 1.2 envelope was received; the service speaks SOAP 1.1');
      if (root.namespace !== SOAP11_ENVELOPE_NS) throw new XmlInputError('malformed', 'the envelope is not in the SOAP 1.1 namespace');
      const envelope = document.Envelope;
      if (!isXmlObject(envelope)) throw new XmlInputError('malformed', 'the SOAP envelope is empty');
      const header = isXmlObject(envelope.Header) ? envelope.Header : {};
      const body = envelope.Body;
      if (!isXmlObject(body)) throw new XmlInputError('malformed', 'the SOAP envelope has no body');
      const fault = body.Fault;
      if (fault !== undefined) {
        const faultObject = isXmlObject(fault) ? fault : {};
        const detail = isXmlObject(faultObject.detail) ? faultObject.detail : undefined;
        const faultCode = (text(faultObject.faultcode) ?? 'Server').replace(/^[\w.-]+:/, '');
        return {
          kind: 'fault',
          fault: { faultCode, faultString: text(faultObject.faultstring) ?? 'SOAP fault without a fault string', errorCode: text(detail?.ErrorCode), detail },
        };
      }
      const operations = Object.keys(body);
      if (operations.length !== 1) throw new XmlInputError('malformed', 'a SOAP body carries exactly one operation element');
      const operation = operations[0]!;
      const content = body[operation];
      const first = Array.isArray(content) ? content[0] : content;
      return { kind: 'message', message: { header, operation, content: isXmlObject(first) ? first : {} } };
    },
  };
}
