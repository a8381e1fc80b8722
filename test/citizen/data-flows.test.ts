/** The citizen's log of where their data went, in plain Danish (R13, R11): pure parts. */
import { describe, expect, it } from 'vitest';
import type { ConsentGrant, LegalBasisRecord } from '../../src/model';
import type { AuditRow } from '../../src/store';
import { danishDateTime, describeDataFlows } from '../../src/views';

const me = 'c-me';
let seq = 0;
const row = (action: string, at: string, detail: Record<string, unknown>, citizenId: string | null = me): AuditRow => ({
  tenant: '101',
  seq: ++seq,
  at,
  actor: 'system:sync',
  action,
  targetType: 'plan',
  targetId: 'plan-1',
  citizenId,
  detail,
  prevHash: 'x',
  hash: 'y',
});

const grant: ConsentGrant = {
  id: 'g-1',
  tenant: '101',
  citizenId: me,
  grantedBy: { citizenId: me, capacity: 'self' },
  source: 'dfdg',
  recipient: 'enplan',
  categories: ['employment', 'interventions'],
  explicitHealth: false,
  purpose: 'At samle dine planer i én plan.',
  validFrom: '2026-11-01',
  validTo: '2027-10-31',
  signed: { method: 'mitid', documentRef: 'doc-1', textVersion: 'samtykke-v3', language: 'ar' },
  createdAt: '2026-11-01T09:00:00.000Z',
};
const custodyGrant: ConsentGrant = { ...grant, id: 'g-2', grantedBy: { citizenId: 'c-mother', capacity: 'custody-holder' }, createdAt: '2026-11-02T09:00:00.000Z' };
const record: LegalBasisRecord = {
  id: 'lb-1',
  tenant: '101',
  citizenId: me,
  source: 'social',
  recipient: 'enplan',
  categories: ['social'],
  basis: 'SEL § 49 b',
  recordedBy: 'caseworker:anna',
  recordedAt: '2026-11-05T13:00:00.000Z',
  citizenInformed: false,
};

describe('Danish time', () => {
  it('is CET in winter and CEST in summer, switching at 01:00 UTC on the last Sundays of March and October', () => {
    expect(danishDateTime('2026-11-23T09:04:00.000Z')).toBe('23. november 2026 kl. 10.04');
    expect(danishDateTime('2026-06-10T08:30:00.000Z')).toBe('10. juni 2026 kl. 10.30');
    expect(danishDateTime('2026-03-29T00:59:00.000Z')).toBe('29. marts 2026 kl. 01.59');
    expect(danishDateTime('2026-03-29T01:00:00.000Z')).toBe('29. marts 2026 kl. 03.00');
    expect(danishDateTime('2026-10-25T00:59:00.000Z')).toBe('25. oktober 2026 kl. 02.59');
    expect(danishDateTime('2026-10-25T01:00:00.000Z')).toBe('25. oktober 2026 kl. 02.00');
    expect(danishDateTime('2026-12-31T23:30:00.000Z')).toBe('1. januar 2027 kl. 00.30');
  });
});

