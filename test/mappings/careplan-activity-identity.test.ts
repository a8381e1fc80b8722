/**
 * Which activity of a CarePlan an intervention is (mappings/careplan-activity.ts): the element id of
 * a social or regional CarePlan's activity must name that activity, not its place in the plan. Before,
 * `…:activity:<n>` was its position: removing the first of three activities gave the first
 * intervention the second one's content, and a caseworker's follow-ups on it sat on another service.
 * The social and health mappings on plain records; the sync against the simulators is in
 * test/sync/careplan-activity-identity.test.ts.
 */
import { describe, expect, it } from 'vitest';
import type { CarePlanActivity } from '@medplum/fhirtypes';
import { CARE_SOCIAL_SYSTEM, ENPLAN_ELEMENT_SYSTEM, FFB_SYSTEM, REGIONAL_ACTIVITY_SYSTEM, REGIONAL_PLAN_TYPE_SYSTEM } from '../../adapters/fhir/systems';
import { runMapping, type Mapping } from '../../mappings/mapping';
import { healthCarePlanMapping } from '../../mappings/health';
import { regionalActivities } from '../../mappings/health/codes';
import { socialCarePlanMapping, socialDeliveryReportMapping } from '../../mappings/social';
import { ffb } from '../../mappings/social/codes';
import type { PushReceipt } from '../../adapters/adapter';
import { defaultReverseEntries } from '../../src/delivery/default-mappings';
import type { Outbound } from '../../src/registrations/apply';
import type { Fragment } from '../../src/model';
import { testCpr } from '../support/cpr';

const context = { now: '2026-01-01T00:00:00+01:00', ruleVersion: 'rules-2026.11' };

const ffbServices = ffb.concepts.filter((c) => c.group === 'Social indsats').slice(0, 3);
const regionalServices = regionalActivities.concepts.slice(0, 3);

/** Three activities as the source sends them, each named one way: its own id, a reference, or detail only. */
type Naming = 'own id' | 'reference' | 'detail only';
function activities(system: string, codes: readonly { code: string; display: string }[], naming: Naming): CarePlanActivity[] {
  return codes.map((c, i) => ({
    ...(naming === 'own id' ? { id: `akt-${i + 1}` } : {}),
    ...(naming === 'reference' ? { reference: { reference: `ServiceRequest/sr-${i + 1}` } } : {}),
    detail: {
      kind: 'ServiceRequest',
      code: { coding: [{ system, code: c.code, display: c.display }] },
      status: 'in-progress',
      scheduledPeriod: { start: `2026-0${i + 1}-01` },
      performer: [{ display: `Udfører ${i + 1}` }],
      description: c.display,
    },
  }));
}

const socialPlan = (activity: CarePlanActivity[], extra: Record<string, unknown> = {}) => ({
  resourceType: 'CarePlan', id: 'cp-1', status: 'active', intent: 'plan', subject: { reference: 'Patient/p-1' }, period: { start: '2026-01-01' }, activity, ...extra,
});
const healthPlan = (activity: CarePlanActivity[]) => ({
  resourceType: 'CarePlan', id: 'hp-1', status: 'active', intent: 'plan', subject: { reference: 'Patient/p-1' }, period: { start: '2026-01-01' },
  category: [{ coding: [{ system: REGIONAL_PLAN_TYPE_SYSTEM, code: 'psychiatric-treatment-plan' }] }], author: { display: 'Distriktspsykiatrien' }, activity,
});

function fragmentsOf(mapping: Mapping<unknown>, record: unknown): Fragment[] {
  const result = runMapping(mapping, record, context);
  if (!result.ok) throw new Error(`${result.ruleId}: ${result.reason}`);
  return result.fragments;
}
/** Each intervention's content by its element id. */
const byId = (fragments: readonly Fragment[]) => new Map(fragments.map((f) => [f.elementId, f.content]));

const sectors = [
  { sector: 'social', mapping: socialCarePlanMapping as Mapping<unknown>, plan: socialPlan, system: FFB_SYSTEM, codes: ffbServices },
  { sector: 'health', mapping: healthCarePlanMapping as Mapping<unknown>, plan: healthPlan, system: REGIONAL_ACTIVITY_SYSTEM, codes: regionalServices },
] as const;
const namings: Naming[] = ['own id', 'reference', 'detail only'];
const cases = sectors.flatMap((s) => namings.map((naming) => ({ ...s, naming })));

