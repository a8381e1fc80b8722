/**
 * The field-level write's three-way merge (`ownFieldPatch`, decision 0005 "Later … session 19"):
 * what we last sent, what we send now, and what the FHIR system holds now. Pure: no server.
 */
import { describe, expect, it } from 'vitest';
import { ownFieldPatch } from '../../adapters/fhir/fhir-adapter';

const sent = {
  resourceType: 'Goal',
  lifecycleStatus: 'proposed',
  description: { text: 'Stabil medicinering' },
  note: [{ text: 'Aftalt med borgeren' }],
  identifier: [{ system: 'urn:enplan:element', value: 'e-1' }],
};

describe('ownFieldPatch', () => {
  it('leaves a field both sides changed as they hold it and names it; a field only we changed takes ours', () => {
    const next = { ...sent, lifecycleStatus: 'active', description: { text: 'Stabil medicinering hjemme' } };
    const current = { ...sent, id: 'g1', meta: { versionId: '2' }, description: { text: 'Stabil medicin, aftalt i regionen' }, priority: { text: 'Høj' } };
    expect(ownFieldPatch(sent, next, current)).toEqual({
      operations: [{ op: 'add', path: '/lifecycleStatus', value: 'active' }],
      keptTheirs: ['/description/text'],
    });
  });

  it('writes ours where they hold what we last sent, and changes nothing they alone changed', () => {
    const next = { ...sent, description: { text: 'Ny titel' } };
    const current = { ...sent, lifecycleStatus: 'on-hold' };
    expect(ownFieldPatch(sent, next, current)).toEqual({ operations: [{ op: 'add', path: '/description/text', value: 'Ny titel' }], keptTheirs: [] });
  });

  it('a field we removed that they changed stays theirs; one they left is removed', () => {
    const withDate = { ...sent, startDate: '2027-01-01', statusDate: '2026-12-01' };
    const next = { ...sent };
    const current = { ...withDate, startDate: '2027-02-01' };
    expect(ownFieldPatch(withDate, next, current)).toEqual({ operations: [{ op: 'remove', path: '/statusDate' }], keptTheirs: ['/startDate'] });
  });

  it('writes ours over their change when the plan has seen it, or when a person chose ours', () => {
    const next = { ...sent, description: { text: 'Vores titel' } };
    const current = { ...sent, description: { text: 'Deres titel' } };
    const ours = { operations: [{ op: 'add', path: '/description/text', value: 'Vores titel' }], keptTheirs: [] };
    expect(ownFieldPatch(sent, next, current, { theirChangesSeen: true })).toEqual(ours);
    expect(ownFieldPatch(sent, next, current, { oursWins: true })).toEqual(ours);
    // Settled for ours after an earlier write kept theirs: what we send is what we sent, and it is written still.
    expect(ownFieldPatch(next, next, current, { oursWins: true })).toEqual(ours);
    expect(ownFieldPatch(next, next, current)).toEqual({ operations: [], keptTheirs: [] });
  });

  it('keeps their array entries beside ours: changed in place, added to, and removed from', () => {
    const theirNote = { text: 'Regionens note' };
    const current = { ...sent, note: [...sent.note, theirNote] };
    // An entry changed in place: item by item, their appended entry after ours.
    const changed = { ...sent, note: [{ text: 'Aftalt med borger og pårørende' }] };
    expect(ownFieldPatch(sent, changed, current).operations).toEqual([{ op: 'add', path: '/note', value: [{ text: 'Aftalt med borger og pårørende' }, theirNote] }]);
    // An entry added: ours, then theirs.
    const added = { ...sent, note: [...sent.note, { text: 'Opfølgning i januar' }] };
    expect(ownFieldPatch(sent, added, current).operations).toEqual([{ op: 'add', path: '/note', value: [...sent.note, { text: 'Opfølgning i januar' }, theirNote] }]);
    // Ours removed: gone, theirs stays.
    const removed = { ...sent, note: [] };
    expect(ownFieldPatch(sent, removed, current).operations).toEqual([{ op: 'add', path: '/note', value: [theirNote] }]);
    // They removed one of ours we did not change, and we added one: their removal stands.
    const twoSent = { ...sent, note: [{ text: 'a' }, { text: 'b' }] };
    expect(ownFieldPatch(twoSent, { ...twoSent, note: [{ text: 'a' }, { text: 'b' }, { text: 'c' }] }, { ...twoSent, note: [{ text: 'b' }] }).operations).toEqual([
      { op: 'add', path: '/note', value: [{ text: 'b' }, { text: 'c' }] },
    ]);
    // An entry both sides changed in place: theirs, named.
    const theirsChanged = { ...sent, note: [{ text: 'Regionens udgave' }] };
    expect(ownFieldPatch(sent, changed, theirsChanged)).toEqual({ operations: [], keptTheirs: ['/note/0/text'] });
  });

  it('an array whose entries cannot be joined (the contract) is a field both changed; without what we last sent every differing field is ours', () => {
    const current = { ...sent, note: [...sent.note, { text: 'Regionens note' }] };
    const changed = { ...sent, note: [{ text: 'Ny note' }] };
    expect(ownFieldPatch(sent, changed, current, { keepTheirArrayEntries: false })).toEqual({ operations: [], keptTheirs: ['/note'] });
    expect(ownFieldPatch(undefined, { ...changed, description: { text: 'Vores' } }, { ...current, description: { text: 'Deres', coding: [{ code: 'x' }] } })).toEqual({
      operations: [
        { op: 'add', path: '/description/text', value: 'Vores' },
        { op: 'add', path: '/note', value: [{ text: 'Ny note' }] },
      ],
      keptTheirs: [],
    });
  });
});
