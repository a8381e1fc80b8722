/**
 * What the SOAP simulators (DFDG, Ungedatabasen) share: a real HTTP server on 127.0.0.1 that reads
 * SOAP 1.1 requests through the hardened reader, answers with envelopes or STAR-style faults, and
 * misbehaves on demand — errors, latency, timeouts and malformed replies — switchable at run time
 * through the handle or the admin endpoints:
 *
 *   POST /admin/faults   JSON { errorRate?, latencyMs?, timeoutRate?, malformedRate? }
 *   POST /admin/mutate   JSON { fraction }  → { changed }
 *   GET  /admin/effects  → { effects: { [targetId]: count } }
 *
 * Fault order follows what real failures look like to a client: an error happens before the
 * request is processed; a timeout or a malformed reply happens after it, so the effect is applied
 * but the reply is lost — exactly the case idempotency keys exist for.
 */
import type { Server } from 'node:http';
import { serve } from '@hono/node-server';
import { Hono } from 'hono';
import { bodyLimit } from 'hono/body-limit';
import { seededRandom } from '../shared/population';
import { batchReadRequestSchema, countSubjects, type BatchReadSpec } from './batch-read';
import type { ChangeListSpec } from './change-list';
import type { FeedEntry, FeedRecord } from './change-log';
import { buildEnvelope, buildFault, createSoapReader, SOAP11_CONTENT_TYPE, type SoapMessage } from './envelope';
import { starFaultCodes, type StarFaultCode } from './faults';
import { buildSecurityFault } from './ws-security-verify';
import { describeIssues } from './records';
import { DEFAULT_MAX_XML_BYTES, XmlInputError, type XmlObject, type XmlWritableObject } from './xml';
import type { SyntheticCitizen } from '../shared/population';
import type { FeedPosition } from './identifiers';
import type { WriteLogEntry } from './write-ledger';

export interface SimulatorFaults {
  /** Share of requests answered with fault 5000 before processing. */
  errorRate: number;
  /** Delay before every SOAP reply. */
  latencyMs: number;
  /** Share of requests processed and then never answered (until the client gives up). */
  timeoutRate: number;
  /** Share of requests processed and answered with a cut-off XML reply. */
  malformedRate: number;
}

export const noFaults: Readonly<SimulatorFaults> = { errorRate: 0, latencyMs: 0, timeoutRate: 0, malformedRate: 0 };

/** Thrown by a service handler to answer with a fault. */
export class SimulatedFault extends Error {
  constructor(
    readonly errorCode: StarFaultCode,
    readonly faultString: string,
  ) {
    super(faultString);
    this.name = 'SimulatedFault';
  }
}

export interface SoapAnswer {
  operation: string;
  content: XmlWritableObject;
}

/**
 * Answer a batch read (see batch-read.ts): one group per distinct person asked, in the order
 * asked, each filled by `readPerson` — the function the per-citizen read uses, so a batch returns
 * exactly what single reads would. `readPerson` throwing fault 1010 marks that person unknown in
 * the reply; any other fault fails the whole request, as does asking for more than the cap (1020).
 * It runs inside `handle`, so the fault switches (errors, latency, timeouts, malformed replies)
 * apply to a batch request like to any other.
 */
export function answerBatchRead(spec: BatchReadSpec, message: SoapMessage, readPerson: (cpr: string, after: unknown) => XmlWritableObject): SoapAnswer {
  const count = countSubjects(message.content, spec);
  if (count > spec.maxSubjects) throw new SimulatedFault('1020', `${spec.request} names ${count} persons; at most ${spec.maxSubjects} are allowed per request`);
  const parsed = batchReadRequestSchema(spec).safeParse(message.content);
  if (!parsed.success) throw new SimulatedFault('1020', `${spec.request}: ${describeIssues(parsed.error)}`);
  const groups = [...new Set(parsed.data[spec.subjectElement] as string[])].map((cpr): XmlWritableObject => {
    try {
      return { [spec.subjectElement]: cpr, ...readPerson(cpr, parsed.data[spec.after.element]) };
    } catch (error) {
      if (!(error instanceof SimulatedFault) || error.errorCode !== '1010') throw error;
      return { [spec.subjectElement]: cpr, [spec.statusElement]: { ErrorCode: error.errorCode, ErrorText: error.faultString } };
    }
  });
  return { operation: spec.response, content: { [spec.groupElement]: groups } };
}

/**
 * Answer a change-list request with one page: each logged record as a change item (`about` gives
 * its CPR and record type), injected items as they are, and the "more available" flag.
 */
export function answerChangeList<R extends FeedRecord>(
  spec: ChangeListSpec,
  page: { entries: FeedEntry<R>[]; hasMore: boolean },
  about: (record: R) => { cpr: string; recordType: string },
): SoapAnswer {
  const f = spec.fields;
  const items = page.entries.map((entry): XmlWritableObject | string => {
    if ('injected' in entry) return entry.injected;
    const { record } = entry;
    const { cpr, recordType } = about(record);
    return { [f.cpr]: cpr, [f.recordType]: recordType, [f.recordId]: record.recordId, [f.version]: record.version, [f.updatedAt]: new Date(record.updatedAtMs).toISOString() };
  });
  return { operation: spec.response, content: { [spec.itemElement]: items, [spec.moreElement]: page.hasMore } };
}