describe('a CarePlan activity keeps its element id whatever happens to the other activities', () => {
  it.each(cases)('$sector, $naming: removing the first of three leaves the other two their ids and content, and the first one’s id is gone', ({ mapping, plan, system, codes, naming }) => {
    const three = activities(system, codes, naming);
    const before = fragmentsOf(mapping, plan(three));
    const after = fragmentsOf(mapping, plan(three.slice(1)));
    expect(before).toHaveLength(3);
    expect(after.map((f) => f.elementId)).toEqual(before.slice(1).map((f) => f.elementId));
    expect(after.map((f) => f.content)).toEqual(before.slice(1).map((f) => f.content));
  });

  it.each(cases)('$sector, $naming: reordering the activities changes no intervention', ({ mapping, plan, system, codes, naming }) => {
    const three = activities(system, codes, naming);
    const before = byId(fragmentsOf(mapping, plan(three)));
    const reordered = byId(fragmentsOf(mapping, plan([three[2]!, three[0]!, three[1]!])));
    expect(reordered).toEqual(before);
  });

  it.each(sectors)('$sector: a detail-only activity’s progress — status, end, performer, description, goals, notes — keeps its id', ({ mapping, plan, system, codes }) => {
    const three = activities(system, codes, 'detail only');
    const before = fragmentsOf(mapping, plan(three));
    const progressed = structuredClone(three);
    progressed[1]!.detail = {
      ...progressed[1]!.detail!,
      status: 'completed',
      scheduledPeriod: { start: '2026-02-01', end: '2026-05-01' },
      performer: [{ display: 'En anden udfører' }],
      description: 'Afsluttet efter planen',
      goal: [{ reference: 'Goal/g-1' }],
    };
    progressed[1]!.progress = [{ text: 'Borgeren mødte op hver uge' }];
    const after = fragmentsOf(mapping, plan(progressed));
    expect(after.map((f) => f.elementId)).toEqual(before.map((f) => f.elementId));
    expect(after[1]!.content).toMatchObject({ status: 'ended', period: { start: '2026-02-01', end: '2026-05-01' } });
  });

  it.each(sectors)('$sector: the same service twice is two interventions, each keeping its id when a third activity is removed', ({ mapping, plan, system, codes }) => {
    const [first, second] = activities(system, codes, 'detail only');
    const twice = { ...structuredClone(first!), detail: { ...first!.detail!, scheduledPeriod: { start: '2026-06-01' } } };
    const before = fragmentsOf(mapping, plan([second!, first!, twice]));
    expect(new Set(before.map((f) => f.elementId)).size).toBe(3);
    const after = fragmentsOf(mapping, plan([first!, twice]));
    expect(after.map((f) => f.elementId)).toEqual(before.slice(1).map((f) => f.elementId));
  });

  it.each(sectors)('$sector: an activity’s own id names it even when its code is corrected; a reference however it is written', ({ mapping, plan, system, codes }) => {
    const [withId] = activities(system, codes, 'own id');
    const recoded = { ...withId!, detail: { ...withId!.detail!, code: { coding: [{ system, code: codes[2]!.code }] } } };
    expect(fragmentsOf(mapping, plan([recoded]))[0]!.elementId).toBe(fragmentsOf(mapping, plan([withId!]))[0]!.elementId);

    const [referring] = activities(system, codes, 'reference');
    const written = ['ServiceRequest/sr-1', 'https://fhir.example.dk/r4/ServiceRequest/sr-1', 'ServiceRequest/sr-1/_history/7'].map(
      (reference) => fragmentsOf(mapping, plan([{ ...referring!, reference: { reference } }]))[0]!.elementId,
    );
    expect(new Set(written).size).toBe(1);
  });

  it.each(sectors)('$sector: element ids stay short, in the characters element ids use, and carry no text of the source', ({ mapping, plan, system, codes }) => {
    const cpr = testCpr();
    const own = activities(system, codes, 'own id').map((a, i) => (i === 0 ? { ...a, id: cpr } : a));
    const referring = activities(system, codes, 'reference').map((a) => ({ ...a, reference: { reference: `ServiceRequest/${cpr}` } }));
    const detailOnly = activities(system, codes, 'detail only');
    for (const fragments of [own, referring, detailOnly].map((list) => fragmentsOf(mapping, plan(list)))) {
      for (const { elementId } of fragments) {
        expect(elementId).toMatch(/^(social|health):careplan:[A-Za-z0-9.-]+:activity:(id|ref|key)-[0-9a-f]{16}(-\d+)?$/);
        expect(elementId.length).toBeLessThanOrEqual(128);
        expect(elementId).not.toContain(cpr);
        expect(elementId).not.toContain('akt-');
      }
    }
  });
});

