/**
 * A generic sector system for push tests, runtime-neutral (Web Request/Response only, so it also
 * runs inside workerd): it applies each idempotency key at most once and counts effects per key,
 * and misbehaves on demand like the adapters' simulators do — 5xx before processing, timeouts and
 * malformed replies AFTER processing (the effect happened, the answer was lost: the case
 * idempotency keys exist for), a permanent 4xx refusal, and 429 with Retry-After. Plus an adapter
 * for it behind the SourceAdapter contract, and a pass-through reverse-mapping registry.
 * `push-target.ts` serves it over real HTTP on Node.
 *
 * CPR numbers arrive in the body and are held in memory only; nothing here prints them.
 */
import { Hono } from 'hono';
import { AdapterError, type PushOperation, type PushReceipt, type SourceAdapter } from '../../adapters/adapter';
import { seededRandom } from '../../adapters/shared/population';
import type { SourceSystem } from '../../src/model';
import type { Outbound, OutboundOperation } from '../../src/registrations';
import { reverseMappingRegistry, type ReverseMappingRegistry } from '../../src/delivery';
import type { HeldAs } from '../../src/delivery/reverse-mappings';

export interface TargetFaults {
  errorRate: number;
  timeoutRate: number;
  malformedRate: number;
  /** When set, every push is refused with 422 and this reason (a validation error at the target). */
  refuseWith: string | null;
  /** When set, every push is answered 429 with this Retry-After (seconds). */
  retryAfterSeconds: number | null;
  latencyMs: number;
}

export interface AppliedEffect {
  key: string;
  operation: string;
  /** Which citizen (by the hash the test chose), to check per-citizen order. */
  subject: string;
  registrationId?: string;
  order: number;
}

export interface PushTargetCore {
  name: string;
  app: Hono;
  setFaults(faults: Partial<TargetFaults>): void;
  /** Effects applied per idempotency key: 1 means exactly once in effect. */
  effectCounts(): Record<string, number>;
  effects(): AppliedEffect[];
  /** Requests received (including replays and faulted ones). */
  requests(): number;
  reset(): void;
  /** Lets every hanging ("timed out") request finish. */
  releaseHanging(): void;
}

const noFaults: TargetFaults = { errorRate: 0, timeoutRate: 0, malformedRate: 0, refuseWith: null, retryAfterSeconds: null, latencyMs: 0 };

export function createPushTargetCore(options: { name: string; seed?: number; faults?: Partial<TargetFaults>; hangMs?: number }): PushTargetCore {
  let faults: TargetFaults = { ...noFaults, ...options.faults };
  const dice = seededRandom(options.seed ?? 11);
  const applied = new Map<string, { receipt: PushReceipt; count: number }>();
  const log: AppliedEffect[] = [];
  const hanging = new Set<() => void>();
  let requests = 0;
  const hangMs = options.hangMs ?? 30_000;

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

  const app = new Hono();
  app.post('/push', async (c) => {
    requests++;
    const key = c.req.header('idempotency-key');
    const body = (await c.req.json().catch(() => null)) as { operation?: string; subject?: string; payload?: { registrationId?: string } } | null;
    if (faults.latencyMs) await wait(faults.latencyMs);
    if (!key || !body?.operation) return c.json({ error: 'an Idempotency-Key header and an operation are required' }, 400);
    if (faults.refuseWith) return c.json({ error: faults.refuseWith }, 422);
    if (faults.retryAfterSeconds !== null) return c.json({ error: 'slow down' }, 429, { 'retry-after': String(faults.retryAfterSeconds) });
    if (faults.errorRate && dice() < faults.errorRate) return c.json({ error: 'simulated internal error' }, 503);

    let entry = applied.get(key);
    let duplicate = true;
    if (!entry) {
      duplicate = false;
      entry = { receipt: { targetId: `${options.name}-${applied.size + 1}`, duplicate: false, version: '1' }, count: 0 };
      applied.set(key, entry);
      entry.count++;
      log.push({ key, operation: body.operation, subject: body.subject ?? '?', registrationId: body.payload?.registrationId, order: log.length + 1 });
    }
    const reply = { ...entry.receipt, duplicate };
    if (faults.timeoutRate && dice() < faults.timeoutRate) {
      await wait(hangMs);
      return c.json(reply);
    }
    if (faults.malformedRate && dice() < faults.malformedRate) return c.body(JSON.stringify(reply).slice(0, 9), 200, { 'content-type': 'application/json' });
    return c.json(reply);
  });

  return {
    name: options.name,
    app,
    setFaults: (next) => {
      faults = { ...faults, ...next };
    },
    effectCounts: () => Object.fromEntries([...applied].map(([k, v]) => [k, v.count])),
    effects: () => log.map((e) => ({ ...e })),
    requests: () => requests,
    reset: () => {
      applied.clear();
      log.length = 0;
      requests = 0;
    },
    releaseHanging: () => {
      for (const release of [...hanging]) release();
    },
  };
}

