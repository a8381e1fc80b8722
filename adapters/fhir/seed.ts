/**
 * Deterministic identity for seeded FHIR records: every record of the synthetic population is
 * addressed by (citizen ordinal, slot), and its id, version and lastUpdated follow from the seed.
 * That lets the simulator regenerate any seeded record on demand instead of holding all of them
 * (see the scale note in simulator.ts), and keeps fixtures and benchmarks reproducible.
 *
 * Ids are UUID-shaped with version nibble 8 (RFC 9562 "custom"): 80 hash bits, then 32 bits of
 * citizen ordinal and 16 bits of slot, so an id can be decoded without a lookup table and checked by
 * recomputing it. Ids never derive from the CPR number.
 */
import { seededRandom } from '../shared/population';

/** FNV-1a over the UTF-16 units of a string, mixed with a murmur finaliser. */
export function hash32(text: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) {
    h ^= text.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
}

const hex = (n: number, width: number) => (n >>> 0).toString(16).padStart(width, '0').slice(-width);

/** The id of seeded record `slot` of citizen `ordinal` in a sector's simulator. */
export function seedId(seed: number, sector: string, ordinal: number, slot: number): string {
  const a = hash32(`${seed}:${sector}:${ordinal}:${slot}:a`);
  const b = hash32(`${seed}:${sector}:${ordinal}:${slot}:b`);
  const c = hash32(`${seed}:${sector}:${ordinal}:${slot}:c`);
  // xxxxxxxx-xxxx-8xxx-[89ab]xxx-OOOOOOOOSSSS
  return `${hex(a, 8)}-${hex(b >>> 16, 4)}-8${hex(b, 3)}-${hex(8 | (c >>> 30), 1)}${hex(c, 3)}-${hex(ordinal, 8)}${hex(slot, 4)}`;
}

/** The (ordinal, slot) an id claims; the caller confirms by recomputing `seedId`. */
export function decodeSeedId(id: string): { ordinal: number; slot: number } | undefined {
  const m = /^[0-9a-f]{8}-[0-9a-f]{4}-8[0-9a-f]{3}-[89ab][0-9a-f]{3}-([0-9a-f]{8})([0-9a-f]{4})$/.exec(id);
  if (!m) return undefined;
  return { ordinal: parseInt(m[1]!, 16), slot: parseInt(m[2]!, 16) };
}

/** Seeded records were last updated some time in the year before the simulator's epoch. */
export const SEED_EPOCH_MS = Date.UTC(2026, 0, 1);
const SEED_SPAN_MS = 365 * 86_400_000;

/**
 * lastUpdated of a seeded record, in ms. A citizen's records were written in one sitting (a
 * caseworker updating plan, goals and team together): a random moment in the year before the epoch,
 * then 30–60 s per slot. Ties between citizens are possible, as on a real server.
 */
export function seedLastUpdatedMs(seed: number, sector: string, ordinal: number, slot: number): number {
  const base = hash32(`${seed}:${sector}:${ordinal}:t`) / 4294967296;
  const step = 30_000 + (hash32(`${seed}:${sector}:${ordinal}:step`) % 30_000);
  return SEED_EPOCH_MS - SEED_SPAN_MS + Math.floor(base * (SEED_SPAN_MS - 3_600_000)) + slot * step;
}

/** The random stream that shapes one citizen's records, independent of every other citizen. */
export function citizenRandom(seed: number, sector: string, ordinal: number): () => number {
  return seededRandom(hash32(`${seed}:${sector}:${ordinal}:records`));
}

/** A pick from a list with a seeded random stream. */
export function pick<T>(random: () => number, items: readonly T[]): T {
  return items[Math.floor(random() * items.length)]!;
}

/** An ISO date `days` before a timestamp (ms). */
export function daysBefore(ms: number, days: number): string {
  return new Date(ms - days * 86_400_000).toISOString().slice(0, 10);
}

/** An ISO date `days` after a timestamp (ms). */
export function daysAfter(ms: number, days: number): string {
  return new Date(ms + days * 86_400_000).toISOString().slice(0, 10);
}
