/**
 * F3, records: every SOAP and FHIR case of the bad-input corpus through the real read path — the
 * SOAP adapters' record reader or their pull over HTTP answers served from memory, the FHIR
 * adapters' pull (Patient search, search pages, record contract) — and then the mapping exactly
 * as the sync engine runs it. Each case must end as its manifest says, with a readable reason that
 * holds no CPR number, and nothing may throw.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { AdapterError, type QuarantinedRecord } from '../../adapters/adapter';
import { createDfdgAdapter, readDfdgRecordXml } from '../../adapters/dfdg';
import { createEducationAdapter, readEducationRecordXml } from '../../adapters/education/adapter';
import { createHealthAdapter, healthAdapterDefinition } from '../../adapters/health/adapter';
import { createSocialAdapter, socialAdapterDefinition } from '../../adapters/social/adapter';
import type { DecodedRecord } from '../../adapters/soap/records';
import { runMapping, type MappingResult } from '../../mappings/mapping';
import { allMappings } from '../../src/sync/all-mappings';
import { caseBytes, caseText, loadCorpus, pageWith, readableReasonProblems, serveFhirFromMemory, soapReplyFetch, type CorpusCase } from './support';

const context = { now: '2026-07-01T00:00:00Z', ruleVersion: 'rules-f3' };
const corpus = loadCorpus();

/** What became of a case, in the manifest's words. */
type Observed =
  | { outcome: 'refused' | 'quarantined' | 'reply-quarantined'; reason: string }
  | { outcome: 'mapping-failed'; ruleId: string; reason: string }
  | { outcome: 'mapped'; result: Extract<MappingResult, { ok: true }> }
  | { outcome: 'pull-failed'; code: string; reason: string };

/** The engine's own step after a read: the mapping with the adapter's check already done. */
function mapRecord(adapter: 'dfdg' | 'education' | 'social' | 'health', recordType: string, payload: unknown, checkedByAdapter: boolean): Observed {
  const mapping = allMappings.find(adapter, recordType);
  if (!mapping) throw new Error(`no mapping for ${adapter} ${recordType}`);
  const result = runMapping(mapping, payload, context, undefined, { checkedByAdapter });
  return result.ok ? { outcome: 'mapped', result } : { outcome: 'mapping-failed', ruleId: result.ruleId, reason: result.reason };
}

const SOAP = {
  'dfdg-soap': {
    adapter: 'dfdg' as const,
    read: readDfdgRecordXml,
    cpr: '0303951111',
    create: (fetch: typeof globalThis.fetch) => createDfdgAdapter({ baseUrl: 'http://dfdg.invalid/soap', organisation: { typeIdentifier: 'kommune', code: '101' }, fetch }),
  },
  'education-soap': {
    adapter: 'education' as const,
    read: readEducationRecordXml,
    cpr: '0809064321',
    create: (fetch: typeof globalThis.fetch) => createEducationAdapter({ baseUrl: 'http://education.invalid/soap', municipalityCode: '101', fetch }),
  },
};

function fromDecoded(group: keyof typeof SOAP, decoded: DecodedRecord, expectedType: string | undefined): Observed {
  if (!decoded.ok) {
    const { reason } = decoded.quarantined;
    return { outcome: reason.startsWith('the record XML was refused') ? 'refused' : 'quarantined', reason };
  }
  if (expectedType) expect(decoded.record.recordType).toBe(expectedType);
  return mapRecord(SOAP[group].adapter, decoded.record.recordType, decoded.record.payload, true);
}

async function observeSoap(entry: CorpusCase): Promise<Observed> {
  const group = entry.group as keyof typeof SOAP;
  if (entry.form === 'record-document') return fromDecoded(group, SOAP[group].read(caseText(entry)), entry.recordType);
  const adapter = SOAP[group].create(soapReplyFetch(() => caseBytes(entry)));
  try {
    const pulled = await adapter.pull({ citizenId: 'f3-citizen', cpr: SOAP[group].cpr });
    const reply = pulled.quarantined.find((q) => q.recordType === 'reply');
    if (reply) return { outcome: 'reply-quarantined', reason: reply.reason };
    if (pulled.quarantined.length > 0) return { outcome: 'quarantined', reason: pulled.quarantined[0]!.reason };
    expect(pulled.records).toHaveLength(1);
    const record = pulled.records[0]!;
    return mapRecord(SOAP[group].adapter, record.recordType, record.payload, true);
  } catch (error) {
    if (!(error instanceof AdapterError)) throw error;
    return { outcome: 'pull-failed', code: error.code, reason: error.message };
  }
}

