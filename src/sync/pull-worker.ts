/**
 * Pulling off the main thread (Node only). A sync spends about a third of its CPU reading the
 * sources — HTTP, parsing XML and JSON, checking records against their contracts, mapping them —
 * and the rest merging and writing, which must stay on the thread that owns the database. A pull
 * worker (one worker thread for all adapters) does the first part on another core: the engine's
 * adapters become proxies whose `pull` and `pullMany` run in the worker, which also maps each
 * record it read; everything else an adapter does (`changes`, `push`, `check`) stays where it was.
 *
 * The engine uses a record's mapping result from the worker only if the worker ran the very mapping
 * (id and version) the engine would have run; otherwise it maps the record itself. Errors cross as
 * their message and, for an `AdapterError`, its code and permanence, so the engine's fallbacks work
 * as they do in-process. A worker that dies fails the requests in flight (the engine then retries
 * them one by one, or on a later run) and is started again on the next request.
 */
import { Worker } from 'node:worker_threads';
import { AdapterError, type PullManyOptions, type PullResult, type PullSubject, type QuarantinedRecord, type SourceAdapter, type SourceRecord } from '../../adapters/adapter';
import type { MappingResult } from '../../mappings/mapping';
import type { Config } from '../config';
import type { SourceSystem } from '../model';
import { threadCalls } from '../runtime/thread-calls';

/** What the worker attaches to a record: the outcome of the mapping it ran on it. */
export interface Premapped {
  mappingId: string;
  mappingVersion: string;
  result: MappingResult;
}

/** A record as the engine receives it from a pull worker. */
export interface PulledRecord extends SourceRecord {
  premapped?: Premapped;
  /**
   * The payload as JSON text. Left out when the worker mapped the record successfully with the
   * mapping the engine named (`PullManyOptions.mappedWith`): the engine then never reads the
   * payload, and a chunk's payloads need not be copied to the main thread as well.
   */
  payloadJson?: string;
}

export interface WireRecord {
  recordType: string;
  recordId: string;
  version: string;
  updatedAt: string;
  payloadJson?: string;
  premapped?: Premapped;
}

export interface WirePullResult {
  records: WireRecord[];
  quarantined: QuarantinedRecord[];
  unknownAtSource?: boolean;
}

type PullAsk =
  | { tenant: string; adapter: SourceSystem; op: 'pull'; subject: PullSubject; since: string | null | undefined }
  | { tenant: string; adapter: SourceSystem; op: 'pullMany'; subjects: PullSubject[]; since: string | null | undefined; mappedWith?: Readonly<Record<string, string>> };
export type PullRequest = PullAsk & { id: number };

export interface WireError {
  message: string;
  adapterError?: { permanent: boolean; code: string; retryAfterSeconds?: number };
}

export type PullReply =
  | { id: number; ok: true; results: [string, WirePullResult][] }
  | { id: number; ok: false; error: WireError };

export function errorToWire(error: unknown): WireError {
  if (error instanceof AdapterError) return { message: error.message, adapterError: { permanent: error.permanent, code: error.code, ...(error.retryAfterSeconds !== undefined ? { retryAfterSeconds: error.retryAfterSeconds } : {}) } };
  return { message: error instanceof Error ? error.message : String(error) };
}

function errorFromWire(error: WireError): Error {
  if (error.adapterError) return new AdapterError(error.message, error.adapterError.permanent, error.adapterError.code, error.adapterError.retryAfterSeconds);
  return new Error(error.message);
}

function resultFromWire(wire: WirePullResult): PullResult {
  const records = wire.records.map((r): PulledRecord => {
    const { payloadJson } = r;
    let payload: unknown;
    let parsed = false;
    return {
      recordType: r.recordType,
      recordId: r.recordId,
      version: r.version,
      updatedAt: r.updatedAt,
      ...(payloadJson !== undefined ? { payloadJson } : {}),
      ...(r.premapped ? { premapped: r.premapped } : {}),
      // Parsed only if someone asks: with a mapping result from the worker, nobody does.
      get payload() {
        if (payloadJson === undefined) throw new Error(`the pull worker mapped ${r.recordType} ${r.recordId} and kept its payload`);
        if (!parsed) {
          payload = JSON.parse(payloadJson);
          parsed = true;
        }
        return payload;
      },
    };
  });
  return { records, quarantined: wire.quarantined, ...(wire.unknownAtSource ? { unknownAtSource: true } : {}) };
}

