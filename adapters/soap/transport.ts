/**
 * The HTTP client side of SOAP 1.1: POST an envelope, read the reply through the hardened reader,
 * and turn every way it can fail into an AdapterError IT staff can act on.
 *
 * Transport is configuration: the endpoint URL, a timeout (AbortSignal.timeout), a response size
 * limit, an optional fetch and an optional undici `dispatcher`, through which the real services'
 * mutual TLS with the municipality's function certificate (FOCES) is plugged in later. The
 * simulators run on plain HTTP. CPR numbers only ever travel in the envelope body.
 */
import { AdapterError } from '../adapter';
import { buildEnvelope, createSoapReader, SOAP11_CONTENT_TYPE, type SoapMessage } from './envelope';
import { faultToAdapterError, redactCpr } from './faults';
import type { WsSecuritySigner } from './ws-security';
import { DEFAULT_MAX_XML_BYTES, XmlInputError, type XmlWritableObject } from './xml';

export interface SoapTransportOptions {
  /** The service endpoint URL (the simulator handle's `url`). */
  baseUrl: string;
  /** The service's XML namespace, default namespace of the operation element and header blocks. */
  namespace: string;
  /** Name used in error messages, e.g. "DFDG". */
  serviceName: string;
  /** Repeating elements of the service's contract (always parsed as arrays). */
  arrayElements: Iterable<string>;
  /** Per call, including reading the reply. Default 10 s. */
  timeoutMs?: number;
  /** Replies larger than this are refused. Default 2 MB. */
  maxResponseBytes?: number;
  fetch?: typeof fetch;
  /** An undici Dispatcher (e.g. `new Agent({ connect: { cert, key } })`), passed to fetch as-is. */
  dispatcher?: unknown;
  /** Extra HTTP headers; never put a CPR number here. */
  headers?: Record<string, string>;
  /** Signs each request envelope (WS-Security, ws-security.ts) before it is sent. */
  signer?: WsSecuritySigner;
}

export interface SoapCall {
  operation: string;
  /** The operation element expected in the reply; a different one is an error. */
  responseOperation: string;
  header?: XmlWritableObject;
  content: XmlWritableObject;
}

export interface SoapTransport {
  call(call: SoapCall): Promise<SoapMessage>;
}

export const DEFAULT_TIMEOUT_MS = 10_000;

function retryAfterSeconds(response: Response): number | undefined {
  const value = response.headers.get('retry-after');
  if (!value) return undefined;
  const seconds = Number(value);
  if (Number.isFinite(seconds) && seconds >= 0) return seconds;
  const at = Date.parse(value);
  return Number.isNaN(at) ? undefined : Math.max(0, Math.ceil((at - Date.now()) / 1000));
}

async function readLimited(response: Response, maxBytes: number, serviceName: string): Promise<Uint8Array> {
  const declared = Number(response.headers.get('content-length') ?? NaN);
  const tooLarge = () => new AdapterError(`${serviceName} replied with more than ${maxBytes} bytes`, true, 'response-too-large');
  if (declared > maxBytes) {
    await response.body?.cancel().catch(() => undefined);
    throw tooLarge();
  }
  if (!response.body) return new Uint8Array(0);
  const reader = response.body.getReader();
  const chunks: Uint8Array[] = [];
  let total = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    total += value.byteLength;
    if (total > maxBytes) {
      await reader.cancel().catch(() => undefined);
      throw tooLarge();
    }
    chunks.push(value);
  }
  const bytes = new Uint8Array(total);
  let offset = 0;
  for (const chunk of chunks) {
    bytes.set(chunk, offset);
    offset += chunk.byteLength;
  }
  return bytes;
}

