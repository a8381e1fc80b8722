/**
 * A FHIR R4 server simulator for the social and health adapters: medplum's `FhirRouter` over our
 * `SimulatorRepository` (a `MemoryRepository`), behind a small node:http wrapper that speaks FHIR
 * REST on a real port — `application/fhir+json`, `ETag: W/"<versionId>"`, `Location` on create,
 * `Last-Modified`, search Bundles with `self`/`next` links, `_count`, `_lastUpdated=gt|ge|lt|le…`,
 * type and system history (`_history?_since=…`, deletions as DELETE entries, keyset `_cursor` pages),
 * `POST [type]/_search` with a form body, `If-Match` → 412, `If-None-Exist` conditional create →
 * 200 with the existing resource. Faults can be switched on at run time.
 *
 * What medplum does and what this wrapper adds (read in @medplum/fhir-router 4.5.2):
 * - The router parses requests, routes create/read/vread/update/delete/history/patch/batch, turns
 *   errors into OperationOutcomes, and handles `If-None-Exist` and `If-Match` by calling the
 *   repository. Search routes are re-pointed to our handler, because the router returns the
 *   repository's Bundle as is and the in-memory repository makes no paging links.
 * - Paging: a search sorted by `_lastUpdated` pages by keyset (`_cursor=`, as medplum's server
 *   does), so records changed while a client pages move behind it instead of shifting pages and
 *   being skipped; other searches page by `_offset` over a stable order. A `POST _search` is paged
 *   through `_getpages=<token>` (as HAPI does): its parameters stay on the server, so nothing from
 *   the form body — such as a CPR number — ever appears in a link URL.
 * - `If-Match` without a quoted ETag is rejected (400) rather than treated as unconditional; a
 *   `PATCH` (JSON Patch) honours `If-Match` as an update does (medplum's own patch route ignores it).
 *
 * Scale — measured with `generatePopulation(50_000)` on this shared 2-core machine:
 * - medplum's MemoryRepository alone stores each resource as a parsed object (JSON round trip on
 *   create, deep clone on read) and searches by evaluating FHIRPath on every resource of the type:
 *   0.15 s per identifier search at 5,000 Patients, 22 s for one `Goal?patient=` at 30,000 Goals.
 *   So searches always go through indexes (store.ts).
 * - Eager seeding (everything stored in medplum): social 34,817 citizens / 243,682 records in
 *   8–13 s and +502 MB heap (RSS ≈ 700 MB); health 25,292 / 137,819 in 4 s and +267 MB.
 * - Lazy seeding (seeded records virtual, regenerated on read, copied into medplum on first
 *   write): social 1.5 s and +5 MB heap (RSS ≈ 190 MB, mostly medplum's search-parameter index);
 *   health 0.9 s and +4 MB. Reads cost the same: a pull (POST Patient/_search + 3 searches) takes
 *   ≈ 4 ms per citizen over loopback in both modes; a full `_lastUpdated` walk at `_count=1000`
 *   takes 8 s for the social records lazily (13 s eagerly), 3.7 s for health (7.8 s).
 * Decision: the HTTP semantics are identical in both modes (a test compares them); the sector
 * starters seed eagerly up to 5,000 citizens — tests then exercise medplum's own storage — and
 * lazily above, which is what a 50,000 × 4 benchmark should use (or pass `seeding: 'lazy'`).
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { randomUUID } from 'node:crypto';
import { allOk, badRequest, getStatus, gone, normalizeOperationOutcome, parseSearchRequest } from '@medplum/core';
import { FhirRouter, type FhirRequest, type FhirResponse } from '@medplum/fhir-router';
import type { Bundle, CapabilityStatement, OperationOutcome, Resource } from '@medplum/fhirtypes';
import { seededRandom } from '../shared/population';
import { loadSearchParameters } from './definitions';
import { SimulatorRepository, type SeedingMode, type SeedSource, type WriteRecord } from './store';

export interface FhirFaults {
  /** Share of requests answered 503 before anything happens. */
  errorRate: number;
  /** Delay added to every answer. */
  latencyMs: number;
  /** Share of requests that are carried out but never answered (the client must time out). */
  timeoutRate: number;
  /** Share of answers cut off halfway, so the JSON does not parse (after the effect happened). */
  malformedRate: number;
  /**
   * Share of requests answered 200 with an OperationOutcome of severity error, nothing done: a gateway
   * that wraps a refusal in a success status.
   */
  errorOutcomeRate?: number;
  /** Limit the faults to some requests, e.g. `{ method: 'GET', resourceType: 'Goal' }`. */
  scope?: { method?: string; resourceType?: string };
}