/** One request as the simulator saw it: where it went and its headers — for tests of what leaks. */
export interface LoggedRequest {
  method: string;
  url: string;
  headers: Record<string, string>;
  operation?: string;
  /** The SOAP header blocks (e.g. STAR's ActiveOrganisation), by local name. */
  soapHeader?: XmlObject;
}

export interface SoapSimulatorOptions {
  name: string;
  namespace: string;
  arrayElements: Iterable<string>;
  port?: number;
  hostname?: string;
  /** Seed of the fault dice, so a fault sequence can be replayed. */
  faultSeed?: number;
  faults?: Partial<SimulatorFaults>;
  /** How long a "timeout" keeps the request open; cut short by close(). Default 60 s. */
  hangMs?: number;
  maxRequestBytes?: number;
  /** Checks a request before it is read further (WS-Security, ws-security-verify.ts): a fault answers one that fails. */
  verifyRequest?: (xml: string) => Promise<{ ok: true } | { ok: false; faultCode: string; reason: string }>;
  handle(message: SoapMessage): SoapAnswer;
  mutate(fraction: number): number;
  effects(): Record<string, number>;
}

export interface SoapSimulatorServer {
  /** The SOAP endpoint, e.g. http://127.0.0.1:43121/soap — what adapters take as `baseUrl`. */
  url: string;
  /** Base of the admin endpoints, e.g. http://127.0.0.1:43121/admin. */
  adminUrl: string;
  port: number;
  setFaults(faults: Partial<SimulatorFaults>): SimulatorFaults;
  faults(): SimulatorFaults;
  /** The last requests (at most 200). */
  requestLog(): LoggedRequest[];
  /** SOAP requests read per operation since start (not those the error rate refused unread). */
  operationCounts(): Record<string, number>;
  close(): Promise<void>;
}

const clampRate = (value: unknown, fallback: number) => (typeof value === 'number' && Number.isFinite(value) ? Math.min(1, Math.max(0, value)) : fallback);

const REQUEST_LOG_SIZE = 200;