function requestFailure(error: unknown, serviceName: string, timeoutMs: number): AdapterError {
  if (error instanceof AdapterError) return error;
  const name = error instanceof Error ? error.name : '';
  if (name === 'TimeoutError') return new AdapterError(`${serviceName} did not answer within ${timeoutMs} ms`, false, 'timeout');
  if (name === 'AbortError') return new AdapterError(`the call to ${serviceName} was aborted`, false, 'aborted');
  const detail = error instanceof Error ? (error.cause instanceof Error ? error.cause.message : error.message) : String(error);
  return new AdapterError(`${serviceName} could not be reached: ${redactCpr(detail).slice(0, 200)}`, false, 'network');
}

export function createSoapTransport(options: SoapTransportOptions): SoapTransport {
  const timeoutMs = options.timeoutMs ?? DEFAULT_TIMEOUT_MS;
  const maxBytes = options.maxResponseBytes ?? DEFAULT_MAX_XML_BYTES;
  const doFetch = options.fetch ?? globalThis.fetch;
  const reader = createSoapReader({ maxBytes, arrayElements: options.arrayElements });
  const { serviceName } = options;
  const utf8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: false });

  return {
    async call(call: SoapCall): Promise<SoapMessage> {
      const unsigned = buildEnvelope({ namespace: options.namespace, header: call.header, operation: call.operation, content: call.content });
      const envelope = options.signer ? await options.signer.sign(unsigned) : unsigned;
      const init: RequestInit = {
        method: 'POST',
        headers: { ...options.headers, 'content-type': SOAP11_CONTENT_TYPE, soapaction: `"${options.namespace}#${call.operation}"` },
        body: envelope,
        signal: AbortSignal.timeout(timeoutMs),
      };
      // Node's fetch (undici) takes `dispatcher`; other runtimes ignore the extra field.
      if (options.dispatcher !== undefined) Object.assign(init, { dispatcher: options.dispatcher });

      let response: Response;
      let bytes: Uint8Array;
      try {
        response = await doFetch(options.baseUrl, init);
        bytes = await readLimited(response, maxBytes, serviceName);
      } catch (error) {
        throw requestFailure(error, serviceName, timeoutMs);
      }

      const status = response.status;
      const transientStatus = status === 408 || status === 429 || status >= 500;
      const httpFailure = () =>
        new AdapterError(`${serviceName} answered HTTP ${status} without a SOAP envelope`, !transientStatus, `http-${status}`, retryAfterSeconds(response));
      const contentType = response.headers.get('content-type') ?? '';
      // SOAP 1.1 sends faults with HTTP 500; other statuses without XML are plain HTTP failures.
      if (status !== 500 && (status < 200 || status > 299)) throw httpFailure();
      if (status === 500 && !/xml/i.test(contentType)) throw httpFailure();

      let xml: string;
      try {
        xml = utf8.decode(bytes);
      } catch {
        throw new AdapterError(`${serviceName} replied with bytes that are not UTF-8`, false, 'malformed-response');
      }
      let reply;
      try {
        reply = reader.read(xml);
      } catch (error) {
        if (!(error instanceof XmlInputError)) throw error;
        if (error.problem === 'doctype' || error.problem === 'entity-declaration' || error.problem === 'markup-declaration' || error.problem === 'character')
          throw new AdapterError(`${serviceName} reply refused: ${error.message}`, true, 'xml-refused');
        if (error.problem === 'too-large') throw new AdapterError(`${serviceName} reply refused: ${error.message}`, true, 'response-too-large');
        if (status === 500) throw httpFailure();
        // A broken reply may be a one-off (cut connection, faulty proxy): worth a retry.
        throw new AdapterError(`${serviceName} replied with malformed XML: ${error.message}`, false, 'malformed-response');
      }
      if (reply.kind === 'fault') throw faultToAdapterError(reply.fault, serviceName);
      if (reply.message.operation !== call.responseOperation)
        throw new AdapterError(`${serviceName} answered ${reply.message.operation.slice(0, 80)} to ${call.operation}`, true, 'unexpected-response');
      return reply.message;
    },
  };
}