export const noFaults: Readonly<FhirFaults> = { errorRate: 0, latencyMs: 0, timeoutRate: 0, malformedRate: 0 };

export interface FhirSimulatorOptions {
  /** Shown in the CapabilityStatement, e.g. "KL FHIR social simulator". */
  name: string;
  seedSource: SeedSource;
  /** Resource types listed in the CapabilityStatement. */
  resourceTypes: readonly string[];
  seeding?: SeedingMode;
  port?: number;
  host?: string;
  basePath?: string;
  faults?: Partial<FhirFaults>;
  /** Seed of the fault and mutation random streams. */
  randomSeed?: number;
  writeTimestamps?: 'strictly-increasing' | 'clock';
  clock?: () => number;
  bodyLimitBytes?: number;
  /**
   * Whether the server offers FHIR's `patch` interaction (JSON Patch), as its CapabilityStatement says
   * (default true); false stands in for a server that does not, and refuses PATCH.
   */
  patch?: boolean;
  /**
   * Whether the server offers history (`history-type`, `history-system`) — default true; false stands
   * in for one that does not (its CapabilityStatement says so, `_history` is refused as not supported).
   */
  history?: boolean;
}

export interface RequestLogEntry {
  method: string;
  /** Path and query string as received (never the body). */
  url: string;
  status: number;
}

export interface FhirSimulator {
  readonly baseUrl: string;
  readonly port: number;
  readonly repository: SimulatorRepository;
  readonly faults: Readonly<FhirFaults>;
  /** Seeded records and how long seeding took. */
  readonly seeded: { records: number; ms: number; mode: SeedingMode };
  setFaults(faults: Partial<FhirFaults>): void;
  /** Changes `fraction` of the live records (Patients aside) — each gets a new version. */
  mutate(fraction: number, types?: readonly string[]): Promise<WriteRecord[]>;
  /** Writes that carried this idempotency key; exactly-once means 1. */
  effects(idempotencyKey: string): number;
  /** The most recent requests (method, URL, status), oldest first. */
  requests(): readonly RequestLogEntry[];
  close(): Promise<void>;
}

const FHIR_JSON = 'application/fhir+json; charset=utf-8';
const REQUEST_LOG_SIZE = 20_000;
const STORED_SEARCHES = 10_000;

