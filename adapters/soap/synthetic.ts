/**
 * Seeded helpers for the simulators' synthetic records: a random source per record and GUIDs
 * drawn from it, so every generated record is the same for the same seed.
 */
import { seededRandom } from '../shared/population';

/** A seeded random source per (seed, citizen, record kind, ordinal). */
export function recordRandom(seed: number, citizen: number, salt: number, ordinal: number): () => number {
  let h = Math.imul(seed ^ 0x9e3779b9, 0x85ebca6b) ^ Math.imul(citizen + 1, 0xc2b2ae35) ^ Math.imul(salt * 131 + ordinal + 1, 0x27d4eb2f);
  h ^= h >>> 15;
  return seededRandom(h >>> 0);
}

/** A GUID shaped like a random (version 4) UUID, drawn from a seeded source. */
export function guidFrom(random: () => number): string {
  const word = () => Math.floor(random() * 0x1_0000_0000).toString(16).padStart(8, '0');
  const [a, b, c, d] = [word(), word(), word(), word()];
  const variant = ((Number.parseInt(c[0]!, 16) & 0x3) | 0x8).toString(16);
  // Joined rather than concatenated: a flat string, not a tree of slices (50,000 citizens' worth of ids).
  return [a, b.slice(0, 4), `4${b.slice(5, 8)}`, `${variant}${c.slice(1, 4)}`, `${c.slice(4)}${d}`].join('-');
}

/** A seeded random source from a text (FNV-1a), e.g. to derive a version id from a transaction id. */
export function textRandom(text: string): () => number {
  let h = 2166136261;
  for (let i = 0; i < text.length; i++) h = Math.imul(h ^ text.charCodeAt(i), 16777619);
  return seededRandom(h >>> 0);
}
