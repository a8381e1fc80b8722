/**
 * Identifiers and cursors the SOAP adapters share.
 *
 * - `deterministicUuid`: a name-based UUID (version 5, RFC 9562 §5.5: SHA-1 of namespace + name)
 *   through WebCrypto, so the same idempotency key always yields the same ActivityIdentifier or
 *   transaction id and a replayed push is a no-op at the target.
 * - Change-feed cursors: opaque to callers, they encode the position (the source's updated
 *   timestamp) and a tie-breaker (the record id), because many records share one timestamp.
 */
import { createHash } from 'node:crypto';
import { z } from 'zod';
import { AdapterError } from '../adapter';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
export const isUuid = (value: string): boolean => UUID.test(value);

function uuidBytes(uuid: string): Uint8Array {
  const hex = uuid.replace(/-/g, '');
  const bytes = new Uint8Array(16);
  for (let i = 0; i < 16; i++) bytes[i] = Number.parseInt(hex.slice(i * 2, i * 2 + 2), 16);
  return bytes;
}

function formatUuid(bytes: Uint8Array): string {
  let hex = '';
  for (let i = 0; i < 16; i++) hex += bytes[i]!.toString(16).padStart(2, '0');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}

const utf8 = new TextEncoder();

/** What a version 5 UUID hashes: the namespace's bytes, then the name's. */
function nameBasedInput(namespace: string, name: string): Uint8Array {
  if (!isUuid(namespace)) throw new Error('the namespace of a name-based UUID must itself be a UUID');
  const nameBytes = utf8.encode(name);
  const input = new Uint8Array(16 + nameBytes.byteLength);
  input.set(uuidBytes(namespace), 0);
  input.set(nameBytes, 16);
  return input;
}

function versionFive(digest: Uint8Array): string {
  const bytes = digest.slice(0, 16);
  bytes[6] = (bytes[6]! & 0x0f) | 0x50; // version 5
  bytes[8] = (bytes[8]! & 0x3f) | 0x80; // RFC variant
  return formatUuid(bytes);
}

/** UUID version 5 of `name` in the `namespace` UUID. */
export async function deterministicUuid(namespace: string, name: string): Promise<string> {
  return versionFive(new Uint8Array(await crypto.subtle.digest('SHA-1', nameBasedInput(namespace, name))));
}

/**
 * The same UUID, hashed at once (node:crypto: Node, and Workers with nodejs_compat), for code that
 * cannot wait for WebCrypto: a reverse mapping's input is made synchronously.
 */
export function deterministicUuidNow(namespace: string, name: string): string {
  return versionFive(new Uint8Array(createHash('sha1').update(nameBasedInput(namespace, name)).digest()));
}

/** A position in a change feed: records after (updatedAt, recordId) in that order. */
export interface FeedPosition {
  /** Milliseconds since the epoch of the source's updated timestamp. */
  updatedAtMs: number;
  recordId: string;
}

const CursorPayload = z.object({ v: z.literal(1), t: z.number().int().nonnegative(), k: z.string().min(1).max(200) });
const CURSOR_PREFIX = 'c1.';

function toBase64Url(text: string): string {
  let binary = '';
  for (const byte of utf8.encode(text)) binary += String.fromCharCode(byte);
  return btoa(binary).replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '');
}

function fromBase64Url(text: string): string {
  const binary = atob(text.replace(/-/g, '+').replace(/_/g, '/'));
  return new TextDecoder('utf-8', { fatal: true, ignoreBOM: false }).decode(Uint8Array.from(binary, (c) => c.charCodeAt(0)));
}

export function encodeCursor(position: FeedPosition): string {
  return CURSOR_PREFIX + toBase64Url(JSON.stringify({ v: 1, t: position.updatedAtMs, k: position.recordId }));
}

/** The position in a cursor; null for none. A cursor we did not make is a permanent error. */
export function decodeCursor(cursor: string | null | undefined): FeedPosition | null {
  if (cursor === null || cursor === undefined || cursor === '') return null;
  const invalid = () => new AdapterError('the change-feed cursor is not one this adapter issued', true, 'invalid-cursor');
  if (!cursor.startsWith(CURSOR_PREFIX) || cursor.length > 400) throw invalid();
  let payload: unknown;
  try {
    payload = JSON.parse(fromBase64Url(cursor.slice(CURSOR_PREFIX.length)));
  } catch {
    throw invalid();
  }
  const parsed = CursorPayload.safeParse(payload);
  if (!parsed.success) throw invalid();
  return { updatedAtMs: parsed.data.t, recordId: parsed.data.k };
}

/** Order of feed positions: by timestamp, then by record id. */
export function comparePositions(a: FeedPosition, b: FeedPosition): number {
  if (a.updatedAtMs !== b.updatedAtMs) return a.updatedAtMs < b.updatedAtMs ? -1 : 1;
  return a.recordId < b.recordId ? -1 : a.recordId > b.recordId ? 1 : 0;
}
