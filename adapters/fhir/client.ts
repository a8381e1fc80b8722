/**
 * FHIR REST calls for the adapters, through fhir-kit-client, with every failure turned into an
 * `AdapterError` IT staff can act on:
 *
 * - 5xx, 408, 429, timeouts and network errors are transient (retry with backoff; `Retry-After` is
 *   passed on); other 4xx are permanent (dead letter) — except 412, see `VersionConflictError`.
 * - A 2xx whose body is not JSON, or is JSON but not an object (`null`, `5`, `"x"`), is
 *   `MalformedResponseError` (transient: after a write, the effect may have happened, and the
 *   conditional create makes the retry safe). It carries the raw text where there is one, so a pull
 *   can quarantine the page instead of dropping it.
 *
 * CPR numbers only ever travel in request bodies (`POST [type]/_search`), and server error text is
 * scrubbed of anything CPR-shaped before it becomes an error message. `Bundle.link` next URLs are
 * followed only on the configured server's origin.
 */
import { Client, type FhirResource } from 'fhir-kit-client';
import { AdapterError } from '../adapter';
import { routeOriginThrough } from '../shared/origin-fetch';
import { Bundle, OperationOutcome, type Bundle as BundleType } from './contract';
import { scrubCpr } from './fhir-values';
import { boundedJson } from './nesting';

export interface FhirConnection {
  baseUrl: string;
  /** Per request; a request running longer is aborted and reported as a transient timeout. */
  timeoutMs?: number;
  /** An undici `Dispatcher` (e.g. an `Agent` with the function certificate for mutual TLS). */
  dispatcher?: object;
  /** Extra headers on every request (e.g. an authorisation header). */
  headers?: Record<string, string>;
  /**
   * A fetch for this server (e.g. a Workers mTLS certificate binding's). fhir-kit-client calls the
   * global fetch, so requests for this server's origin are routed to it (`routeOriginThrough`).
   */
  fetch?: typeof fetch;
}

/** A stale `If-Match`: the target changed since we read it. Retrying as is can never succeed. */
export class VersionConflictError extends AdapterError {
  constructor(
    message: string,
    readonly currentVersion: string | undefined,
  ) {
    // Permanent for the retry loop — only a re-read and a new merge can resolve it (F4: the merge
    // flags the conflict; nothing is silently overwritten).
    super(message, true, 'version-conflict');
    this.name = 'VersionConflictError';
  }
}

/** A 2xx answer whose body was not JSON, or not the JSON asked for. */
export class MalformedResponseError extends AdapterError {
  constructor(
    message: string,
    readonly raw: string,
  ) {
    super(message, false, 'malformed-response');
    this.name = 'MalformedResponseError';
  }
}

/** One JSON Patch (RFC 6902) operation, of the kinds a field-level write sends. */
export type JsonPatchOperation = { op: 'add'; path: string; value: unknown } | { op: 'remove'; path: string };

export interface FhirResult<T> {
  body: T;
  status: number;
  /** The version from the ETag header, when the server sent one. */
  etagVersion?: string;
}

type KitError = Error & { response?: { status?: number; data?: unknown }; config?: { headers?: Headers } };

const RAW_LIMIT = 4000;

export class FhirClient {
  private readonly client: Client;
  private readonly origin: string;
  private readonly timeoutMs: number;

  constructor(readonly connection: FhirConnection) {
    this.client = new Client({
      baseUrl: connection.baseUrl.replace(/\/$/, ''),
      customHeaders: { accept: 'application/fhir+json', ...connection.headers },
      requestOptions: connection.dispatcher ? { dispatcher: connection.dispatcher } : {},
    });
    this.origin = new URL(connection.baseUrl).origin;
    if (connection.fetch) routeOriginThrough(this.origin, connection.fetch);
    this.timeoutMs = connection.timeoutMs ?? 10_000;
  }

  /** GET [base]/metadata. */
  capabilities(): Promise<FhirResult<unknown>> {
    return this.call('read the CapabilityStatement', (options) => this.client.capabilityStatement(options));
  }

  /** POST [base]/[type]/_search with a form body: the parameters never appear in a URL. */
  searchByPost(resourceType: string, params: Record<string, string>): Promise<FhirResult<BundleType>> {
    return this.bundle(`search ${resourceType}`, (options) => this.client.resourceSearch({ resourceType, searchParams: params, options: { ...options, postSearch: true } }));
  }

  /** GET [base]/[type]?params — for parameters that may be seen in a URL (ids, dates, references). */
  search(resourceType: string, params: Record<string, string>): Promise<FhirResult<BundleType>> {
    return this.bundle(`search ${resourceType}`, (options) => this.client.resourceSearch({ resourceType, searchParams: params, options }));
  }

