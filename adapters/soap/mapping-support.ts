/**
 * What the DFDG and Ungedatabasen mappings share: collecting the notes of one mapping run (codes it
 * did not know, source fields no rule reads), turning candidate fragments into checked `Fragment`s,
 * and reading our own element ids back for the push side.
 */
import type { z } from 'zod';
import { Fragment } from '../../src/model/fragment';
import type { MappingNotes, MappingResult } from '../../mappings/mapping';
import { redactCpr } from './faults';
import { describeIssues } from './records';
import { fieldPaths } from './xml';

/** The text shown for a code the code list does not hold (the code itself is kept). */
export const UNKNOWN_CODE_DISPLAY = 'ukendt kode';

export class MappingRun {
  readonly notes: MappingNotes = { unknownCodes: [], ignoredFields: [] };

  /** Noted for IT staff's statistics; a code shaped like a CPR number is masked there (the fragment keeps it). */
  unknownCode(system: string, code: string): void {
    const shown = redactCpr(code);
    if (!this.notes.unknownCodes.some((c) => c.system === system && c.code === shown)) this.notes.unknownCodes.push({ system, code: shown });
  }

  /** Report every leaf of `record` whose path is not in `consumed`, e.g. `JobGoal[].OccupationCode`. */
  ignoreUnread(record: unknown, consumed: ReadonlySet<string>): void {
    const unread = unreadLeafPaths(record, consumed);
    if (unread) for (const path of unread) this.notes.ignoredFields.push(path);
    if (this.notes.ignoredFields.length > 1) this.notes.ignoredFields.sort();
  }

  /** A reason may quote the offending code, and a source can put a CPR number in a code field: masked. */
  fail(ruleId: string, reason: string): MappingResult {
    return { ok: false, ruleId, reason: redactCpr(reason), unknownCodes: this.notes.unknownCodes, ignoredFields: this.notes.ignoredFields };
  }

  /** Check every candidate against the model; a candidate the model refuses fails the record. */
  finish(candidates: readonly unknown[]): MappingResult {
    const fragments: Fragment[] = [];
    for (const candidate of candidates) {
      const parsed = Fragment.safeParse(candidate);
      if (!parsed.success) {
        const issue = parsed.error.issues[0];
        const elementId = (candidate as { elementId?: unknown }).elementId;
        return this.fail('fragment', `${typeof elementId === 'string' ? elementId : 'fragment'}: ${issue?.path.join('.') || 'content'}: ${issue?.message ?? 'not a valid model fragment'}`);
      }
      fragments.push(parsed.data);
    }
    return { ok: true, fragments, unknownCodes: this.notes.unknownCodes, ignoredFields: this.notes.ignoredFields };
  }
}

/**
 * The consumed paths as a tree of field names, built once per `consumed` set. Every node knows its
 * dotted path — exactly the string `fieldPaths` builds for that position — so walking a record
 * along the tree needs no string building; `items` is the node for the elements of an array.
 */
interface PathNode {
  readonly path: string;
  readonly fields: Map<string, PathNode>;
  items?: PathNode;
}

const pathTrees = new WeakMap<ReadonlySet<string>, PathNode>();

function pathTree(consumed: ReadonlySet<string>): PathNode {
  const cached = pathTrees.get(consumed);
  if (cached) return cached;
  const node = (path: string): PathNode => ({ path, fields: new Map() });
  const root = node('');
  for (const path of consumed) {
    let at = root;
    for (const part of path.split('.')) {
      let name = part;
      let arrays = 0;
      while (name.endsWith('[]')) {
        name = name.slice(0, -2);
        arrays++;
      }
      if (name) {
        let field = at.fields.get(name);
        if (!field) at.fields.set(name, (field = node(at.path ? `${at.path}.${name}` : name)));
        at = field;
      }
      for (let i = 0; i < arrays; i++) at = at.items ??= node(`${at.path}[]`);
    }
  }
  pathTrees.set(consumed, root);
  return root;
}

/**
 * The leaf paths of `record` that are not in `consumed`, or undefined when there are none — the
 * same set as `[...fieldPaths(record)].filter((p) => !consumed.has(p))`. It walks the record along
 * the tree of consumed names, so a record with only known fields (nearly every record) builds no
 * path string at all. Every leaf is still tested with `consumed.has` on the path `fieldPaths` would
 * give it, and below a name the tree does not know it runs `fieldPaths` itself, so the tree only
 * decides how fast the answer comes, never what it is.
 */
export function unreadLeafPaths(record: unknown, consumed: ReadonlySet<string>): Set<string> | undefined {
  const walk: UnreadWalk = { consumed, unread: undefined };
  walkUnread(walk, record, pathTree(consumed));
  return walk.unread;
}

interface UnreadWalk {
  readonly consumed: ReadonlySet<string>;
  unread: Set<string> | undefined;
}

// Module-level functions, not closures per call: this runs for every record a SOAP mapping maps.
function walkUnread(walk: UnreadWalk, value: unknown, node: PathNode): void {
  if (value === undefined || value === null) return;
  if (Array.isArray(value)) {
    const items = node.items;
    if (items) for (const item of value) walkUnread(walk, item, items);
    else for (const item of value) unreadBelow(walk, item, `${node.path}[]`);
  } else if (typeof value === 'object') {
    for (const name of Object.keys(value)) {
      const field = node.fields.get(name);
      const child = (value as Record<string, unknown>)[name];
      if (field) walkUnread(walk, child, field);
      else unreadBelow(walk, child, node.path ? `${node.path}.${name}` : name);
    }
  } else if (node.path && !walk.consumed.has(node.path)) (walk.unread ??= new Set()).add(node.path);
}

/** Below a name the tree does not know: `fieldPaths` and the `consumed` test, as before. */
function unreadBelow(walk: UnreadWalk, value: unknown, prefix: string): void {
  for (const path of fieldPaths(value, prefix)) if (!walk.consumed.has(path)) (walk.unread ??= new Set()).add(path);
}

/** The source id inside one of our element ids, e.g. `dfdg:activity:<guid>` → `<guid>`. */
export function sourceIdOf(elementId: string | undefined, prefix: string): string | undefined {
  if (!elementId?.startsWith(prefix)) return undefined;
  const id = elementId.slice(prefix.length);
  return /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/.test(id) ? id : undefined;
}

/** A reverse mapping's payload, checked against the target's push contract before it is queued. */
export function checkedPayload<T>(schema: z.ZodType, payload: T, serviceName: string): { ok: true; payload: T } | { ok: false; reason: string } {
  const parsed = schema.safeParse(payload);
  return parsed.success ? { ok: true, payload } : { ok: false, reason: `${serviceName} would refuse it: ${describeIssues(parsed.error)}` };
}
