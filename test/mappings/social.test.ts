/**
 * The social mappings: every golden fixture (including KL's real delivery report and the
 * kl-ffb-reporting examples) deep-compared with its expected result, the FSIII codes of the real
 * report mapped with KL's display texts and legal bases, the code lists and their origin, the
 * reverse mappings validated as FHIR R4, and property tests that no mapping ever throws.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import fc from 'fast-check';
import { beforeAll, describe, expect, it } from 'vitest';
import type { Resource } from '@medplum/fhirtypes';
import { fhirValidationErrors, loadProfiles } from '../../adapters/fhir/definitions';
import { Condition } from '../../adapters/fhir/contract';
import { CARE_SOCIAL_SYSTEM, CONDITION_CLINICAL_SYSTEM, ENPLAN_ELEMENT_SYSTEM, CONDITION_VERIFICATION_SYSTEM, FFB_SYSTEM, FSIII_SYSTEM, LEGAL_BASIS_EXTENSION } from '../../adapters/fhir/systems';
import { generatePopulation } from '../../adapters/shared/population';
import { generateSocialRecords } from '../../adapters/social/records';
import { Fragment, type Goal, type Intervention } from '../../src/model';
import { legalBasisFromDisplay } from '../../mappings/build-code-lists';
import { emptyStats, runMapping, type Mapping } from '../../mappings/mapping';
import {
  lookupCode,
  socialCarePlanMapping,
  socialCodeListRefs,
  socialConditionMapping,
  socialDeliveryReportMapping,
  socialGoalMapping,
  socialGoalReverse,
  socialInterventionReverse,
  socialMappings,
  socialMappingsByRecordType,
  socialReverseMappings,
  socialServiceRequestReverse,
} from '../../mappings/social';
import { careSocialCodes, ffb, fsiii } from '../../mappings/social/codes';
import { jsonGoldenSuite } from '../support/golden';

const context = { now: '2026-01-01T00:00:00+01:00', ruleVersion: 'rules-2026.11' };
const fixtures = join(import.meta.dirname, '..', 'fixtures', 'social');
const readJson = (path: string) => JSON.parse(readFileSync(path, 'utf8'));

describe('social golden fixtures', () => {
  const goldenCases = jsonGoldenSuite({ sector: 'social', fixtures, mappings: socialMappings, context });

  it.each(goldenCases)('$folder/$name yields fragments that are valid model fragments', ({ folder, input }) => {
    const mapping = socialMappings.find((m) => m.id === `social.${folder}`)!;
    const result = runMapping(mapping, readJson(input), context);
    if (result.ok) for (const fragment of result.fragments) expect(Fragment.safeParse(fragment).success).toBe(true);
  });
});

describe('the real KL Gateway delivery report', () => {
  const report = readJson(join(fixtures, 'delivery-report', 'derived-klgateway-DeliveryReport-JensHansen-new-1.input.json'));
  const result = runMapping(socialDeliveryReportMapping, report, context);
  const fragments = result.ok ? result.fragments : [];

  it('maps without failures or unknown codes', () => {
    expect(result.ok).toBe(true);
    expect(result.unknownCodes).toEqual([]);
    expect(fragments.map((f) => f.kind)).toEqual([...Array(4).fill('situation'), ...Array(4).fill('goal'), ...Array(5).fill('intervention'), 'followUp']);
  });

  it('maps its FSIII interventions to the model with KL’s display text and the section of Serviceloven', () => {
    const interventions = fragments.filter((f) => f.kind === 'intervention').map((f) => [f.content.type, f.content.legalBasis, f.content.sector, f.category]);
    expect(interventions).toEqual([
      [{ system: FSIII_SYSTEM, code: '17312894-b23f-43d9-9723-b725ac25d872', display: 'Personlig hygiejne' }, 'SEL §83, stk. 1, nr. 1', 'social', 'interventions'],
      [{ system: FSIII_SYSTEM, code: '1ae7906b-5f16-4ba4-9077-7f59067cbedb', display: 'Hverdagens aktiviteter' }, 'SEL §83, stk. 1, nr. 1', 'social', 'interventions'],
      [{ system: FSIII_SYSTEM, code: '9aad7654-b9f9-40a3-84d9-2ae1dec4228a', display: 'Madservice' }, 'SEL §83, stk. 1, nr. 3', 'social', 'interventions'],
      [{ system: FSIII_SYSTEM, code: '43608562-e356-4990-8b96-e35128bbdc4f', display: 'Rengøring' }, 'SEL §83, stk. 1, nr. 2', 'social', 'interventions'],
      [{ system: FSIII_SYSTEM, code: 'ef8ee035-00d2-48b9-b366-27753ccd5504', display: 'Mobilitet' }, 'SEL §83, stk. 1, nr. 1', 'social', 'interventions'],
    ]);
  });

  it('maps its FSIII conditions to barriers with KL’s display text and the functioning level', () => {
    expect(fragments.filter((f) => f.kind === 'situation').map((f) => f.content.barriers)).toEqual([
      ['Personlig pleje (funktionsevneniveau 3)'],
      ['Lave mad (funktionsevneniveau 3)'],
      ['Lave husligt arbejde (funktionsevneniveau 3)'],
      ['Mobilitet og bevægelse (funktionsevneniveau 2)'],
    ]);
  });

  it('maps its FSIII condition goals with the goal type as title and the target level in words', () => {
    const goals = fragments.filter((f) => f.kind === 'goal').map((f) => f.content);
    expect(new Set(goals.map((g) => g.title))).toEqual(new Set(['Tilstand forsvinder, mindskes eller forbliver uændret']));
    expect(goals.map((g) => g.description)).toEqual(['funktionsevneniveau: 2', 'funktionsevneniveau: 2', 'funktionsevneniveau: 2', 'funktionsevneniveau: 1']);
    expect(goals.every((g) => g.status === 'proposed' && g.level === 'sub' && g.topics.includes('condition-goal'))).toBe(true);
  });

  it('turns the planned follow-up into a follow-up of the intervention that treats its condition', () => {
    // CarePlan 0aff84ce's one activity ("Personlig hygiejne") treats the condition the follow-up is about.
    const treating = fragments.find((f) => f.kind === 'intervention' && f.elementId.startsWith('social:careplan:0aff84ce-2b70-4677-bfa8-78c599d0eaf9:activity:'));
    expect(treating?.content).toMatchObject({ title: 'Personlig hygiejne' });
    expect(fragments.at(-1)).toEqual({
      kind: 'followUp',
      elementId: 'social:encounter:c0f62d4d-91e5-4d28-a107-526e0a2fc20b',
      category: 'plan-core',
      content: { due: '2021-02-15', text: 'Opfølgning: Personlig pleje (funktionsevneniveau 3)', elementId: treating!.elementId, done: false },
    });
  });

  it('lets nothing of the citizen’s identity into the fragments', () => {
    expect(JSON.stringify(fragments).includes('0101410001')).toBe(false);
    expect(JSON.stringify(fragments).includes('0533e773')).toBe(false);
    expect(result.ignoredFields).toContain('Bundle.entry.Patient');
  });

  it('fails the whole report, with the entry named, when one entry breaks its contract', () => {
    const broken = structuredClone(report);
    broken.entry[5].resource.lifecycleStatus = 'sometime';
    const failed = runMapping(socialDeliveryReportMapping, broken, context);
    expect(failed).toMatchObject({ ok: false, ruleId: 'entry' });
    expect(!failed.ok && failed.reason).toMatch(/entry 5 \(Goal\/82a5cd17.*lifecycleStatus/);
  });

  it('masks an entry id shaped like a CPR number when it names the failing entry', () => {
    const cprShaped = generatePopulation(1, 31)[0]!.cpr;
    const broken = structuredClone(report);
    broken.entry[5].resource.id = cprShaped;
    broken.entry[5].resource.lifecycleStatus = 'sometime';
    const failed = runMapping(socialDeliveryReportMapping, broken, context);
    expect(failed).toMatchObject({ ok: false, ruleId: 'entry' });
    const reason = failed.ok ? '' : failed.reason;
    expect(reason.includes(cprShaped)).toBe(false);
    expect(reason).toMatch(/entry 5 \(Goal\/\[cpr\]\): contract: lifecycleStatus/);
  });
});

describe('social.condition and the value set of clinicalStatus', () => {
  const resolved = readJson(join(fixtures, 'condition', 'resolved.input.json'));
  const withClinicalStatus = (clinicalStatus: unknown) => ({ ...resolved, clinicalStatus });
  const coded = (...codings: { system: string; code: string }[]) => ({ coding: codings });
  const summaryOf = (condition: unknown) => {
    const result = runMapping(socialConditionMapping, condition, context);
    return result.ok ? (result.fragments[0]!.content as { summary: string; barriers: string[] }) : result;
  };

  it('reads the six codes of condition-clinical: active, recurrence and relapse are barriers, the others no longer current', () => {
    for (const code of ['active', 'recurrence', 'relapse']) expect(summaryOf(withClinicalStatus(coded({ system: CONDITION_CLINICAL_SYSTEM, code }))), code).toEqual({ summary: 'Hjemløshed', barriers: ['Hjemløshed'], resources: [] });
    for (const code of ['inactive', 'remission', 'resolved'])
      expect(summaryOf(withClinicalStatus(coded({ system: CONDITION_CLINICAL_SYSTEM, code }))), code).toEqual({ summary: 'Hjemløshed — ikke længere aktuel', barriers: [], resources: [] });
  });

  it('refuses a code outside the value set in the contract instead of guessing what it means', () => {
    for (const clinicalStatus of [coded({ system: CONDITION_CLINICAL_SYSTEM, code: 'sleeping' }), coded({ system: CONDITION_CLINICAL_SYSTEM, code: 'active' }, { system: CONDITION_CLINICAL_SYSTEM, code: 'Active' })]) {
      const condition = withClinicalStatus(clinicalStatus);
      expect(Condition.safeParse(condition).error?.issues.map((i) => i.path.join('.'))).toEqual(['clinicalStatus']);
      const result = runMapping(socialConditionMapping, condition, context);
      expect(result).toMatchObject({ ok: false, ruleId: 'contract' });
      expect(!result.ok && result.reason).toMatch(/^clinicalStatus: not coded in http:\/\/terminology\.hl7\.org\/CodeSystem\/condition-clinical with one of active, recurrence, relapse, inactive, remission, resolved$/);
    }
  });

  it('refuses a clinical status that is not coded in condition-clinical at all (the binding is required)', () => {
    for (const clinicalStatus of [coded({ system: 'urn:local:status', code: 'sleeping' }), { text: 'aktiv' }, {}]) {
      expect(runMapping(socialConditionMapping, withClinicalStatus(clinicalStatus), context)).toMatchObject({ ok: false, ruleId: 'contract' });
    }
  });

  it('reads the condition-clinical coding, whatever other codings stand before it', () => {
    const status = coded({ system: 'urn:local:status', code: 'no-longer-relevant' }, { system: CONDITION_CLINICAL_SYSTEM, code: 'active' });
    expect(summaryOf(withClinicalStatus(status))).toMatchObject({ barriers: ['Hjemløshed'] });
  });

  it('reads the verification status in condition-ver-status: refuted and entered-in-error leave nothing, the others are read', () => {
    const verified = (code: string, ...others: { system: string; code: string }[]) => ({ ...withClinicalStatus(coded({ system: CONDITION_CLINICAL_SYSTEM, code: 'active' })), verificationStatus: coded(...others, { system: CONDITION_VERIFICATION_SYSTEM, code }) });
    for (const code of ['refuted', 'entered-in-error']) {
      const result = runMapping(socialConditionMapping, verified(code), context);
      expect(result.ok && result.fragments, code).toEqual([]);
    }
    for (const code of ['unconfirmed', 'provisional', 'differential', 'confirmed']) expect(summaryOf(verified(code)), code).toMatchObject({ barriers: ['Hjemløshed'] });
    // A local coding in front says nothing: the FHIR one decides.
    expect(runMapping(socialConditionMapping, verified('refuted', { system: 'urn:local:verification', code: 'confirmed' }), context)).toMatchObject({ ok: true, fragments: [] });
  });

  it('refuses a verification status outside condition-ver-status instead of reading it as confirmed', () => {
    for (const verificationStatus of [coded({ system: CONDITION_VERIFICATION_SYSTEM, code: 'maybe' }), coded({ system: 'urn:local:verification', code: 'refuted' }), { text: 'afkræftet' }]) {
      const condition = { ...resolved, verificationStatus };
      expect(Condition.safeParse(condition).error?.issues.map((i) => i.path.join('.'))).toEqual(['verificationStatus']);
      const result = runMapping(socialConditionMapping, condition, context);
      expect(result).toMatchObject({ ok: false, ruleId: 'contract' });
      expect(!result.ok && result.reason).toMatch(/^verificationStatus: not coded in http:\/\/terminology\.hl7\.org\/CodeSystem\/condition-ver-status with one of unconfirmed, provisional, differential, confirmed, refuted, entered-in-error$/);
    }
  });

  it('treats a Condition without a clinical status as current, as before', () => {
    const { clinicalStatus: _omitted, ...without } = resolved;
    expect(summaryOf(without)).toMatchObject({ barriers: ['Hjemløshed'] });
  });
});

describe('social mapping registry and code lists', () => {
  it('gives every mapping an id, a semantic version, field rules and code lists of the right size', () => {
    expect(new Set(socialMappings.map((m) => m.id)).size).toBe(socialMappings.length);
    for (const mapping of socialMappings) {
      expect(mapping.id).toMatch(/^social\.[a-z-]+$/);
      // Bumped when the output changes meaning: 1.1.0 for careplan, condition and goal (and the delivery
      // report, which maps its entries through them), where a code no KL list holds became health data
      // (Sundhedsloven § 43) and § 101 a is read however it is written; 1.2.0 for careplan and the
      // delivery report, where a CarePlan we pushed maps back onto our intervention (R18); 1.2.0 for goal
      // and 1.3.0 for the delivery report, where a Goal we pushed maps back onto our goal (R18); 1.3.0 for
      // careplan and 1.4.0 for the delivery report, where an activity is named by what it is, not its position.
      const expected: Record<string, string> = { 'social.careteam': '1.0.0', 'social.careplan': '1.3.0', 'social.goal': '1.2.0', 'social.delivery-report': '1.4.0' };
      expect(mapping.version, mapping.id).toBe(expected[mapping.id] ?? '1.1.0');
      expect(mapping.adapter).toBe('social');
      expect(mapping.rules.length).toBeGreaterThan(0);
      expect(new Set(mapping.rules.map((r) => r.id)).size).toBe(mapping.rules.length);
    }
    expect(Object.keys(socialMappingsByRecordType).sort()).toEqual(['CarePlan', 'CareTeam', 'Condition', 'DeliveryReport', 'Goal']);
    expect(Object.keys(socialReverseMappings).sort()).toEqual(['goal.upsert', 'intervention.upsert', 'service-request.create']);
    expect(socialCodeListRefs.fsiii).toMatchObject({ system: FSIII_SYSTEM, size: 828 });
    expect(socialCodeListRefs.ffb).toMatchObject({ system: FFB_SYSTEM, size: 220 });
    expect(socialCodeListRefs.careSocialCodes).toMatchObject({ system: CARE_SOCIAL_SYSTEM, size: 91 });
  });

  it('keeps KL’s code lists complete, unique and with their origin', () => {
    for (const list of [fsiii, ffb, careSocialCodes]) {
      expect(list.concepts).toHaveLength(list.size);
      expect(new Set(list.concepts.map((c) => c.code)).size).toBe(list.size);
      expect(list.origin).toMatch(/hl7dk\/kl-term/);
      expect(list.publisher).toMatch(/KL/);
    }
    expect(lookupCode(FFB_SYSTEM, '638f44df-6bf2-47f8-9935-b8fdc83e5bf5')).toMatchObject({ display: 'Støtte til daglige opgaver i hjemmet', legalBasis: 'SEL §85' });
    expect(lookupCode(FSIII_SYSTEM, '4374f01c-494b-4fc6-9d95-a0022fa515cf')).toMatchObject({ display: 'Psykiatrisk pleje', legalBasis: 'SUL §138', sector: 'health' });
  });

  it('reads the section of the law from FSIII’s group names', () => {
    expect(legalBasisFromDisplay('§ 83 stk. 1, nr. 1 Personlig hjælp og pleje')).toBe('SEL §83, stk. 1, nr. 1');
    expect(legalBasisFromDisplay('SEL § 83A')).toBe('SEL §83 a');
    expect(legalBasisFromDisplay('§ 83a Rehabilitering praktisk hjælp i hjemmet')).toBe('SEL §83 a');
    expect(legalBasisFromDisplay('§ 84 stk. 2 Midlertidigt ophold')).toBe('SEL §84, stk. 2');
    expect(legalBasisFromDisplay('SUL § 138')).toBe('SUL §138');
    expect(legalBasisFromDisplay('§ 113 i Serviceloven')).toBe('SEL §113');
    expect(legalBasisFromDisplay('Ældrelovsindsats')).toBe('Ældreloven');
    expect(legalBasisFromDisplay('Madservice')).toBeUndefined();
  });
});

describe('social mappings and blank source text', () => {
  it('treat empty displays and an unusable stated legal basis as absent, not as a failure', () => {
    const plan = {
      resourceType: 'CarePlan',
      id: 'blank-1',
      status: 'active',
      intent: 'plan',
      subject: { reference: 'Patient/p-1' },
      period: { start: '2025-01-01' },
      activity: [
        {
          detail: {
            extension: [{ url: 'http://enplan.example/fhir/StructureDefinition/legal-basis', valueString: ' x ' }],
            code: { coding: [{ system: FFB_SYSTEM, code: '638f44df-6bf2-47f8-9935-b8fdc83e5bf5', display: '' }] },
            status: 'in-progress',
            description: '  ',
            performer: [{ display: '' }],
          },
        },
      ],
    };
    const result = runMapping(socialCarePlanMapping, plan, context);
    expect(result.ok).toBe(true);
    if (!result.ok) return;
    expect(result.fragments[0]!.content).toMatchObject({ title: 'Støtte til daglige opgaver i hjemmet', legalBasis: 'SEL §85', responsibleUnit: 'Ikke oplyst i kilden', contact: { name: 'Ikke oplyst i kilden' } });
    expect(result.ignoredFields).toContain('CarePlan.activity.detail.extension[legal-basis] (not a usable legal basis)');
  });
});

describe('social mappings on generated records', () => {
  it('map 3,000 realistic records without a failure, into the right data categories', () => {
    const categories = new Map<string, number>();
    for (const { recordType, resource } of generateSocialRecords(3000, 17)) {
      const result = runMapping(socialMappingsByRecordType[recordType]!, resource, context);
      expect(result.ok, `${recordType}/${resource.id}`).toBe(true);
      if (!result.ok) continue;
      for (const fragment of result.fragments) {
        categories.set(fragment.category, (categories.get(fragment.category) ?? 0) + 1);
        if ('sector' in fragment.content && fragment.content.sector === 'health') expect(fragment.category).toBe('health');
      }
    }
    expect([...categories.keys()].sort()).toEqual(['goals', 'health', 'interventions', 'plan-core', 'social']);
  });
});

describe('social reverse mappings', () => {
  const provenance = [{ kind: 'registration' as const, registrationId: 'reg-9', actor: 'caseworker-1', at: '2026-02-01T09:00:00+01:00' }];
  const goal: Goal = { id: 'g-1', level: 'overall', title: 'Mit eget hjem', sector: 'social', status: 'achieved', targetDate: '2026-10-01', topics: [], ruleVersion: 'r', provenance };
  const intervention: Intervention = {
    id: 'i-1',
    sector: 'social',
    legalBasis: 'SEL §104',
    type: { system: FFB_SYSTEM, code: '7e419926-bb04-4829-99c9-95ea20403c2c', display: 'Social aktivitet' },
    title: 'Værested to dage om ugen',
    responsibleUnit: 'Værestedet Solstrålen',
    contact: { name: 'Søren Kjær' },
    period: { start: '2026-02-01' },
    order: 0,
    dependsOn: [],
    status: 'active',
    memberId: 'm-1',
    goalIds: [],
    confidentiality: 'normal',
    topics: [],
    ruleVersion: 'r',
    provenance,
  };
  const asSent = (payload: object) => ({ ...payload, subject: { reference: 'Patient/p-1' } }) as Resource;

  beforeAll(() => loadProfiles());

  it('write valid FHIR R4 with KL’s codes and display texts', () => {
    const outputs = [socialGoalReverse.map(goal), socialInterventionReverse.map(intervention), socialServiceRequestReverse.map(intervention)];
    for (const output of outputs) {
      expect(output.ok).toBe(true);
      if (!output.ok) continue;
      expect(fhirValidationErrors(asSent(output.payload))).toEqual([]);
      const kl = JSON.stringify(output.payload).match(/"system":"(urn:oid:1\.2\.208\.176\.2\.2[12]|http:\/\/fhir\.kl\.dk[^"]*)","code":"([^"]+)","display":"([^"]+)"/g) ?? [];
      expect(kl.length).toBeGreaterThan(0);
      for (const coding of kl) {
        const [, system, code, display] = /"system":"([^"]+)","code":"([^"]+)","display":"([^"]+)"/.exec(coding)!;
        expect(lookupCode(system, code)?.display).toBe(display);
      }
    }
  });

  it('round-trip an intervention through the CarePlan the social system would hold', () => {
    const out = socialInterventionReverse.map(intervention);
    if (!out.ok) throw new Error(out.reason);
    const back = runMapping(socialCarePlanMapping, asSent({ ...out.payload, id: 'cp-1' }), context);
    expect(back.ok && back.fragments[0]!.content).toMatchObject({ type: intervention.type, legalBasis: 'SEL §104', title: intervention.title, status: 'active', period: intervention.period });
  });

  it('refuse what the social system does not take', () => {
    expect(socialInterventionReverse.map({ ...intervention, type: { system: 'http://snomed.info/sct', code: '1' } })).toMatchObject({ ok: false });
    expect(socialInterventionReverse.map({ ...intervention, type: { system: FFB_SYSTEM, code: 'no-such-code' } })).toMatchObject({ ok: false, reason: expect.stringMatching(/not in KL/) });
    expect(socialServiceRequestReverse.map({ ...intervention, status: 'ended' })).toMatchObject({ ok: false });
    expect(socialGoalReverse.map({ ...goal, title: '  ' })).toMatchObject({ ok: false });
  });
});

describe('social mappings never throw', () => {
  const pool = generateSocialRecords(200, 23).map((r) => r.resource as unknown as Record<string, unknown>);
  const report = readJson(join(fixtures, 'delivery-report', 'derived-klgateway-DeliveryReport-JensHansen-new-1.input.json'));

  /** A record from the pool with a few random edits deep inside: deleted or replaced values. */
  const nearlyValid = (base: readonly unknown[]) =>
    fc
      .tuple(
        fc.nat({ max: base.length - 1 }),
        fc.array(fc.tuple(fc.array(fc.nat(), { minLength: 1, maxLength: 6 }), fc.oneof(fc.constant(undefined), fc.anything(), fc.string(), fc.constantFrom('', '2021-13-45', 'Patient/x', FFB_SYSTEM))), { maxLength: 4 }),
      )
      .map(([index, edits]) => {
        const record = structuredClone(base[index]) as Record<string, unknown>;
        for (const [path, value] of edits) {
          let node: unknown = record;
          for (let depth = 0; depth < path.length; depth++) {
            if (!node || typeof node !== 'object') break;
            const keys = Object.keys(node);
            if (!keys.length) break;
            const key = keys[path[depth]! % keys.length]!;
            if (depth === path.length - 1 || typeof (node as Record<string, unknown>)[key] !== 'object') {
              if (value === undefined) delete (node as Record<string, unknown>)[key];
              else (node as Record<string, unknown>)[key] = value;
              break;
            }
            node = (node as Record<string, unknown>)[key];
          }
        }
        return record;
      });

  const holds = (mapping: Mapping<unknown>) => (input: unknown) => {
    const result = runMapping(mapping, input, context);
    if (result.ok) for (const fragment of result.fragments) expect(Fragment.safeParse(fragment).success).toBe(true);
    else expect(result.reason.length).toBeGreaterThan(0);
  };

  it.each(socialMappings.map((m) => [m.id, m] as const))('%s on arbitrary input', (_, mapping) => {
    fc.assert(fc.property(fc.anything(), holds(mapping)), { numRuns: 200 });
  });

  it.each(socialMappings.filter((m) => m.recordType !== 'DeliveryReport').map((m) => [m.id, m] as const))('%s on nearly valid records', (_, mapping) => {
    const base = pool.filter((r) => r.resourceType === mapping.recordType);
    fc.assert(fc.property(nearlyValid(base), holds(mapping)), { numRuns: 300 });
  });

  it('social.delivery-report on a nearly valid KL Gateway report', () => {
    fc.assert(fc.property(nearlyValid([report]), holds(socialDeliveryReportMapping)), { numRuns: 300 });
  });

  it('fail, without throwing, on records nested deeper than the stack reaches', () => {
    // Parsed from text: JSON.parse reads any depth, the contract's recursion would not.
    const extensions = (depth: number) => JSON.parse(`${'[{"url":"urn:deep","extension":'.repeat(depth)}[]${'}]'.repeat(depth)}`) as unknown;
    const goal = pool.find((r) => r.resourceType === 'Goal')!;
    const deepGoal = runMapping(socialMappingsByRecordType.Goal!, { ...goal, extension: extensions(5_000) }, context);
    expect(deepGoal).toMatchObject({ ok: false, ruleId: 'contract' });
    expect(!deepGoal.ok && deepGoal.reason).toBe('record: nests too deeply to be checked against the source contract');
    // The report's own contract does not look inside entries; the entry's does, inside the mapping.
    const deepReport = structuredClone(report);
    deepReport.entry[5].resource.extension = extensions(5_000);
    const failed = runMapping(socialDeliveryReportMapping, deepReport, context);
    expect(failed).toMatchObject({ ok: false, ruleId: 'mapping', reason: 'the record nests too deeply to be mapped' });
  });

  it.each(Object.entries(socialReverseMappings))('reverse %s on arbitrary model elements', (_, reverse) => {
    const element = fc.record({
      id: fc.string({ minLength: 1 }),
      level: fc.constantFrom('overall', 'sub', 'progression'),
      title: fc.string(),
      description: fc.option(fc.string(), { nil: undefined }),
      status: fc.constantFrom('proposed', 'active', 'achieved', 'abandoned', 'planned', 'ended', 'cancelled'),
      targetDate: fc.option(fc.constant('2026-05-01'), { nil: undefined }),
      sector: fc.constantFrom('social', 'health'),
      legalBasis: fc.string(),
      type: fc.record({ system: fc.constantFrom(FFB_SYSTEM, FSIII_SYSTEM, 'x'), code: fc.oneof(fc.string(), fc.constantFrom(...ffb.concepts.slice(0, 20).map((c) => c.code))) }),
      responsibleUnit: fc.string(),
      period: fc.record({ start: fc.constant('2026-01-01'), end: fc.option(fc.constant('2026-12-31'), { nil: undefined }) }),
      topics: fc.array(fc.string()),
    });
    fc.assert(
      fc.property(element, (input) => {
        const out = reverse.map(input as never);
        expect(typeof out.ok).toBe('boolean');
      }),
      { numRuns: 200 },
    );
  });
});