  /** GET [base]?params — a search across types (`_type=…`). */
  searchSystem(params: Record<string, string>): Promise<FhirResult<BundleType>> {
    return this.bundle('search across types', (options) => this.client.systemSearch({ searchParams: params, options }));
  }

  /** GET [base]/_history?params — the whole system's history (FHIR R4 `history-system`), newest first. */
  systemHistory(params: Record<string, string>): Promise<FhirResult<BundleType>> {
    return this.bundle('read the history', (options) => this.client.request(`_history?${new URLSearchParams(params).toString()}`, { options }));
  }

  /**
   * GET [base]/_history?params answered as is: a refusal comes back as its status and body (the
   * OperationOutcome that says why) instead of an error, for a check that reads how a server without
   * history says so. Network failures, timeouts and a 2xx that is no JSON object still throw.
   */
  async systemHistoryAnswer(params: Record<string, string>): Promise<{ status: number; body: unknown }> {
    const what = 'read the history';
    try {
      const body: unknown = await this.client.request(`_history?${new URLSearchParams(params).toString()}`, { options: { signal: AbortSignal.timeout(this.timeoutMs), headers: {} } });
      return { status: Client.httpFor(body as FhirResource).response?.status ?? 200, body };
    } catch (error) {
      const status = (error as KitError)?.response?.status;
      if (status !== undefined && (status < 200 || status >= 300)) return { status, body: (error as KitError).response?.data };
      throw classify(error, what, this.timeoutMs);
    }
  }

  /** The next page of a search, or undefined on the last page. */
  async nextPage(bundle: BundleType, what: string): Promise<FhirResult<BundleType> | undefined> {
    const next = bundle.link?.find((l) => l.relation === 'next')?.url;
    if (!next) return undefined;
    if (new URL(next, this.connection.baseUrl).origin !== this.origin) {
      throw new AdapterError(`the server pointed the next page of ${what} at another origin`, true, 'foreign-next-link');
    }
    return this.bundle(`${what} (next page)`, (options) => this.client.request(next, { options }));
  }

  read(resourceType: string, id: string): Promise<FhirResult<unknown>> {
    return this.call(`read ${resourceType}`, (options) => this.client.read({ resourceType, id, options }));
  }

  /** GET [base]/[type]/[id]/_history/[version] (FHIR `vread`): the resource as it was at that version. */
  vread(resourceType: string, id: string, version: string): Promise<FhirResult<unknown>> {
    return this.call(`read version ${version} of ${resourceType}`, (options) => this.client.vread({ resourceType, id, version, options }));
  }

  /** POST [type] with `If-None-Exist`: 201 when created, 200 with the existing resource when not. */
  createIfNoneExist(resourceType: string, resource: object, ifNoneExist: string): Promise<FhirResult<unknown>> {
    return this.call(`create ${resourceType}`, (options) =>
      this.client.create({ resourceType, body: resource as FhirResource, options: { ...options, headers: { ...options.headers, 'if-none-exist': ifNoneExist } } }),
    );
  }

  /** PUT [type]/[id] with `If-Match: W/"version"`; a stale version gives `VersionConflictError`. */
  updateIfMatch(resourceType: string, id: string, resource: object, version: string): Promise<FhirResult<unknown>> {
    return this.call(`update ${resourceType}`, (options) =>
      this.client.update({ resourceType, id, body: resource as FhirResource, options: { ...options, headers: { ...options.headers, 'if-match': `W/"${version}"` } } }),
    );
  }

  /** PATCH [type]/[id] with a JSON Patch (RFC 6902) and `If-Match: W/"version"`; a stale version gives `VersionConflictError`. */
  patchIfMatch(resourceType: string, id: string, patch: readonly JsonPatchOperation[], version: string): Promise<FhirResult<unknown>> {
    return this.call(`patch ${resourceType}`, (options) =>
      this.client.patch({ resourceType, id, jsonPatch: [...patch], options: { ...options, headers: { ...options.headers, 'if-match': `W/"${version}"` } } }),
    );
  }

  private async bundle(what: string, send: (options: { signal: AbortSignal; headers: Record<string, string> }) => Promise<unknown>): Promise<FhirResult<BundleType>> {
    const result = await this.call(what, send);
    const parsed = Bundle.safeParse(result.body);
    if (!parsed.success) {
      throw new MalformedResponseError(`the answer to "${what}" is not a FHIR Bundle`, boundedJson(result.body, RAW_LIMIT));
    }
    return { ...result, body: parsed.data };
  }