describe('a CarePlan we pushed, read back', () => {
  const ours = '6f1c2d3e-4a5b-4c6d-8e7f-9a0b1c2d3e4f';
  const [service, other] = activities(FFB_SYSTEM, ffbServices, 'detail only');

  it('its activity is still our element, or `:activity:0` as its delivery recorded where our id is no UUID', () => {
    expect(fragmentsOf(socialCarePlanMapping as Mapping<unknown>, socialPlan([service!], { identifier: [{ system: ENPLAN_ELEMENT_SYSTEM, value: ours }] })).map((f) => f.elementId)).toEqual([ours]);
    expect(fragmentsOf(socialCarePlanMapping as Mapping<unknown>, socialPlan([service!], { identifier: [{ system: ENPLAN_ELEMENT_SYSTEM, value: 'dfdg:activity:1' }] })).map((f) => f.elementId)).toEqual(['social:careplan:cp-1:activity:0']);
  });

  it('an intervention of another source, pushed as a CarePlan, reads back as the id its delivery records as held', () => {
    const entry = defaultReverseEntries.find((e) => e.target === 'social' && e.operations.includes('intervention.upsert'))!;
    const elementId = 'health:careplan:hp-1:activity:key-0123456789abcdef';
    const held = entry.heldAs!({ elementId, tenant: '101' } as Outbound, { targetId: 'cp-1' } as PushReceipt);
    const readBack = fragmentsOf(socialCarePlanMapping as Mapping<unknown>, socialPlan([service!], { identifier: [{ system: ENPLAN_ELEMENT_SYSTEM, value: elementId }] }));
    expect(held).toEqual([{ targetElementId: readBack[0]!.elementId, elementId }]);
  });

  it('an activity the social system adds to it is named by what it is, not as `:activity:1`', () => {
    const [, added] = fragmentsOf(socialCarePlanMapping as Mapping<unknown>, socialPlan([service!, other!], { identifier: [{ system: ENPLAN_ELEMENT_SYSTEM, value: ours }] }));
    expect(added!.elementId).toBe(fragmentsOf(socialCarePlanMapping as Mapping<unknown>, socialPlan([service!, other!]))[1]!.elementId);
    expect(added!.elementId).toMatch(/:activity:key-/);
  });
});

describe('a KL Gateway delivery report', () => {
  it('puts a follow-up on the intervention that treats its condition, not on an uncoded activity that makes none', () => {
    const condition = { resourceType: 'Condition', id: 'c-1', subject: { reference: 'Patient/p-1' }, code: { coding: [{ system: FFB_SYSTEM, code: ffb.concepts.find((c) => c.group === 'FFB tilstande')!.code }] } };
    const [coded] = activities(FFB_SYSTEM, ffbServices, 'detail only');
    const treating = (activity: CarePlanActivity) => ({ ...activity, detail: { ...activity.detail!, reasonReference: [{ reference: 'Condition/c-1' }] } });
    const uncoded = treating({ detail: { status: 'in-progress', description: 'Samtale' } });
    const carePlan = socialPlan([uncoded, treating(coded!)]);
    const encounter = {
      resourceType: 'Encounter', id: 'e-1', status: 'planned', class: { code: 'AMB' }, subject: { reference: 'Patient/p-1' }, period: { start: '2026-03-01' },
      type: [{ coding: [{ system: CARE_SOCIAL_SYSTEM, code: '9f03dfbb-7a97-45a5-94db-d4c3501714a9' }] }], reasonReference: [{ reference: 'Condition/c-1' }],
    };
    const fragments = fragmentsOf(socialDeliveryReportMapping as Mapping<unknown>, { resourceType: 'Bundle', type: 'collection', entry: [condition, carePlan, encounter].map((resource) => ({ resource })) });
    const [intervention] = fragments.filter((f) => f.kind === 'intervention');
    expect(fragments.find((f) => f.kind === 'followUp')!.content).toMatchObject({ elementId: intervention!.elementId });
  });
});
