/**
 * Resource ids for the FHIR export. An Én plan element id (`dfdg:activity:<uuid>`, up to 128
 * characters) is no valid FHIR id (`[A-Za-z0-9\-\.]{1,64}`), and element ids of different plans may
 * coincide. Each resource therefore gets a name-based UUID (version 5, RFC 9562 §5.5) of the plan id,
 * the kind of resource and the element id: valid, the same on every export, different per plan. The
 * element id itself stays in `identifier` (system `urn:enplan:element`).
 *
 * node:crypto (Node, and Workers with nodejs_compat) hashes synchronously, so the export stays a
 * plain function.
 */
import { createHash } from 'node:crypto';

/** The namespace of every id this export derives (a fixed, random UUID). */
const NAMESPACE = '6f1d0c52-6a3e-4b8e-9d57-3c1f0e2a9b74';
const namespaceBytes = Uint8Array.from(NAMESPACE.replace(/-/g, '').match(/../g)!, (pair) => Number.parseInt(pair, 16));

export const FHIR_ID = /^[A-Za-z0-9\-.]{1,64}$/;

/** A deterministic FHIR id (a UUID) for `parts`, e.g. (plan id, 'goal', element id). */
export function fhirId(...parts: string[]): string {
  const digest = createHash('sha1')
    .update(namespaceBytes)
    // Length-prefixed, so no two lists of parts give the same name.
    .update(parts.map((part) => `${part.length}:${part}`).join('|'))
    .digest('hex');
  // Version 5 in the 13th hex digit, the RFC variant (8–b) in the 17th.
  const variant = ((Number.parseInt(digest[16]!, 16) & 0x3) | 0x8).toString(16);
  const hex = `${digest.slice(0, 12)}5${digest.slice(13, 16)}${variant}${digest.slice(17, 32)}`;
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}