describe('anonymous treatment (SEL § 101 a) under every spelling (R4)', () => {
  const carePlanStating = (legalBasis: string) => ({
    resourceType: 'CarePlan',
    id: 'cp-1',
    meta: { versionId: '1', lastUpdated: '2026-06-02T09:15:00.000Z' },
    status: 'active',
    intent: 'plan',
    subject: { reference: 'Patient/p-1' },
    period: { start: '2026-06-01' },
    activity: [
      {
        detail: {
          extension: [{ url: LEGAL_BASIS_EXTENSION, valueString: legalBasis }],
          code: { coding: [{ system: FFB_SYSTEM, code: 'e7c8b42e-b882-4629-8e03-65e44b1aa3e3', display: 'Støtte til behandling' }] },
          status: 'scheduled',
          description: 'Anonym stofmisbrugsbehandling',
        },
      },
    ],
  });
  const interventionOf = (legalBasis: string) => {
    const result = runMapping(socialCarePlanMapping, carePlanStating(legalBasis), { now: '2026-06-03T00:00:00Z', ruleVersion: 'rules-2026.11' });
    expect(result.ok).toBe(true);
    return result.ok ? (result.fragments.find((f) => f.kind === 'intervention')!.content as { confidentiality: string; legalBasis: string }) : undefined;
  };

  it('R4: SEL § 101 a named as "Serviceloven § 101 a" is still anonymous treatment', () => {
    const intervention = interventionOf('Serviceloven § 101 a');
    expect(intervention?.legalBasis).toBe('Serviceloven § 101 a');
    expect(intervention?.confidentiality).toBe('anonymous-treatment');
  });

  it.each(['SEL §101 a', 'SEL § 101 a', 'Serviceloven § 101 a', 'Lov om social service § 101 a', '§ 101 a', 'servicelovens §101a', 'SEL § 101 a, stk. 1', 'SEL §§ 85 og 101 a', 'SEL § 101 A', 'Serviceloven § 101a (anonym behandling)'])(
    'fails closed: "%s" is anonymous treatment',
    (legalBasis) => expect(interventionOf(legalBasis)?.confidentiality).toBe('anonymous-treatment'),
  );

  it.each(['SEL § 101', 'SEL § 1011 a', 'SEL § 101 b', 'SEL § 2101 a', 'SEL § 85', 'Serviceloven § 101, stk. 2'])('"%s" is not § 101 a', (legalBasis) =>
    expect(interventionOf(legalBasis)?.confidentiality).toBe('normal'),
  );
});