const FHIR = {
  'social-fhir': { adapter: 'social' as const, definition: socialAdapterDefinition, create: () => createSocialAdapter({ baseUrl: 'http://social.invalid/fhir', timeoutMs: 5_000 }) },
  'health-fhir': { adapter: 'health' as const, definition: healthAdapterDefinition, create: () => createHealthAdapter({ baseUrl: 'http://health.invalid/fhir', timeoutMs: 5_000 }) },
};
const FHIR_CPR = '0101801234';

let restoreFetch: (() => void) | undefined;
afterEach(() => {
  restoreFetch?.();
  restoreFetch = undefined;
});

async function observeFhir(entry: CorpusCase): Promise<Observed> {
  const sector = FHIR[entry.group as keyof typeof FHIR];
  const recordType = sector.definition.recordTypes.find((rt) => rt.type === entry.recordType);
  // Record types no search serves (Patient, KL Gateway delivery reports) reach only the mapping.
  if (!recordType) return mapRecord(sector.adapter, entry.recordType!, JSON.parse(caseText(entry)), false);
  const page = entry.form === 'page' ? caseBytes(entry) : pageWith(JSON.parse(caseText(entry)), recordType.patientParam);
  restoreFetch = serveFhirFromMemory({ cpr: FHIR_CPR, recordType: () => recordType.type, page: () => page });
  let pulled;
  try {
    pulled = await sector.create().pull({ citizenId: 'f3-citizen', cpr: FHIR_CPR });
  } catch (error) {
    if (!(error instanceof AdapterError)) throw error;
    return { outcome: 'pull-failed', code: error.code, reason: error.message };
  }
  const quarantined: QuarantinedRecord | undefined = pulled.quarantined[0];
  if (quarantined) return { outcome: quarantined.recordId === null && entry.form === 'page' ? 'refused' : 'quarantined', reason: quarantined.reason };
  expect(pulled.records).toHaveLength(1);
  const record = pulled.records[0]!;
  return mapRecord(sector.adapter, record.recordType, record.payload, true);
}

function expectAsManifest(entry: CorpusCase, observed: Observed): void {
  const want = entry.expect;
  const seen = observed.outcome === 'mapped' ? (observed.result.unknownCodes.length > 0 ? 'flagged' : 'accepted') : observed.outcome;
  expect(seen, `${entry.id}: ${'reason' in observed ? observed.reason : ''}`).toBe(want.outcome);
  if ('reason' in observed) {
    expect(readableReasonProblems(observed.reason), entry.id).toEqual([]);
    if ('reason' in want) expect(observed.reason).toMatch(new RegExp(want.reason, 'i'));
  }
  if (want.outcome === 'mapping-failed' && want.ruleId && observed.outcome === 'mapping-failed') expect(observed.ruleId).toBe(want.ruleId);
  if (want.outcome === 'pull-failed' && observed.outcome === 'pull-failed') expect(observed.code).toBe(want.code);
  if (want.outcome === 'flagged' && observed.outcome === 'mapped') expect(observed.result.unknownCodes.map((c) => c.code)).toContain(want.code);
  if (observed.outcome === 'mapped') {
    // Whatever is mapped must not carry what an attacker tried to pull in.
    expect(JSON.stringify(observed.result.fragments)).not.toMatch(/root:x:0:0|&lol|lollol/);
  }
}

const soapCases = corpus.filter((c) => c.group === 'dfdg-soap' || c.group === 'education-soap');
const fhirCases = corpus.filter((c) => c.group === 'social-fhir' || c.group === 'health-fhir');

describe('F3 corpus: SOAP records and replies (DFDG, Ungedatabasen)', () => {
  it.each(soapCases.map((c) => [c.id, c] as const))('%s', async (_id, entry) => {
    expectAsManifest(entry, await observeSoap(entry));
  });
});

describe('F3 corpus: FHIR records and pages (social, health)', () => {
  it.each(fhirCases.map((c) => [c.id, c] as const))('%s', async (_id, entry) => {
    expectAsManifest(entry, await observeFhir(entry));
  });
});

describe('F3 corpus: the manifest', () => {
  it('holds at least 200 cases, every file exists, and every class reaches a real sync at least once', () => {
    expect(corpus.length).toBeGreaterThanOrEqual(200);
    for (const entry of corpus) expect(caseBytes(entry).byteLength, entry.id).toBeGreaterThanOrEqual(0);
    const classes = new Set(corpus.map((c) => c.class));
    const synced = new Set(corpus.filter((c) => c.e2e).map((c) => c.class));
    // Nesting and missing fields are checked by the reader and contract alone (this file and the API suite).
    const readerOnly = new Set(['deep-nesting', 'missing-field']);
    expect([...classes].filter((c) => !synced.has(c) && !readerOnly.has(c))).toEqual([]);
  });

  it('names cases without CPR numbers', () => {
    for (const entry of corpus) expect(readableReasonProblems(`${entry.id} ${entry.description}`).filter((p) => p.includes('CPR'))).toEqual([]);
  });
});