export async function startFhirSimulator(options: FhirSimulatorOptions): Promise<FhirSimulator> {
  loadSearchParameters();
  const seeding = options.seeding ?? 'eager';
  const basePath = (options.basePath ?? '/fhir').replace(/\/$/, '');
  const bodyLimit = options.bodyLimitBytes ?? 5_000_000;
  const random = seededRandom(options.randomSeed ?? 7);
  let faults: FhirFaults = { ...noFaults, ...options.faults };
  const clock = options.clock ?? Date.now;

  const repository = new SimulatorRepository(options.seedSource, { seeding, writeTimestamps: options.writeTimestamps, clock });
  const seedStart = performance.now();
  const { records } = await repository.seed();
  const seeded = { records, ms: Math.round(performance.now() - seedStart), mode: seeding };

  let baseUrl = '';
  const storedSearches = new Map<string, { resourceType: string; params: Record<string, string[]> }>();
  const router = new FhirRouter();

  /** The search every search route goes through: one page, with self and next links. */
  async function search(resourceType: string | undefined, params: Record<string, string[]>, fromPost: boolean): Promise<FhirResponse> {
    let token: string | undefined;
    if (params._getpages) {
      token = params._getpages[0]!;
      const stored = storedSearches.get(token);
      if (!stored) return [gone];
      resourceType = stored.resourceType === 'MultipleTypes' ? undefined : stored.resourceType;
      params = { ...stored.params, ...pagingOf(params) };
      fromPost = true;
    }
    const request = parseSearchRequest((resourceType ?? 'MultipleTypes') as Resource['resourceType'], withoutGetpages(params));
    const page = await repository.searchPage(request);
    const count = Math.max(0, Math.min(request.count ?? 20, 1000));
    const offset = request.offset ?? 0;
    const query = { ...withoutPaging(params), _count: [String(count)] };
    if (fromPost) {
      token ??= storeSearch(resourceType ?? 'MultipleTypes', withoutPaging(params));
    }
    const linkTo = (paging: Record<string, string[]>) =>
      fromPost ? `${baseUrl}?${toQuery({ _getpages: [token!], _count: [String(count)], ...paging })}` : `${baseUrl}${resourceType ? `/${resourceType}` : ''}?${toQuery({ ...query, ...paging })}`;
    const byLastUpdated = request.sortRules?.[0]?.code === '_lastUpdated' && !request.sortRules[0].descending && offset === 0;
    const links = [{ relation: 'self', url: linkTo(pagingOf(params)) }];
    if (page.hasMore) {
      links.push({ relation: 'next', url: linkTo(byLastUpdated && page.cursorAfterLast ? { _cursor: [page.cursorAfterLast] } : { _offset: [String(offset + count)] }) });
    }
    const bundle: Bundle = {
      resourceType: 'Bundle',
      id: randomUUID(),
      type: 'searchset',
      ...(page.total !== undefined ? { total: page.total } : {}),
      link: links,
      ...(page.resources.length
        ? { entry: page.resources.map((resource) => ({ fullUrl: `${baseUrl}/${resource.resourceType}/${resource.id}`, resource: subsetted(resource, params._elements), search: { mode: 'match' as const } })) }
        : {}),
    };
    return [allOk, bundle];
  }

  /**
   * `_elements` (FHIR search): only the named top-level elements, plus what every resource must
   * keep (resourceType, id, meta), and meta marked SUBSETTED as the specification asks.
   */
  function subsetted(resource: Resource, elements: string[] | undefined): Resource {
    if (!elements?.length) return resource;
    const keep = new Set(['resourceType', 'id', 'meta', ...elements.flatMap((e) => e.split(',')).map((e) => e.trim())]);
    const subset = Object.fromEntries(Object.entries(resource).filter(([key]) => keep.has(key))) as Resource;
    const tag = [...(resource.meta?.tag ?? []), { system: 'http://terminology.hl7.org/CodeSystem/v3-ObservationValue', code: 'SUBSETTED' }];
    return { ...subset, meta: { ...resource.meta, tag } } as Resource;
  }

  /**
   * `GET [base]/[type]/_history` and `GET [base]/_history` (FHIR R4 http, history): a `history` Bundle,
   * newest first, of every version and deletion since `_since` (inclusive); a deletion's entry has no
   * resource, `request.method` DELETE and `request.url` "Type/id". The system level takes `_type`
   * (as HAPI does) to keep to some types. Paged by keyset (`_cursor`), `_elements` as in a search.
   */
  async function history(resourceType: string | undefined, params: Record<string, string[]>): Promise<FhirResponse> {
    const listed = new Set(options.resourceTypes);
    const asked = resourceType ? [resourceType] : (params._type?.flatMap((t) => t.split(',')).map((t) => t.trim()).filter(Boolean) ?? [...listed]);
    const unknown = asked.filter((type) => !listed.has(type));
    if (unknown.length > 0) return [badRequest(`Unknown resource type ${unknown.join(', ')}`)];
    const sinceText = params._since?.[0];
    const since = sinceText === undefined ? undefined : Date.parse(sinceText);
    if (sinceText !== undefined && (!/^\d{4}-\d{2}-\d{2}T/.test(sinceText) || Number.isNaN(since))) return [badRequest('_since must be an instant, e.g. 2026-11-24T10:00:00Z')];
    const count = Math.max(0, Math.min(Number(params._count?.[0] ?? 20) || 0, 1000));
    const page = await repository.historyPage(new Set(asked), { count, ...(since !== undefined ? { since } : {}), ...(params._cursor ? { after: params._cursor[0]! } : {}) });
    const query = { ...withoutPaging(params), _count: [String(count)] };
    const linkTo = (paging: Record<string, string[]>) => `${baseUrl}${resourceType ? `/${resourceType}` : ''}/_history?${toQuery({ ...query, ...paging })}`;
    const links = [{ relation: 'self', url: linkTo(pagingOf(params)) }];
    if (page.hasMore && page.cursorAfterLast) links.push({ relation: 'next', url: linkTo({ _cursor: [page.cursorAfterLast] }) });
    const bundle: Bundle = {
      resourceType: 'Bundle',
      id: randomUUID(),
      type: 'history',
      link: links,
      ...(page.entries.length
        ? {
            entry: page.entries.map((entry) => {
              const created = entry.version === '1';
              const response = { etag: `W/"${entry.version}"`, lastModified: entry.lastUpdated };
              return entry.deleted || !entry.resource
                ? { fullUrl: `${baseUrl}/${entry.resourceType}/${entry.id}`, request: { method: 'DELETE' as const, url: `${entry.resourceType}/${entry.id}` }, response: { status: '204', ...response } }
                : {
                    fullUrl: `${baseUrl}/${entry.resourceType}/${entry.id}`,
                    resource: subsetted(entry.resource, params._elements),
                    request: { method: created ? ('POST' as const) : ('PUT' as const), url: created ? entry.resourceType : `${entry.resourceType}/${entry.id}` },
                    response: { status: created ? '201' : '200', ...response },
                  };
            }),
          }
        : {}),
    };
    return [allOk, bundle];
  }

  function storeSearch(resourceType: string, params: Record<string, string[]>): string {
    if (storedSearches.size >= STORED_SEARCHES) storedSearches.delete(storedSearches.keys().next().value!);
    const token = randomUUID();
    storedSearches.set(token, { resourceType, params });
    return token;
  }

  // Point the router's search routes at our search; everything else stays medplum's.
  for (const route of router.router.routes) {
    const interaction = route.data?.interaction;
    if (interaction === 'search-type' && route.method === 'GET') route.handler = async (req) => search(req.params.resourceType, toParams(req.query), false);
    else if (interaction === 'search-type' && route.method === 'POST') route.handler = async (req) => search(req.params.resourceType, toParams(req.body), true);
    else if (interaction === 'search-system') route.handler = async (req) => search(undefined, toParams(req.query), false);
    // medplum's patch route drops `If-Match`; a field-level write must not land on a version it did not read.
    else if (interaction === 'patch' && route.method === 'PATCH' && route.path.length === 2) route.handler = async (req) => patchRoute(req);
  }

  async function patchRoute(req: FhirRequest): Promise<FhirResponse> {
    if (options.patch === false) return [{ resourceType: 'OperationOutcome', issue: [{ severity: 'error', code: 'not-supported', details: { text: 'This server does not support the patch interaction' } }] }];
    if (!Array.isArray(req.body) || req.body.length === 0) return [badRequest('A patch body must be a non-empty JSON Patch array')];
    const ifMatch = /"([^"]+)"/.exec(String(req.headers?.['if-match'] ?? ''))?.[1];
    const patched = await repository.patchResource(req.params.resourceType as Resource['resourceType'], req.params.id!, req.body, ifMatch !== undefined ? { ifMatch } : undefined);
    return [allOk, patched];
  }

  const requestLog: RequestLogEntry[] = [];
  const held = new Set<ServerResponse>();

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const method = (req.method ?? 'GET').toUpperCase();
    const url = new URL(req.url ?? '/', 'http://simulator');
    const logEntry: RequestLogEntry = { method, url: req.url ?? '/', status: 0 };
    requestLog.push(logEntry);
    if (requestLog.length > REQUEST_LOG_SIZE) requestLog.shift();

    const reply = (status: number, body: Resource | undefined, headers: Record<string, string> = {}, cutOff = false) => {
      logEntry.status = status;
      const text = body ? JSON.stringify(body) : '';
      res.writeHead(status, { ...(body ? { 'content-type': FHIR_JSON } : {}), ...headers });
      res.end(cutOff ? text.slice(0, Math.max(1, Math.floor(text.length / 2))) : text);
    };

    if (url.pathname !== basePath && !url.pathname.startsWith(`${basePath}/`)) return reply(404, outcome('not-found', 'Not a FHIR endpoint'));
    const path = url.pathname.slice(basePath.length) || '/';

    const inScope =
      (!faults.scope?.method || faults.scope.method.toUpperCase() === method) &&
      (!faults.scope?.resourceType || path.split('/')[1] === faults.scope.resourceType);
    const active = inScope ? faults : noFaults;
    if (active.latencyMs > 0) await new Promise((resolve) => setTimeout(resolve, active.latencyMs));
    // Independent draws, so each fault keeps its own rate.
    const failNow = random() < active.errorRate;
    const neverAnswer = random() < active.timeoutRate;
    const cutOff = random() < active.malformedRate;
    if (failNow) return reply(503, outcome('transient', 'Simulated outage'), { 'retry-after': '1' });
    // Drawn only when asked for, so the other faults' random streams stay as they were.
    if ((active.errorOutcomeRate ?? 0) > 0 && random() < active.errorOutcomeRate!) return reply(200, outcome('exception', 'Simulated refusal behind a success status'));

    let body: unknown;
    try {
      body = await readBody(req, bodyLimit);
    } catch (error) {
      return reply(error instanceof BodyTooLarge ? 413 : 400, outcome('structure', error instanceof Error ? error.message : 'unreadable body'));
    }

    const ifMatch = req.headers['if-match'];
    if (ifMatch !== undefined && !/"[^"]+"/.test(String(ifMatch))) return reply(400, outcome('invalid', 'If-Match must be an ETag such as W/"3"'));

    let response: FhirResponse;
    const historyOf = method === 'GET' ? /^\/(?:([A-Za-z]+)\/)?_history\/?$/.exec(path) : null;
    if (method === 'GET' && path === '/metadata') response = [allOk, capabilityStatement(options, baseUrl)];
    // Without history, a resource's history (`[type]/[id]/_history`) is refused too, as the statement says; vread still works.
    else if ((historyOf || (method === 'GET' && /^\/[A-Za-z]+\/[^/]+\/_history\/?$/.test(path))) && options.history === false) response = [{ resourceType: 'OperationOutcome', issue: [{ severity: 'error', code: 'not-supported', details: { text: 'This server does not support history' } }] }];
    else if (historyOf) {
      try {
        response = await history(historyOf[1], paramsFromForm(url.search.slice(1)));
      } catch (error) {
        response = [normalizeOperationOutcome(error)];
      }
    } else {
      const fhirRequest: FhirRequest = { method: method as FhirRequest['method'], url: `${path}${url.search}`, pathname: '', body, params: {}, query: {}, headers: req.headers };
      try {
        response = await router.handleRequest(fhirRequest, repository);
      } catch (error) {
        response = [normalizeOperationOutcome(error)];
      }
    }
    const [result, resource] = response;
    const status = getStatus(result);

    if (neverAnswer) {
      // The effect happened; the answer is lost. The socket is released on close().
      logEntry.status = -1;
      held.add(res);
      res.on('close', () => held.delete(res));
      return;
    }
    const payload = resource ?? result;
    reply(status, payload, resource ? resourceHeaders(resource, status, baseUrl) : {}, cutOff);
  }

  const server: Server = createServer((req, res) => {
    handle(req, res).catch((error: unknown) => {
      if (!res.headersSent) {
        res.writeHead(500, { 'content-type': FHIR_JSON });
        res.end(JSON.stringify(outcome('exception', error instanceof Error ? error.message : 'internal error')));
      }
    });
  });
  // Keep idle connections open longer than any client does (undici drops them after ~4 s), so a
  // client never sends a request on a socket the server is closing at that very moment.
  server.keepAliveTimeout = 60_000;
  server.headersTimeout = 65_000;
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, options.host ?? '127.0.0.1', () => resolve());
  });
  const address = server.address();
  const port = typeof address === 'object' && address ? address.port : 0;
  baseUrl = `http://${options.host ?? '127.0.0.1'}:${port}${basePath}`;

  return {
    baseUrl,
    port,
    repository,
    seeded,
    get faults() {
      return faults;
    },
    setFaults(next) {
      faults = { ...faults, ...next };
      if ('scope' in next && !next.scope) delete faults.scope;
    },
    async mutate(fraction, types) {
      if (!(fraction >= 0 && fraction <= 1)) throw new RangeError('fraction is between 0 and 1');
      const target = Math.round(fraction * repository.eligibleCount(types));
      const chosen = await repository.pickForChange(target, random, types);
      const changed: WriteRecord[] = [];
      for (const resource of chosen) {
        const updated = await repository.updateResource(changeOf(resource, clock()));
        changed.push({ resourceType: updated.resourceType, id: updated.id, version: updated.meta!.versionId!, lastUpdated: updated.meta!.lastUpdated! });
      }
      return changed;
    },
    effects: (key) => repository.effects(key),
    requests: () => requestLog.slice(),
    async close() {
      for (const res of held) res.socket?.destroy();
      held.clear();
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

function outcome(code: string, diagnostics: string): OperationOutcome {
  return { resourceType: 'OperationOutcome', issue: [{ severity: 'error', code: code as 'exception', diagnostics }] };
}

function resourceHeaders(resource: Resource, status: number, baseUrl: string): Record<string, string> {
  const versionId = resource.meta?.versionId;
  if (!versionId || resource.resourceType === 'Bundle' || resource.resourceType === 'OperationOutcome') return {};
  const headers: Record<string, string> = { etag: `W/"${versionId}"` };
  if (resource.meta?.lastUpdated) headers['last-modified'] = new Date(resource.meta.lastUpdated).toUTCString();
  const at = `${baseUrl}/${resource.resourceType}/${resource.id}/_history/${versionId}`;
  if (status === 201) headers.location = at;
  else headers['content-location'] = at;
  return headers;
}

class BodyTooLarge extends Error {}

async function readBody(req: IncomingMessage, limit: number): Promise<unknown> {
  const method = (req.method ?? 'GET').toUpperCase();
  if (method === 'GET' || method === 'HEAD' || method === 'DELETE') return undefined;
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    size += (chunk as Buffer).length;
    if (size > limit) throw new BodyTooLarge(`Request body over ${limit} bytes`);
    chunks.push(chunk as Buffer);
  }
  const text = Buffer.concat(chunks).toString('utf8');
  if (!text) return undefined;
  const type = String(req.headers['content-type'] ?? '').toLowerCase();
  if (type.startsWith('application/x-www-form-urlencoded')) return paramsFromForm(text);
  try {
    return JSON.parse(text);
  } catch {
    throw new Error('Request body is not valid JSON');
  }
}

function paramsFromForm(text: string): Record<string, string[]> {
  const params: Record<string, string[]> = {};
  for (const [key, value] of new URLSearchParams(text)) (params[key] ??= []).push(value);
  return params;
}

function toParams(source: unknown): Record<string, string[]> {
  const params: Record<string, string[]> = {};
  if (!source || typeof source !== 'object') return params;
  for (const [key, value] of Object.entries(source as Record<string, unknown>)) {
    if (Array.isArray(value)) params[key] = value.map(String);
    else if (value !== undefined && value !== null) params[key] = [String(value)];
  }
  return params;
}

const PAGING = ['_cursor', '_offset', '_count'];
const pagingOf = (params: Record<string, string[]>) => Object.fromEntries(Object.entries(params).filter(([k]) => PAGING.includes(k)));
const withoutPaging = (params: Record<string, string[]>) => Object.fromEntries(Object.entries(params).filter(([k]) => !PAGING.includes(k) && k !== '_getpages'));
const withoutGetpages = (params: Record<string, string[]>) => Object.fromEntries(Object.entries(params).filter(([k]) => k !== '_getpages'));

function toQuery(params: Record<string, string[]>): string {
  const search = new URLSearchParams();
  for (const [key, values] of Object.entries(params)) for (const value of values) search.append(key, value);
  return search.toString();
}

/** A plausible edit per resource type, so a mutated record really differs from its last version. */
function changeOf(resource: Resource, nowMs: number): Resource {
  const today = new Date(nowMs).toISOString().slice(0, 10);
  const next = structuredClone(resource) as Resource & Record<string, unknown>;
  switch (next.resourceType) {
    case 'Goal': {
      const goal = next as Resource & { lifecycleStatus?: string; achievementStatus?: unknown; statusDate?: string };
      if (goal.lifecycleStatus === 'active') {
        goal.lifecycleStatus = 'completed';
        goal.achievementStatus = { coding: [{ system: 'http://terminology.hl7.org/CodeSystem/goal-achievement', code: 'achieved' }] };
      } else {
        goal.lifecycleStatus = 'active';
        delete goal.achievementStatus;
      }
      goal.statusDate = today;
      break;
    }
    case 'CarePlan': {
      const detail = (next as { activity?: { detail?: { status?: string; scheduledPeriod?: { start?: string; end?: string } } }[] }).activity?.[0]?.detail;
      if (detail) {
        const progression: Record<string, string> = { 'not-started': 'in-progress', scheduled: 'in-progress', 'in-progress': 'completed', completed: 'in-progress' };
        detail.status = progression[detail.status ?? ''] ?? 'in-progress';
        if (detail.status === 'completed') detail.scheduledPeriod = { ...detail.scheduledPeriod, end: today };
        else if (detail.scheduledPeriod) delete detail.scheduledPeriod.end;
      }
      break;
    }
    case 'Consent': {
      const provision = (next as { provision?: { period?: { start?: string; end?: string } } }).provision;
      if (provision?.period) provision.period.end = new Date(nowMs + 730 * 86_400_000).toISOString().slice(0, 10);
      break;
    }
    default: {
      const withNote = next as { note?: { text: string }[] };
      withNote.note = [{ text: `Revurderet ${today}` }];
    }
  }
  return next;
}

function capabilityStatement(options: FhirSimulatorOptions, baseUrl: string): CapabilityStatement {
  const searchParam = [
    { name: '_id', type: 'token' as const },
    { name: '_lastUpdated', type: 'date' as const },
    { name: 'identifier', type: 'token' as const },
    { name: 'subject', type: 'reference' as const },
    { name: 'patient', type: 'reference' as const },
  ];
  return {
    resourceType: 'CapabilityStatement',
    status: 'active',
    date: '2026-01-01',
    kind: 'instance',
    software: { name: options.name, version: '1.0.0' },
    implementation: { description: options.name, url: baseUrl },
    fhirVersion: '4.0.1',
    format: ['application/fhir+json'],
    rest: [
      {
        mode: 'server',
        resource: options.resourceTypes.map((type) => ({
          type: type as 'Patient',
          versioning: 'versioned' as const,
          readHistory: true,
          updateCreate: true,
          conditionalCreate: true,
          interaction: ['read', 'vread', 'update', ...(options.patch === false ? [] : ['patch']), 'delete', 'create', 'search-type', ...(options.history === false ? [] : ['history-instance', 'history-type'])].map((code) => ({ code: code as 'read' })),
          searchParam,
        })),
        interaction: [{ code: 'search-system' as const }, ...(options.history === false ? [] : [{ code: 'history-system' as const }]), { code: 'batch' as const }],
        searchParam: [{ name: '_type', type: 'token' }, { name: '_lastUpdated', type: 'date' }],
      },
    ],
  };
}