export interface PullWorkerOptions {
  /** The worker's entry module; by default the built one beside this module, or the TypeScript source run through tsx. */
  entry?: URL;
  /** Heap limits of the worker thread (it holds one chunk's replies at a time). */
  resourceLimits?: { maxOldGenerationSizeMb: number; maxYoungGenerationSizeMb: number };
}

export interface PullWorker {
  /** The tenant's adapters with `pull` and `pullMany` running in the worker. */
  wrap(tenant: string, adapters: Partial<Record<SourceSystem, SourceAdapter>>): Partial<Record<SourceSystem, SourceAdapter>>;
  close(): Promise<void>;
}

const fromSource = import.meta.url.endsWith('.ts');

/** Starts a pull worker whose adapters are built from `config`, as the calling process builds its own. */
export function startPullWorker(config: Config, options: PullWorkerOptions = {}): PullWorker {
  const entry = options.entry ?? (fromSource ? new URL('./pull-worker-main.ts', import.meta.url) : new URL('./pull-worker.mjs', import.meta.url));
  let worker: Worker | undefined;
  const calls = threadCalls<PullReply>();
  const start = (): Worker => {
    const fromTypeScript = entry.pathname.endsWith('.ts');
    // The TypeScript entry needs tsx registered in the worker first (as the tests run it); the built one does not.
    const started = new Worker(fromTypeScript ? new URL('./pull-worker-bootstrap.js', import.meta.url) : entry, {
      workerData: { config, entry: entry.href },
      resourceLimits: options.resourceLimits ?? { maxOldGenerationSizeMb: 96, maxYoungGenerationSizeMb: 24 },
    });
    started.on('message', (reply: PullReply) => calls.answer(started, reply.id, { value: reply }));
    started.on('error', (error) => {
      if (worker === started) worker = undefined;
      calls.failAll(new Error(`pull worker failed: ${error.message}`));
    });
    started.on('exit', (code) => {
      if (worker === started) worker = undefined;
      calls.failAll(new Error(`pull worker exited (code ${code})`));
    });
    started.unref();
    return started;
  };

  const request = (message: PullAsk): Promise<Map<string, PullResult>> =>
    calls.send((worker ??= start()), message).then((reply) => {
      if (!reply.ok) throw errorFromWire(reply.error);
      return new Map(reply.results.map(([citizenId, result]) => [citizenId, resultFromWire(result)]));
    });

  return {
    wrap(tenant, adapters) {
      const wrapped: Partial<Record<SourceSystem, SourceAdapter>> = {};
      for (const [id, local] of Object.entries(adapters) as [SourceSystem, SourceAdapter][]) {
        const proxy: SourceAdapter = {
          describe: () => local.describe(),
          check: () => local.check(),
          changes: (since, limit) => local.changes(since, limit),
          push: (operation, key) => local.push(operation, key),
          async pull(subject, cursor) {
            const results = await request({ tenant, adapter: id, op: 'pull', subject, since: cursor });
            return results.get(subject.citizenId)!;
          },
          ...(local.cursorAt ? { cursorAt: (at: Date) => local.cursorAt!(at) } : {}),
          ...(local.pullMany ? { pullMany: (subjects: readonly PullSubject[], pullOptions?: PullManyOptions) => request({ tenant, adapter: id, op: 'pullMany', subjects: [...subjects], since: pullOptions?.since, ...(pullOptions?.mappedWith ? { mappedWith: pullOptions.mappedWith } : {}) }) } : {}),
        };
        wrapped[id] = proxy;
      }
      return wrapped;
    },
    async close() {
      const closing = worker;
      worker = undefined;
      calls.failAll(new Error('pull worker closed'));
      if (closing) await closing.terminate();
    },
  };
}
