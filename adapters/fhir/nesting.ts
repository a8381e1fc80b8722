/**
 * How deep parsed JSON nests, asked without recursing further than the answer needs. JSON.parse
 * reads any depth, but zod's recursive Extension schema and JSON.stringify recurse once per level
 * and overflow the stack a few thousand levels down — so a record is measured before it is checked,
 * and a record too deep is quarantined instead of checked. The measure and the quarantine text
 * recurse at most `MAX_RECORD_DEPTH` levels themselves.
 */

/**
 * Objects and arrays inside one another, the record itself counting as 1. The SOAP record reader
 * stops at the same depth; real FHIR records stay far below it (extensions nested 40 deep are 82).
 */
export const MAX_RECORD_DEPTH = 100;

/** True when `value` holds objects or arrays nested more than `limit` deep (a cycle counts as too deep). */
export function nestsDeeperThan(value: unknown, limit: number = MAX_RECORD_DEPTH): boolean {
  return typeof value === 'object' && value !== null && deeper(value, limit);
}

/** Runs on every record a FHIR adapter reads, so it tests children inline instead of calling itself for every leaf. */
function deeper(node: object, levels: number): boolean {
  if (levels === 0) return true;
  if (Array.isArray(node)) {
    for (let i = 0; i < node.length; i++) {
      const item: unknown = node[i];
      if (typeof item === 'object' && item !== null && deeper(item, levels - 1)) return true;
    }
    return false;
  }
  // for…in without an own-property test: parsed JSON inherits no enumerable keys, and an inherited one would only cost a look.
  for (const key in node) {
    const item: unknown = (node as Record<string, unknown>)[key];
    if (typeof item === 'object' && item !== null && deeper(item, levels - 1)) return true;
  }
  return false;
}

const CUT = '…(nested deeper)';

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
  if (remaining === 0) return CUT;
  if (Array.isArray(value)) return value.map((item) => cutBelow(item, remaining - 1));
  // No prototype: an own "__proto__" key stays a key instead of setting the copy's prototype.
  const copy: Record<string, unknown> = Object.create(null);
  for (const key in value) if (Object.hasOwn(value, key)) copy[key] = cutBelow((value as Record<string, unknown>)[key], remaining - 1);
  return copy;
}