describe('describeDataFlows', () => {
  const rows = [
    row('data.flowed', '2026-11-23T09:04:00.000Z', { source: 'dfdg', recipient: 'enplan', categories: ['employment', 'interventions'], basis: 'consent', consentRefs: ['g-1'], elements: 3 }),
    row('data.flowed', '2026-11-24T07:00:00.000Z', { source: 'social', recipient: 'enplan', categories: ['social'], basis: 'legal-basis', legalBasis: 'SEL § 49 b', consentRefs: ['lb-1'] }),
    row('data.refused', '2026-11-24T08:00:00.000Z', { source: 'health', recipient: 'enplan', categories: ['health'], reason: 'health data needs explicit consent (Sundhedsloven §43)' }),
    row('delivery.delivered', '2026-11-25T10:15:00.000Z', { target: 'dfdg', operation: 'upsert-activity', categories: ['interventions'], basis: 'consent', consentRefs: ['g-1', 'g-2'] }),
    row('data.flowed', '2026-11-26T10:00:00.000Z', { source: 'enplan', recipient: 'municipality:751', categories: ['goals'], basis: 'consent', consentRefs: ['g-1'] }),
    row('plan.read', '2026-11-27T10:00:00.000Z', { view: 'provider', recipient: 'provider:bo-tilbud', categories: ['interventions', 'goals'], elements: 1 }),
    // A caseworker opened the plan: told too, one line per day.
    row('plan.read', '2026-11-27T11:00:00.000Z', { view: 'caseworker' }),
    // Not this citizen's: someone else's flow.
    row('data.flowed', '2026-11-27T12:00:00.000Z', { source: 'dfdg', recipient: 'enplan', categories: ['employment'], basis: 'consent', consentRefs: ['g-x'] }, 'c-someone-else'),
  ];
  const result = describeDataFlows(me, rows, [grant, custodyGrant], [record]);

  it('tells each flow in one plain Danish sentence: when, from which system, to whom, what, on which basis', () => {
    const sentence = result.flows.find((f) => f.at === '2026-11-23T09:04:00.000Z')!;
    expect(sentence).toMatchObject({ kind: 'flowed', source: 'dfdg', recipient: 'enplan', categories: ['employment', 'interventions'], basis: 'consent', consentRefs: ['g-1'] });
    expect(sentence.text).toBe(
      'Den 23. november 2026 kl. 10.04 sendte Jobcentret (DFDG) oplysninger om beskæftigelse og indsatser til din Én plan. Grundlag: dit samtykke af 1. november 2026.',
    );
  });

  it('names a legal basis used without consent, and whether the citizen has been told', () => {
    const flow = result.flows.find((f) => f.source === 'social')!;
    expect(flow.basis).toBe('legal-basis');
    expect(flow.text).toBe(
      'Den 24. november 2026 kl. 08.00 sendte socialforvaltningens fagsystem oplysninger om sociale forhold til din Én plan. Grundlag: SEL § 49 b (uden samtykke; kommunen skal orientere dig).',
    );
  });

  it('says what was not sent, and why', () => {
    expect(result.flows.find((f) => f.kind === 'refused')!.text).toBe(
      'Den 24. november 2026 kl. 09.00 blev oplysninger om helbred fra regionens sundhedssystem ikke sendt til din Én plan, fordi helbredsoplysninger kræver dit udtrykkelige samtykke.',
    );
  });

  it('tells deliveries to sector systems, other municipalities and what a provider saw', () => {
    expect(result.flows.find((f) => f.kind === 'delivered')!.text).toBe(
      'Den 25. november 2026 kl. 11.15 sendte din Én plan oplysninger om indsatser til Jobcentret (DFDG). Grundlag: dit samtykke af 1. november 2026 og samtykke fra forældremyndighedsindehaveren af 2. november 2026.',
    );
    expect(result.flows.find((f) => f.recipient === 'municipality:751')!.text).toBe(
      'Den 26. november 2026 kl. 11.00 sendte din Én plan oplysninger om mål til Aarhus Kommune. Grundlag: dit samtykke af 1. november 2026.',
    );
    expect(result.flows.find((f) => f.recipient.startsWith('provider:'))!.text).toMatch(/^Den 27\. november 2026 kl\. 11\.00 så leverandøren bo-tilbud oplysninger om indsatser og mål i din Én plan\./);
  });

  it('tells when the municipality’s caseworkers opened the plan: one line per Danish day, with the count and the last time', () => {
    const reads = describeDataFlows(me, [
      row('plan.read', '2026-11-24T08:02:00.000Z', { view: 'caseworker' }),
      row('plan.looked-up', '2026-11-24T09:15:00.000Z', {}),
      row('plan.read', '2026-11-24T13:40:00.000Z', { view: 'caseworker' }),
      // 23:30 UTC is the next day in Denmark.
      row('plan.read', '2026-11-24T23:30:00.000Z', { view: 'caseworker' }),
      // The citizen's own reads are not told back to them; another citizen's are not theirs.
      row('plan.read', '2026-11-24T10:00:00.000Z', { view: 'citizen' }),
      row('plan.read', '2026-11-24T10:00:00.000Z', { view: 'caseworker' }, 'c-other'),
    ], [grant], []);
    expect(reads.flows.map((f) => [f.kind, f.recipient, f.text])).toEqual([
      ['viewed', 'caseworker', 'Den 25. november 2026 kl. 00.30 åbnede en sagsbehandler i kommunen din Én plan.'],
      ['viewed', 'caseworker', 'Den 24. november 2026 åbnede kommunens sagsbehandlere din Én plan 3 gange, senest kl. 14.40, og den blev fundet ved en søgning på CPR-nummeret.'],
    ]);
  });

  it('names the department a caseworker read as, where the token named one', () => {
    const reads = describeDataFlows(me, [
      row('plan.read', '2026-11-24T08:02:00.000Z', { view: 'caseworker', department: 'social' }),
      row('plan.read', '2026-11-25T08:02:00.000Z', { view: 'caseworker', department: 'social' }),
      row('plan.looked-up', '2026-11-25T09:15:00.000Z', { department: 'employment' }),
      row('plan.read', '2026-11-25T10:00:00.000Z', { view: 'caseworker' }),
    ], [grant], []);
    expect(reads.flows.map((f) => f.text)).toEqual([
      'Den 25. november 2026 åbnede kommunens sagsbehandlere fra Jobcentret og socialforvaltningen din Én plan 3 gange, senest kl. 11.00, og den blev fundet ved en søgning på CPR-nummeret.',
      'Den 24. november 2026 kl. 09.02 åbnede en sagsbehandler fra socialforvaltningen din Én plan.',
    ]);
  });

  it('reads a delivery recorded with a single category and consentRef too', () => {
    const single = describeDataFlows(me, [row('delivery.delivered', '2026-11-25T10:15:00.000Z', { target: 'education', category: 'goals', basis: 'consent', consentRef: 'g-1' })], [grant], []);
    expect(single.flows[0]).toMatchObject({ categories: ['goals'], consentRefs: ['g-1'] });
    expect(single.flows[0]!.text).toBe('Den 25. november 2026 kl. 11.15 sendte din Én plan oplysninger om mål til Ungedatabasen (uddannelse). Grundlag: dit samtykke af 1. november 2026.');
  });

  it('lists only this citizen’s flows, newest first', () => {
    expect(result.flows).toHaveLength(7);
    expect(result.flows.map((f) => f.at)).toEqual([...result.flows.map((f) => f.at)].sort().reverse());
  });

  it('shows the consents with purpose, validity, the text version and language signed', () => {
    const own = result.consents.find((c) => c.id === 'g-1')!;
    expect(own).toMatchObject({ grantedBy: 'self', textVersion: 'samtykke-v3', language: 'ar', revokedAt: null });
    expect(own.text).toBe(
      'Den 1. november 2026 gav du samtykke til, at Jobcentret (DFDG) må sende oplysninger om beskæftigelse og indsatser til din Én plan. Formål: At samle dine planer i én plan. Samtykket gælder fra 1. november 2026 til og med 31. oktober 2027. Du kan til enhver tid trække det tilbage.',
    );
    const revoked = describeDataFlows(me, [], [{ ...grant, revokedAt: '2026-12-01T12:00:00.000Z' }], []).consents[0]!;
    expect(revoked.text).toContain('Samtykket blev trukket tilbage den 1. december 2026 kl. 13.00.');
    expect(result.consents.find((c) => c.id === 'g-2')!.text).toMatch(/gav forældremyndighedsindehaveren samtykke/);
  });

  it('tells what left the plan when a grant was revoked or lapsed, and that the source keeps its own', () => {
    const revokedGrant = { ...grant, revokedAt: '2026-12-01T12:00:00.000Z' };
    const revocation = row('plan.consent-data-removed', '2026-12-01T12:00:01.000Z', { grantId: 'g-1', removedElements: ['a', 'b', 'c'], keptElements: ['d'] });
    revocation.actor = 'caseworker:anna';
    const [removed] = describeDataFlows(me, [revocation], [revokedGrant], []).flows;
    expect(removed).toMatchObject({ kind: 'removed', source: 'dfdg', recipient: 'enplan', categories: ['employment', 'interventions'], basis: 'consent', consentRefs: ['g-1'] });
    expect(removed!.text).toBe(
      'Den 1. december 2026 kl. 13.00 blev 3 punkter med oplysninger fra Jobcentret (DFDG) fjernet fra din Én plan, fordi dit samtykke af 1. november 2026 blev trukket tilbage. ' +
        'Ét punkt blev i planen, fordi det også er kommet på et andet grundlag, som stadig gælder. Jobcentret (DFDG) har stadig sine egne oplysninger.',
    );
    const lapse = row('plan.consent-data-removed', '2027-11-01T02:30:00.000Z', { grantId: 'g-1', removedElements: ['a'], keptElements: [] });
    lapse.actor = 'system:consent-expiry';
    expect(describeDataFlows(me, [lapse], [grant], []).flows[0]!.text).toBe(
      'Den 1. november 2027 kl. 03.30 blev ét punkt med oplysninger fra Jobcentret (DFDG) fjernet fra din Én plan, fordi dit samtykke af 1. november 2026 udløb (det gjaldt til og med 31. oktober 2027). Jobcentret (DFDG) har stadig sine egne oplysninger.',
    );
    // Nothing removed (all of it rested on another basis too), or a grant the citizen's list no longer holds: still told, without guessing.
    const allKept = row('plan.consent-data-removed', '2026-12-01T12:00:01.000Z', { grantId: 'g-gone', removedElements: [], keptElements: ['d', 'e'] });
    expect(describeDataFlows(me, [allKept], [], []).flows[0]!.text).toBe(
      'Den 1. december 2026 kl. 13.00 ophørte grundlaget for oplysninger fra fagsystemet i din Én plan, fordi et samtykke blev trukket tilbage. 2 punkter blev i planen, fordi de også er kommet på et andet grundlag, som stadig gælder. Fagsystemet har stadig sine egne oplysninger.',
    );
  });

  it('says of a grant whose period has ended that it no longer carries anything', () => {
    expect(describeDataFlows(me, [], [grant], [], { today: '2027-10-31' }).consents[0]!.text).toMatch(/Du kan til enhver tid trække det tilbage\.$/);
    expect(describeDataFlows(me, [], [grant], [], { today: '2027-11-01' }).consents[0]!.text).toMatch(/Samtykket er udløbet\. Siden da sendes der intet på det, og oplysninger, der kun var kommet via det, fjernes fra din plan\.$/);
  });

  it('shows legal-basis records with the basis and whether the citizen was told', () => {
    expect(result.legalBases[0]!.text).toBe(
      'Den 5. november 2026 registrerede kommunen, at socialforvaltningens fagsystem sender oplysninger om sociale forhold til din Én plan uden dit samtykke. Grundlag: SEL § 49 b. Kommunen skal orientere dig om det.',
    );
    const told = describeDataFlows(me, [], [], [{ ...record, citizenInformed: true, informedAt: '2026-11-06T09:00:00.000Z' }]).legalBases[0]!;
    expect(told.text).toMatch(/Kommunen orienterede dig om det den 6\. november 2026\.$/);
  });
});