export async function startSoapSimulator(options: SoapSimulatorOptions): Promise<SoapSimulatorServer> {
  const reader = createSoapReader({ maxBytes: options.maxRequestBytes ?? DEFAULT_MAX_XML_BYTES, arrayElements: options.arrayElements });
  const dice = seededRandom(options.faultSeed ?? 7);
  let faults: SimulatorFaults = { ...noFaults };
  const hangMs = options.hangMs ?? 60_000;
  const hanging = new Set<() => void>();
  const log: LoggedRequest[] = [];
  const operationCounts = new Map<string, number>();

  const setFaults = (next: Partial<SimulatorFaults>): SimulatorFaults => {
    faults = {
      errorRate: clampRate(next.errorRate, faults.errorRate),
      timeoutRate: clampRate(next.timeoutRate, faults.timeoutRate),
      malformedRate: clampRate(next.malformedRate, faults.malformedRate),
      latencyMs: typeof next.latencyMs === 'number' && next.latencyMs >= 0 ? Math.min(next.latencyMs, 600_000) : faults.latencyMs,
    };
    return { ...faults };
  };
  if (options.faults) setFaults(options.faults);

  const wait = (ms: number) =>
    new Promise<void>((resolve) => {
      const done = () => {
        clearTimeout(timer);
        hanging.delete(done);
        resolve();
      };
      const timer = setTimeout(done, ms);
      hanging.add(done);
    });

  const soapResponse = (xml: string, status = 200) => new Response(xml, { status, headers: { 'content-type': SOAP11_CONTENT_TYPE } });
  const faultResponse = (errorCode: StarFaultCode, faultString: string) =>
    soapResponse(
      buildFault({ faultCode: starFaultCodes[errorCode].permanent ? 'Client' : 'Server', faultString, errorCode, namespace: options.namespace }),
      500,
    );

  const app = new Hono();
  const limit = options.maxRequestBytes ?? DEFAULT_MAX_XML_BYTES;

  app.post('/soap', bodyLimit({ maxSize: limit, onError: () => faultResponse('1001', `the request is larger than ${limit} bytes`) }), async (c) => {
    const entry: LoggedRequest = { method: c.req.method, url: c.req.url, headers: Object.fromEntries(c.req.raw.headers) };
    log.push(entry);
    if (log.length > REQUEST_LOG_SIZE) log.splice(0, log.length - REQUEST_LOG_SIZE);

    const body = await c.req.text();

    if (faults.latencyMs > 0) await wait(faults.latencyMs);
    if (faults.errorRate > 0 && dice() < faults.errorRate) return faultResponse('5000', `${options.name}: simulated internal error`);

    let message: SoapMessage;
    try {
      const reply = reader.read(body);
      if (reply.kind === 'fault') return faultResponse('1020', 'a fault is not a request');
      message = reply.message;
    } catch (error) {
      if (error instanceof XmlInputError) return faultResponse('1001', `request refused: ${error.message}`);
      throw error;
    }
    if (options.verifyRequest) {
      const check = await options.verifyRequest(body);
      if (!check.ok) return soapResponse(buildSecurityFault(check.faultCode, check.reason), 500);
    }
    entry.operation = message.operation;
    entry.soapHeader = message.header;
    operationCounts.set(message.operation, (operationCounts.get(message.operation) ?? 0) + 1);

    let answer: SoapAnswer;
    try {
      answer = options.handle(message);
    } catch (error) {
      if (error instanceof SimulatedFault) return faultResponse(error.errorCode, error.faultString);
      return faultResponse('5000', `${options.name}: internal error`);
    }
    const xml = buildEnvelope({ namespace: options.namespace, operation: answer.operation, content: answer.content });

    if (faults.timeoutRate > 0 && dice() < faults.timeoutRate) {
      await wait(hangMs);
      return soapResponse(xml);
    }
    if (faults.malformedRate > 0 && dice() < faults.malformedRate) return soapResponse(xml.slice(0, Math.max(1, Math.floor(xml.length / 2))));
    return soapResponse(xml);
  });

  app.post('/admin/faults', async (c) => {
    const body: unknown = await c.req.json().catch(() => null);
    if (typeof body !== 'object' || body === null) return c.json({ error: 'a JSON object of fault settings is expected' }, 400);
    return c.json(setFaults(body as Partial<SimulatorFaults>));
  });
  app.post('/admin/mutate', async (c) => {
    const body = (await c.req.json().catch(() => null)) as { fraction?: unknown } | null;
    const fraction = body?.fraction;
    if (typeof fraction !== 'number' || !(fraction >= 0 && fraction <= 1)) return c.json({ error: 'fraction must be a number from 0 to 1' }, 400);
    return c.json({ changed: options.mutate(fraction) });
  });
  app.get('/admin/effects', (c) => c.json({ effects: options.effects() }));
  app.get('/admin/faults', (c) => c.json(faults));

  const hostname = options.hostname ?? '127.0.0.1';
  const { server, port } = await new Promise<{ server: Server; port: number }>((resolve, reject) => {
    const started = serve({ fetch: app.fetch, port: options.port ?? 0, hostname }, (info) => resolve({ server: started as Server, port: info.port }));
    started.once('error', reject);
  });
  const origin = `http://${hostname}:${port}`;

  return {
    url: `${origin}/soap`,
    adminUrl: `${origin}/admin`,
    port,
    setFaults,
    faults: () => ({ ...faults }),
    requestLog: () => log.map((entry) => ({ ...entry, headers: { ...entry.headers } })),
    operationCounts: () => Object.fromEntries(operationCounts),
    close: () =>
      new Promise<void>((resolve, reject) => {
        for (const release of [...hanging]) release();
        server.close((error) => (error ? reject(error) : resolve()));
        server.closeAllConnections();
      }),
  };
}


/** What starting a sector's SOAP simulator takes (DFDG, Ungedatabasen). */
export interface SoapSectorSimulatorOptions {
  /** The citizens to serve; default: `generatePopulation(size, seed)`. */
  population?: SyntheticCitizen[];
  size?: number;
  seed?: number;
  port?: number;
  faults?: Partial<SimulatorFaults>;
  /** Clock for change times (ms since epoch); default Date.now. */
  now?: () => number;
  hangMs?: number;
}

/** A running sector SOAP simulator: the server plus what tests and benchmarks steer and count. */
export interface SoapSectorSimulator extends SoapSimulatorServer {
  population: readonly SyntheticCitizen[];
  /** Change `fraction` (0–1) of all records: version + 1 and a new change time. Returns how many. */
  mutate(fraction: number): number;
  /** Applied write effects per target record id. */
  effectCounts(): Record<string, number>;
  writeLog(): WriteLogEntry[];
  /** How many records the simulator holds (for feed tests). */
  recordCount(): number;
  /** The citizens this system knows. */
  knownCitizens(): SyntheticCitizen[];
  /**
   * Test hook: add an extra element to a citizen's read reply, as is — to see how the adapter
   * treats records that break the contract. Not part of the change list.
   */
  injectRecord(cpr: string, element: string, content: XmlWritableObject | string): void;
  /**
   * Test hook: put a change item into the change list as is — to see how the adapter treats
   * change items that break the contract. It sits at `at` in the feed (default: the position its
   * own change time and record id give) and comes, between the logged records, in every
   * change-list reply whose range covers that position. Replies stay real SOAP over HTTP.
   */
  injectChangeItem(content: XmlWritableObject | string, at?: FeedPosition): void;
}