describe('health data from the social system is health data (R9, Sundhedsloven § 43)', () => {
  const condition = (coding: { system: string; code: string; display?: string }[], text?: string) => ({
    resourceType: 'Condition',
    id: 'cond-1',
    meta: { versionId: '1', lastUpdated: '2026-06-02T09:15:00.000Z' },
    clinicalStatus: { coding: [{ system: CONDITION_CLINICAL_SYSTEM, code: 'active' }] },
    code: { coding, ...(text ? { text } : {}) },
    subject: { reference: 'Patient/p-1' },
  });
  const categoryAndSummary = (record: unknown) => {
    const result = runMapping(socialConditionMapping, record, { now: '2026-06-03T00:00:00Z', ruleVersion: 'rules-2026.11' });
    expect(result.ok).toBe(true);
    return result.ok ? result.fragments.map((f) => [f.category, (f.content as { summary: string }).summary]) : [];
  };

  it('R9/§43: a diagnosis (SKS/ICD-10) Condition from the social system is health data', () => {
    const record = condition([{ system: 'urn:oid:1.2.208.176.2.4', code: 'DF200', display: 'Paranoid skizofreni' }]);
    expect(categoryAndSummary(record)).toEqual([['health', 'Paranoid skizofreni']]);
    // The dashboard still counts the code no list knows.
    const stats = emptyStats(socialConditionMapping);
    runMapping(socialConditionMapping, record, context, stats);
    expect(stats.unknownCodes).toEqual({ 'urn:oid:1.2.208.176.2.4|DF200': 1 });
  });

  it('fails closed: an ICD-10 code, a code no KL list knows, an uncoded condition, or a diagnosis beside an FFB code is health', () => {
    expect(categoryAndSummary(condition([{ system: 'http://hl7.org/fhir/sid/icd-10', code: 'F20.0', display: 'Paranoid schizophrenia' }]))).toEqual([['health', 'Paranoid schizophrenia']]);
    expect(categoryAndSummary(condition([{ system: FFB_SYSTEM, code: 'lokal-tilstand-1', display: 'Lokal tilstand' }]))).toEqual([['health', 'Lokal tilstand']]);
    expect(categoryAndSummary(condition([], 'Paranoid skizofreni'))).toEqual([['health', 'Paranoid skizofreni']]);
    expect(
      categoryAndSummary(condition([{ system: FFB_SYSTEM, code: '293bf940-c075-4e3d-b5ef-6e331202e556', display: 'Hjemløshed' }, { system: 'urn:oid:1.2.208.176.2.4', code: 'DF200', display: 'Paranoid skizofreni' }])),
    ).toEqual([['health', 'Hjemløshed']]);
    // An FFB state KL lists stays social.
    expect(categoryAndSummary(condition([{ system: FFB_SYSTEM, code: '293bf940-c075-4e3d-b5ef-6e331202e556', display: 'Hjemløshed' }]))).toEqual([['social', 'Hjemløshed']]);
  });

  it('a CarePlan activity coded outside KL’s lists is a health intervention, its code still counted as unknown', () => {
    const plan = {
      resourceType: 'CarePlan',
      id: 'cp-2',
      status: 'active',
      intent: 'plan',
      subject: { reference: 'Patient/p-1' },
      period: { start: '2026-06-01' },
      activity: [
        { detail: { code: { coding: [{ system: 'urn:oid:1.2.208.176.2.4', code: 'BRXA1', display: 'Psykoterapi' }] }, status: 'in-progress' } },
        { detail: { code: { coding: [{ system: FFB_SYSTEM, code: '638f44df-6bf2-47f8-9935-b8fdc83e5bf5' }] }, status: 'in-progress' } },
      ],
    };
    const stats = emptyStats(socialCarePlanMapping);
    const result = runMapping(socialCarePlanMapping, plan, context, stats);
    expect(result.ok && result.fragments.map((f) => [f.category, (f.content as Intervention).sector])).toEqual([
      ['health', 'health'],
      ['interventions', 'social'],
    ]);
    expect(stats.unknownCodes).toEqual({ 'urn:oid:1.2.208.176.2.4|BRXA1': 1 });
  });

  it('a Goal whose target or description is coded outside KL’s lists is a health goal', () => {
    const goal = (value: { system: string; code: string; display?: string }, description: Record<string, unknown> = { text: 'Mindre angst' }) => ({
      resourceType: 'Goal',
      id: 'g-1',
      lifecycleStatus: 'active',
      description,
      subject: { reference: 'Patient/p-1' },
      target: [{ measure: { coding: [{ system: CARE_SOCIAL_SYSTEM, code: '90c48f03-f194-4b2f-ad7d-6cba1069ae48' }] }, detailCodeableConcept: { coding: [value] } }],
    });
    const categoryOf = (record: unknown) => {
      const result = runMapping(socialGoalMapping, record, context);
      return result.ok ? result.fragments.map((f) => [f.category, (f.content as Goal).sector]) : result;
    };
    const ffbGoalType = { system: FFB_SYSTEM, code: '10752a63-00b4-4958-b7f4-9f3a18f74266' };
    expect(categoryOf(goal({ system: 'urn:oid:1.2.208.176.2.4', code: 'DF200', display: 'Paranoid skizofreni' }))).toEqual([['health', 'health']]);
    expect(categoryOf(goal(ffbGoalType, { coding: [{ system: 'http://hl7.org/fhir/sid/icd-10', code: 'F41.1' }], text: 'Mindre angst' }))).toEqual([['health', 'health']]);
    expect(categoryOf(goal(ffbGoalType))).toEqual([['goals', 'social']]);
    // KL's FFB reporting profile fixes the goal's description to SNOMED 410518001 "Goal": no health information.
    expect(categoryOf(goal(ffbGoalType, { coding: [{ system: 'http://snomed.info/sct', code: '410518001' }] }))).toEqual([['goals', 'social']]);
  });
});

describe('a Goal or CarePlan we pushed, read back', () => {
  it('maps onto our element, and its identifier counts as read, not as a field the mapping drops', () => {
    const ours = '6f1c2d3e-4a5b-4c6d-8e7f-9a0b1c2d3e4f';
    const records = generateSocialRecords(200, 31);
    for (const recordType of ['Goal', 'CarePlan'] as const) {
      const { resource } = records.find((r) => r.recordType === recordType)!;
      const pushed = { ...resource, identifier: [{ system: ENPLAN_ELEMENT_SYSTEM, value: ours }] };
      const result = runMapping(socialMappingsByRecordType[recordType]!, pushed, context);
      expect(result.ok && result.fragments.some((f) => f.elementId === ours), recordType).toBe(true);
      expect(result.ignoredFields).not.toContain(`${recordType}.identifier`);
    }
  });
});
