/**
 * Which reverse mapping (model → native, `mappings/<adapter>/`) turns an outbound element into a
 * target's push operation. The registry is keyed by target and model-side operation
 * (`intervention.upsert` …); an entry may adapt the `Outbound` into the mapping's own input.
 * A missing entry is a configuration gap: the row becomes a dead letter saying so, and IT staff
 * retry it once the mapping is deployed.
 */
import type { PushReceipt } from '../../adapters/adapter';
import type { ReverseMapping } from '../../mappings/mapping';
import type { SourceSystem } from '../model';
import type { Outbound, OutboundOperation } from '../registrations/apply';
import type { HeldElement } from '../store/held-elements';

/**
 * What the target's records read back as once this delivery succeeded, and which of our elements each
 * holds (from the receipt, or the id the mapping sent): the relay records it with the delivery, and
 * the next pull maps those records onto our elements (decision 0005, "Later (2026-11-24)").
 */
export type HeldAs = (outbound: Outbound, receipt: PushReceipt) => HeldElement[];

export interface ReverseRoute {
  mapping: ReverseMapping<never, unknown>;
  /** Makes the mapping's input from the outbound element; by default the `Outbound` itself. */
  toInput?: (outbound: Outbound) => unknown;
  /**
   * `receipt`: the target names what it holds itself (FHIR server ids). A later change of the same
   * element is sent as an update of the resource the earlier delivery created — its id from that
   * delivery's receipt, and the version seen then as `expectedVersion` (If-Match).
   */
  addressBy?: 'receipt';
  /**
   * With `addressBy: 'receipt'`: when this answers a reason, the outbound can only change what an
   * earlier delivery of the element made there (ending or cancelling it; a record the target made
   * itself, decision 0005). Without one there is
   * nothing at the target to change: the router reports the target as not routed with this reason,
   * and the relay cancels (never creates) a row whose earlier delivery gave no receipt.
   */
  updatesOnly?: (outbound: Outbound) => string | undefined;
  /**
   * With `addressBy: 'receipt'`: the target's own record the element was read from. A change of it is
   * written into that record field by field (read, then a JSON Patch under If-Match of the version
   * read), our content placed among theirs (decision 0005, session 19).
   */
  theirOwnRecord?: TheirOwnRecord;
  heldAs?: HeldAs;
}

export interface TheirOwnRecord {
  /** The target's id of its own record the element was read from; none for an element of ours or another source's. */
  idOf(outbound: Outbound): string | undefined;
  /**
   * `payload`, which the route's mapping made of `outbound`'s element, re-expressed against their
   * record as held now (`PushOperation.theirRecord`); throws where it has no place there.
   */
  place(outbound: Outbound, payload: object, record: object): object;
  /**
   * What the route's mapping makes of the element as our pull reads `read` (their record as the plan
   * read it), placed against `record` (as held now): the base of a write with no earlier payload.
   */
  asRead(outbound: Outbound, read: object, record: object): object | undefined;
}

export interface ReverseMappingRegistry {
  find(target: SourceSystem, operation: OutboundOperation): ReverseRoute | undefined;
  /** What is registered, for IT staff and tests. */
  entries(): { target: SourceSystem; operation: OutboundOperation; mappingId: string; mappingVersion: string; pushOperation: string }[];
}

export interface ReverseEntry<I = never> {
  target: SourceSystem;
  operations: readonly OutboundOperation[];
  mapping: ReverseMapping<I, unknown>;
  toInput?: (outbound: Outbound) => I;
  addressBy?: 'receipt';
  updatesOnly?: (outbound: Outbound) => string | undefined;
  theirOwnRecord?: TheirOwnRecord;
  heldAs?: HeldAs;
}

export function reverseMappingRegistry(entries: readonly ReverseEntry<any>[]): ReverseMappingRegistry {
  const table = new Map<string, ReverseRoute>();
  const listed: ReturnType<ReverseMappingRegistry['entries']> = [];
  for (const entry of entries) {
    for (const operation of entry.operations) {
      const key = `${entry.target}|${operation}`;
      if (table.has(key)) throw new Error(`two reverse mappings for ${operation} to ${entry.target}`);
      table.set(key, {
        mapping: entry.mapping as ReverseMapping<never, unknown>,
        toInput: entry.toInput,
        addressBy: entry.addressBy,
        ...(entry.updatesOnly ? { updatesOnly: entry.updatesOnly } : {}),
        ...(entry.theirOwnRecord ? { theirOwnRecord: entry.theirOwnRecord } : {}),
        ...(entry.heldAs ? { heldAs: entry.heldAs } : {}),
      });
      listed.push({ target: entry.target, operation, mappingId: entry.mapping.id, mappingVersion: entry.mapping.version, pushOperation: entry.mapping.operation });
    }
  }
  return {
    find: (target, operation) => table.get(`${target}|${operation}`),
    entries: () => listed.map((e) => ({ ...e })),
  };
}

/** Runs a route's mapping on an outbound element; never throws. */
export function runReverse(route: ReverseRoute, outbound: Outbound): { ok: true; payload: unknown } | { ok: false; reason: string } {
  try {
    const input = route.toInput ? route.toInput(outbound) : outbound;
    return (route.mapping as ReverseMapping<unknown, unknown>).map(input);
  } catch (error) {
    return { ok: false, reason: error instanceof Error ? error.message : String(error) };
  }
}
