/**
 * How deep parsed JSON nests, asked without recursing further than the answer needs. JSON.parse
 * reads any depth, but zod's recursive Extension schema and JSON.stringify recurse once per level
 * and overflow the stack a few thousand levels down — so a record is measured before it is checked,
 * and a record too deep is quarantined instead of checked. The measure does not recurse at all (it
 * keeps a stack of its own); the quarantine text recurses at most `MAX_RECORD_DEPTH` levels.
 */

/**
 * Objects and arrays inside one another, the record itself counting as 1. The SOAP record reader
 * stops at the same depth; real FHIR records stay far below it (extensions nested 40 deep are 82).
 */
export const MAX_RECORD_DEPTH = 100;

/** True when `value` holds objects or arrays nested more than `limit` deep (a cycle counts as too deep). */
export function nestsDeeperThan(value: unknown, limit: number = MAX_RECORD_DEPTH): boolean {
  if (typeof value !== 'object' || value === null) return false;
  if (walking) return deeper({ nodes: [], depths: [] }, value, limit);
  walking = true;
  try {
    return deeper(shared, value, limit);
  } finally {
    walking = false;
  }
}

/** The nodes still to look at, with their depths (the record itself is at depth 1). */
interface Pending {
  nodes: object[];
  depths: number[];
}

/**
 * Runs on every record a FHIR adapter reads, so it walks with a stack of its own, reused from record
 * to record, instead of a call per nested object (calls were most of its time). A getter or proxy in
 * the value that asks again while a walk is under way gets a stack of its own (`walking`).
 */
const shared: Pending = { nodes: [], depths: [] };
const MAX_KEPT_STACK = 4096;
let walking = false;

function deeper(pending: Pending, root: object, limit: number): boolean {
  const { nodes, depths } = pending;
  nodes[0] = root;
  depths[0] = 1;
  let top = 1;
  let used = 1;
  try {
    while (top > 0) {
      top--;
      const node = nodes[top]!;
      const depth = depths[top]!;
      if (depth > limit) return true;
      const below = depth + 1;
      if (Array.isArray(node)) {
        for (let i = 0; i < node.length; i++) {
          const item: unknown = node[i];
          if (typeof item === 'object' && item !== null) {
            nodes[top] = item;
            depths[top++] = below;
          }
        }
        if (top > used) used = top;
      } else {
        // for…in without an own-property test: parsed JSON inherits no enumerable keys, and an inherited one would only cost a look.
        for (const key in node) {
          const item: unknown = (node as Record<string, unknown>)[key];
          if (typeof item === 'object' && item !== null) {
            nodes[top] = item;
            depths[top++] = below;
          }
        }
        if (top > used) used = top;
      }
    }
    return false;
  } finally {
    // Keep no record alive through the reused stack (a throwing getter may leave a few more slots
    // filled), and no huge stack after a huge record.
    if (nodes.length > MAX_KEPT_STACK) nodes.length = depths.length = 0;
    else nodes.fill(undefined as unknown as object, 0, Math.max(used, top));
  }
}

/** What stands in a kept payload where a value nested too deep was left out. */
export const NESTED_DEEPER_MARKER = '…(nested deeper)';

/**
 * The value as JSON text of at most `maxChars` characters, with whatever lies deeper than
 * `MAX_RECORD_DEPTH` replaced by a marker: safe for a quarantine's `raw` whatever the value's depth.
 */
export function boundedJson(value: unknown, maxChars: number): string {
  const text = JSON.stringify(nestsDeeperThan(value) ? cutBelow(value, MAX_RECORD_DEPTH) : value);
  // JSON.stringify gives undefined for undefined (and functions): keep the raw field a string.
  return (text ?? 'null').slice(0, maxChars);
}

function cutBelow(value: unknown, remaining: number): unknown {
  if (typeof value !== 'object' || value === null) return value;
  if (remaining === 0) return NESTED_DEEPER_MARKER;
  if (Array.isArray(value)) return value.map((item) => cutBelow(item, remaining - 1));
  // No prototype: an own "__proto__" key stays a key instead of setting the copy's prototype.
  const copy: Record<string, unknown> = Object.create(null);
  for (const key in value) if (Object.hasOwn(value, key)) copy[key] = cutBelow((value as Record<string, unknown>)[key], remaining - 1);
  return copy;
}