  private async call<T>(what: string, send: (options: { signal: AbortSignal; headers: Record<string, string> }) => Promise<T>): Promise<FhirResult<T>> {
    let body: T;
    try {
      body = await send({ signal: AbortSignal.timeout(this.timeoutMs), headers: {} });
    } catch (error) {
      throw classify(error, what, this.timeoutMs);
    }
    const response = Client.httpFor(body as FhirResource).response;
    const etag = response?.headers.get('etag') ?? undefined;
    return { body, status: response?.status ?? 200, ...(etag ? { etagVersion: versionFromEtag(etag) } : {}) };
  }
}

export function versionFromEtag(etag: string): string | undefined {
  return /"([^"]+)"/.exec(etag)?.[1];
}

/** Turns whatever fetch or fhir-kit-client threw into an AdapterError with no CPR in its text. */
export function classify(error: unknown, what: string, timeoutMs: number): AdapterError {
  if (error instanceof AdapterError) return error;
  const err = error as KitError;
  if (err?.name === 'TimeoutError' || err?.name === 'AbortError') {
    return new AdapterError(`no answer to "${what}" within ${timeoutMs} ms`, false, 'timeout');
  }
  if (isBareJsonValueError(err)) {
    // The body text is gone by now (fhir-kit-client keeps only the parsed value): nothing raw to keep.
    return new MalformedResponseError(`the answer to "${what}" is not a FHIR resource: its JSON is a bare value (null, a number, a string …), not an object`, '');
  }
  const status = err?.response?.status;
  if (status === undefined) {
    const cause = (err as { cause?: { code?: string; message?: string } })?.cause;
    return new AdapterError(`could not reach the FHIR server to ${what}: ${scrubCpr(cause?.code ?? cause?.message ?? err?.message ?? 'network error')}`, false, 'network');
  }
  const data = err.response?.data;
  if (status >= 200 && status < 300) {
    return new MalformedResponseError(`the answer to "${what}" (HTTP ${status}) is not valid JSON`, String(data).slice(0, RAW_LIMIT));
  }
  const detail = describeOutcome(data);
  const retryAfter = retryAfterSeconds(err.config?.headers);
  if (status === 412) return new VersionConflictError(`the FHIR server refused to ${what}: the version we hold is stale (HTTP 412)${detail}`, undefined);
  if (status >= 500 || status === 408 || status === 429) {
    return new AdapterError(`the FHIR server failed to ${what} (HTTP ${status})${detail}`, false, `http-${status}`, retryAfter);
  }
  return new AdapterError(`the FHIR server refused to ${what} (HTTP ${status})${detail}`, true, `http-${status}`);
}

/**
 * fhir-kit-client tags the parsed body of a 2xx answer with `Object.defineProperty`, which throws
 * this TypeError when the JSON is no object (`null`, `5`, `"x"`). It is the server's answer that is
 * wrong, not the network, which fails with "fetch failed" and a cause.
 */
function isBareJsonValueError(error: KitError | undefined): boolean {
  return error instanceof TypeError && (error as KitError).response === undefined && /defineProperty called on non-object/.test(error.message);
}

/**
 * The resource a write answered with. A success status whose body is another thing is no write: an
 * OperationOutcome (a gateway wrapping a refusal in 200) fails with its diagnostics, anything else as
 * malformed. Both are transient — the conditional create and the update's operation tag make the retry safe.
 */
export function writtenResource<T extends { id?: string }>(result: FhirResult<unknown>, resourceType: string, what: string): T {
  const body = result.body as { resourceType?: unknown } | null;
  if (body?.resourceType === resourceType) return body as T;
  if (body?.resourceType === 'OperationOutcome')
    throw new AdapterError(`the FHIR server answered "${what}" with HTTP ${result.status} and an OperationOutcome instead of the ${resourceType}${describeOutcome(body)}`, false, 'operation-outcome');
  throw new MalformedResponseError(`the answer to "${what}" (HTTP ${result.status}) is not a ${resourceType}`, boundedJson(body, RAW_LIMIT));
}

function describeOutcome(data: unknown): string {
  const outcome = OperationOutcome.safeParse(data);
  if (!outcome.success) return '';
  const text = outcome.data.issue
    .map((issue) => issue.diagnostics ?? issue.details?.text ?? issue.code)
    .filter(Boolean)
    .join('; ');
  return text ? `: ${scrubCpr(text).slice(0, 300)}` : '';
}

function retryAfterSeconds(headers: Headers | undefined): number | undefined {
  const value = headers?.get?.('retry-after');
  if (!value) return undefined;
  const seconds = Number(value);
  if (Number.isFinite(seconds)) return Math.max(0, seconds);
  const at = Date.parse(value);
  return Number.isNaN(at) ? undefined : Math.max(0, Math.ceil((at - Date.now()) / 1000));
}
