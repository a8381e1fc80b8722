/**
 * A record version merged again by a newer version of its mapping (decision 0003, session 19): a
 * whole read takes back what the newer mapping no longer yields from it, keeps what it still yields
 * under the same id, and moves an element the newer mapping names anew (`formerElementId`) only
 * where the older mapping read that very version. Pure merges on plan documents.
 */
import { describe, expect, it } from 'vitest';
import type { Fragment, Intervention, Plan } from '../../src/model';
import { isOlderMappingVersion, mergeFragments, type FragmentOrigin } from '../../src/sync/merge';
import { familyMember, followUp, planWith } from '../support/elements';

const member = familyMember('m-1', 'adult', '1984-02-01');
const times = ['2026-11-24T09:00:00.000Z', '2026-11-24T10:00:00.000Z', '2026-11-24T11:00:00.000Z'];
const origin = (recordVersion: string, mappingVersion: string): FragmentOrigin => ({ system: 'social', recordId: 'cp-1', recordVersion, mappingId: 'social.careplan', mappingVersion, consentRef: 'g-1', category: 'interventions' });
const content = (code: string): Extract<Fragment, { kind: 'intervention' }>['content'] => ({
  sector: 'social',
  legalBasis: 'SEL §85',
  type: { system: 'urn:oid:1.2.208.176.2.22', code, display: `Ydelse ${code}` },
  title: `Ydelse ${code}`,
  responsibleUnit: 'Socialforvaltningen',
  contact: { name: 'Bo Bostøtte' },
  period: { start: '2026-12-01' },
  order: 0,
  dependsOn: [],
  status: 'active',
  goalIds: [],
  confidentiality: 'normal',
  topics: [],
});
const intervention = (elementId: string, code: string, formerElementId?: string): Fragment => ({ kind: 'intervention', elementId, category: 'interventions', content: content(code), ...(formerElementId ? { formerElementId } : {}) });
const merge = (plan: Plan, fragments: Fragment[], from: FragmentOrigin, at: string) =>
  mergeFragments(plan, fragments.map((fragment) => ({ fragment, origin: from, memberId: 'm-1' })), { at, ruleVersion: 'r1', readWhole: [{ system: from.system, recordId: from.recordId, recordVersion: from.recordVersion, mappingId: from.mappingId, mappingVersion: from.mappingVersion }] });
const ids = (plan: Plan) => plan.interventions.map((i) => i.id);
const entryOf = (element: Intervention) => element.provenance.find((p) => p.kind === 'source')!;

describe('a record version merged again by a newer version of its mapping', () => {
  it('keeps what the newer mapping still yields under the same id (its entry now names the newer mapping), and takes back what it no longer yields', () => {
    const before = merge(planWith([member]), [intervention('same', 'a'), intervention('dropped', 'b')], origin('7', '1.2.0'), times[0]!).plan;
    const outcome = merge(before, [intervention('same', 'a')], origin('7', '1.3.0'), times[1]!);
    expect(ids(outcome.plan)).toEqual(['same']);
    expect(entryOf(outcome.plan.interventions[0]!)).toMatchObject({ recordVersion: '7', mappingVersion: '1.3.0' });
    expect(outcome.withdrawn).toEqual([{ system: 'social', recordId: 'cp-1', elementId: 'dropped', removed: true }]);
  });

  it('takes nothing back when read again by the same mapping version, nor by an older one (two versions running side by side)', () => {
    const before = merge(planWith([member]), [intervention('same', 'a'), intervention('other', 'b')], origin('7', '1.3.0'), times[0]!).plan;
    expect(merge(before, [intervention('same', 'a')], origin('7', '1.3.0'), times[1]!).withdrawn).toEqual([]);
    const older = merge(before, [intervention('same', 'a')], origin('7', '1.2.0'), times[1]!);
    expect(older.withdrawn).toEqual([]);
    expect(ids(older.plan)).toEqual(['same', 'other']);
  });

  it('moves an element to its new name with what names it, where the older mapping read this very version', () => {
    const before = merge(planWith([member]), [intervention('pos-0', 'a'), intervention('pos-1', 'b')], origin('7', '1.2.0'), times[0]!).plan;
    const withFollowUp = { ...before, followUps: [followUp('f-1', { elementId: 'pos-1' })], interventions: before.interventions.map((i) => (i.id === 'pos-0' ? { ...i, dependsOn: ['pos-1'] } : i)) };
    const outcome = merge(withFollowUp, [intervention('key-a', 'a', 'pos-0'), intervention('key-b', 'b', 'pos-1')], origin('7', '1.3.0'), times[1]!);
    expect(ids(outcome.plan)).toEqual(['key-a', 'key-b']);
    expect(outcome.plan.followUps[0]).toMatchObject({ id: 'f-1', elementId: 'key-b' });
    expect(outcome).toMatchObject({ added: 0, withdrawn: [], renamed: [{ system: 'social', recordId: 'cp-1', from: 'pos-0', to: 'key-a' }, { system: 'social', recordId: 'cp-1', from: 'pos-1', to: 'key-b' }] });
    // The new mapping's content is taken (`dependsOn` it does not say is its own content now).
    expect(outcome.plan.interventions[0]).toMatchObject({ dependsOn: [] });
  });

  it('does not move it when this version is not the one the older mapping read, nor when a fragment of the merge still carries the old name', () => {
    const before = merge(planWith([member]), [intervention('pos-0', 'a'), intervention('pos-1', 'b')], origin('7', '1.2.0'), times[0]!).plan;
    const changed = merge(before, [intervention('key-b', 'b', 'pos-0')], origin('8', '1.3.0'), times[1]!);
    expect(changed.renamed).toEqual([]);
    expect(ids(changed.plan)).toEqual(['key-b']);
    const clash = merge(before, [intervention('key-a', 'a', 'pos-0'), intervention('pos-0', 'c')], origin('7', '1.3.0'), times[1]!);
    expect(clash.renamed).toEqual([]);
    expect(ids(clash.plan).sort()).toEqual(['key-a', 'pos-0']);
  });

  it('compares mapping versions number by number', () => {
    expect(isOlderMappingVersion('1.2.0', '1.3.0')).toBe(true);
    expect(isOlderMappingVersion('1.9.0', '1.10.0')).toBe(true);
    expect(isOlderMappingVersion('1.10.0', '1.9.0')).toBe(false);
    expect(isOlderMappingVersion('2.0', '1.9.9')).toBe(false);
    expect(isOlderMappingVersion('1.3', '1.3.0')).toBe(false);
  });
});
