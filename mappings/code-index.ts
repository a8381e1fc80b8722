/**
 * Code-list entries by code system and code, for the look-ups the FHIR mappings make on every
 * record. A record's system and code are fresh strings (JSON.parse keeps long values as new,
 * unhashed strings), which a `Map` hashes in full and then compares; here the system is compared
 * with `===` against the few systems the index holds, and the code is reduced to a number from
 * every third character and its length, then compared in full — so an entry is found exactly when
 * a `Map` of `system → code → entry` would find it, at about half the cost.
 */

interface Slot<Entry> {
  readonly code: string;
  entry: Entry;
  next: Slot<Entry> | undefined;
}

/** A number from the length and every third character of the code (a small integer: no heap number). */
function codeKey(code: string): number {
  const length = code.length;
  let key = length;
  for (let i = 0; i < length; i += 3) key = (Math.imul(key, 31) + code.charCodeAt(i)) & 0x3fffffff;
  return key;
}

export class CodeIndex<Entry> {
  private readonly systems: string[] = [];
  private readonly tables: Map<number, Slot<Entry>>[] = [];

  /** Entries added in order; a later entry with the same system and code replaces the earlier one (as `Map.set`). */
  constructor(entries: Iterable<readonly [system: string, code: string, entry: Entry]> = []) {
    for (const [system, code, entry] of entries) this.set(system, code, entry);
  }

  set(system: string, code: string, entry: Entry): void {
    let at = this.systems.indexOf(system);
    if (at < 0) {
      at = this.systems.push(system) - 1;
      this.tables.push(new Map());
    }
    const table = this.tables[at]!;
    const key = codeKey(code);
    for (let slot = table.get(key); slot; slot = slot.next)
      if (slot.code === code) {
        slot.entry = entry;
        return;
      }
    table.set(key, { code, entry, next: table.get(key) });
  }

  /** The entry of `code` in `system`, or undefined (also for anything that is not a string). */
  get(system: unknown, code: unknown): Entry | undefined {
    if (typeof system !== 'string' || typeof code !== 'string') return undefined;
    const systems = this.systems;
    for (let s = 0; s < systems.length; s++) {
      if (systems[s] !== system) continue;
      for (let slot = this.tables[s]!.get(codeKey(code)); slot; slot = slot.next) if (slot.code === code) return slot.entry;
      return undefined;
    }
    return undefined;
  }

  /** Whether the index holds any code of `system`. */
  hasSystem(system: unknown): boolean {
    return typeof system === 'string' && this.systems.includes(system);
  }
}