/** A keyed, non-reversible subject marker for the target's log: never the CPR itself. */
function subjectOf(cpr: string): string {
  let h = 2166136261;
  for (const ch of cpr) h = Math.imul(h ^ ch.charCodeAt(0), 16777619);
  return `s${(h >>> 0).toString(36)}`;
}

/** An adapter for a push target, behind the SourceAdapter contract (push only). */
export function pushTargetAdapter(id: SourceSystem, baseUrl: string, timeoutMs = 2_000, fetchImpl: typeof fetch = (input, init) => fetch(input, init)): SourceAdapter {
  const unsupported = () => Promise.reject(new AdapterError('this test target only takes pushes', true, 'unsupported'));
  return {
    describe: () => ({ id, name: `test target ${id}`, sector: 'employment', format: 'JSON', recordTypes: [], pushOperations: ['enplan.element'] }),
    check: async () => ({ ok: true, latencyMs: 0 }),
    pull: unsupported,
    changes: unsupported,
    async push(operation: PushOperation, idempotencyKey: string): Promise<PushReceipt> {
      let response: Response;
      let text: string;
      try {
        response = await fetchImpl(`${baseUrl}/push`, {
          method: 'POST',
          headers: { 'content-type': 'application/json', 'idempotency-key': idempotencyKey },
          body: JSON.stringify({ operation: operation.operation, subject: subjectOf(operation.cpr), payload: operation.payload }),
          signal: AbortSignal.timeout(timeoutMs),
        });
        text = await response.text();
      } catch (error) {
        const timeout = error instanceof Error && error.name === 'TimeoutError';
        throw new AdapterError(timeout ? `${id} did not answer within ${timeoutMs} ms` : `${id} could not be reached`, false, timeout ? 'timeout' : 'network');
      }
      if (response.status === 429) throw new AdapterError(`${id} asked us to slow down`, false, 'http-429', Number(response.headers.get('retry-after') ?? 0));
      if (response.status >= 500) throw new AdapterError(`${id} answered HTTP ${response.status}`, false, `http-${response.status}`);
      if (response.status >= 400) {
        const reason = (() => {
          try {
            return String((JSON.parse(text) as { error?: unknown }).error ?? text);
          } catch {
            return text;
          }
        })();
        throw new AdapterError(`${id} refused the operation: ${reason.slice(0, 200)}`, true, `http-${response.status}`);
      }
      try {
        const receipt = JSON.parse(text) as PushReceipt;
        if (typeof receipt.targetId !== 'string') throw new Error('no targetId');
        return receipt;
      } catch {
        throw new AdapterError(`${id} replied with a malformed body`, false, 'malformed-response');
      }
    },
  };
}

const allOperations: OutboundOperation[] = ['goal.upsert', 'intervention.upsert', 'intervention.end', 'followup.upsert', 'agreement.upsert', 'coordinator.set', 'plan.status'];

/** Reverse mappings that send the outbound element as it is (for the generic test target); `heldAs` as a target's entry would say it. */
export function passThroughMappings(targets: readonly SourceSystem[], heldAs?: HeldAs): ReverseMappingRegistry {
  return reverseMappingRegistry(
    targets.map((target) => ({
      target,
      operations: allOperations,
      ...(heldAs ? { heldAs } : {}),
      mapping: {
        id: `test.${target}.pass-through`,
        version: '1.0.0',
        adapter: target,
        operation: 'enplan.element',
        map: (outbound: Outbound) => ({ ok: true as const, payload: { registrationId: outbound.registrationId, operation: outbound.operation, elementId: outbound.elementId, element: outbound.element } }),
      },
    })),
  );
}
