/**
 * Whether a quarantined payload may be only part of what the source sent. IT staff are told so
 * (`mayBeCut`), and a payload that may be cut may hide a reference to anonymous treatment (SEL § 101 a),
 * so a look at it is never told to a custody holder. The SOAP adapters keep 2,000 characters of a record
 * that fails its contract and the FHIR adapters leave out what nests too deep; only the engine's own
 * 4,000 was counted before, so a cut DFDG payload passed as whole.
 */
import { describe, expect, it } from 'vitest';
import { boundedJson, MAX_RECORD_DEPTH } from '../../adapters/fhir/nesting';
import { rawXml, SOAP_RECORD_RAW_LIMIT } from '../../adapters/soap/records';
import { RAW_LIMIT } from '../../src/sync/engine';
import { mayConcernAnonymousTreatment, mayHaveBeenCut } from '../../src/sync/quarantine';

const longRecord = { RecordIdentifier: 'a1', Beskrivelse: 'Praktik i butik. '.repeat(400) };
const deep = (depth: number): unknown => (depth === 0 ? 'bund' : { inde: deep(depth - 1) });

describe('a quarantined payload that may be cut', () => {
  it('a SOAP record kept at its adapter’s limit may be cut, and a look at it is not told to the family', () => {
    const kept = rawXml('Aktivitet', longRecord);
    expect(kept.length).toBe(SOAP_RECORD_RAW_LIMIT);
    expect(kept.length).toBeLessThan(RAW_LIMIT);
    expect(mayHaveBeenCut(kept)).toBe(true);
    expect(mayConcernAnonymousTreatment(kept)).toBe(true);
  });

  it('a FHIR resource with what nests too deep left out may be cut, however short', () => {
    const kept = boundedJson({ resourceType: 'CarePlan', note: deep(MAX_RECORD_DEPTH + 5) }, RAW_LIMIT);
    expect(kept.length).toBeLessThan(SOAP_RECORD_RAW_LIMIT);
    expect(mayHaveBeenCut(kept)).toBe(true);
    expect(mayConcernAnonymousTreatment(kept)).toBe(true);
  });

  it('a whole payload is not, and a look at it is told unless it names § 101 a', () => {
    const kept = rawXml('Aktivitet', { RecordIdentifier: 'a2', Beskrivelse: 'Praktik i butik' });
    expect(mayHaveBeenCut(kept)).toBe(false);
    expect(mayConcernAnonymousTreatment(kept)).toBe(false);
    expect(mayConcernAnonymousTreatment(boundedJson({ resourceType: 'CarePlan', extension: [{ valueString: 'SEL § 101 a' }] }, RAW_LIMIT))).toBe(true);
  });
});
