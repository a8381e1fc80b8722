/**
 * The citizen's log of where their data went (R13): every flow recorded in the audit log — from
 * which system, to which party, when, which categories, on which consent or legal basis — with a
 * plain Danish sentence each, plus their consents and the legal bases used without consent (R11).
 * Pure: the service reads the rows and consents and hands them here.
 *
 * Audit convention read here (written by the sync engine, the delivery relay and the views):
 * - `data.flowed`        { source, recipient, categories, basis: 'consent'|'legal-basis', consentRefs?, legalBasis?, elements? }
 * - `data.refused`       { source, recipient, categories, reason }
 * - `delivery.delivered` { target, operation, categories, basis, consentRefs?, legalBasis? }
 *   (a single `category` / `consentRef`, as the relay writes them today, is read too)
 * - `plan.read` with `recipient: 'provider:<id>'` — a provider looked at its part of the plan.
 * - `plan.read` with `view: 'caseworker'`, and `plan.looked-up` (found by CPR number) — the
 *   municipality's caseworkers opened the plan; one line per day with the count. One with
 *   `departmentInPlan: false` (a department that takes no part in the plan, src/views/involvement.ts)
 *   gets a line of its own.
 * - `plan.party-added` / `plan.party-removed` { department } — a department was made a party to the
 *   plan by record, or stopped being one (src/plans/parties.ts).
 * - `citizen.data-flows-read-by-custody-holder` { flows } — a custody holder looked at where this child's data went.
 * - `data-subject.access-log-read` — the DPO read who used this citizen's data.
 * - `quarantine.payload-read` { adapter, recordType, purpose, anonymousTreatment } — IT staff looked at a record of theirs
 *   that failed its mapping (src/sync/quarantine.ts), CPR numbers masked; `anonymousTreatment`: it may
 *   concern SEL § 101 a (then never told to a custody holder).
 *   (`quarantine.payload-open-refused` { …, refusal }, an attempt that showed nothing, is for the DPO's log only: not read here.)
 * - `plan.consent-data-removed` { grantId, removedElements, keptElements } — what flowed on a
 *   grant left the plan when it was revoked (R10) or lapsed (actor `system:consent-expiry`); with
 *   `regionalConsent`, `source` and `reason` instead of `grantId`, because the region's own consent
 *   to share with the municipality ended (the sync engine, src/consent/regional.ts).
 */
import type { ConsentGrant, LegalBasisRecord } from '../model';
import type { AuditRow } from '../store';
import { capitalise, categoriesInDanish, danishClock, danishDate, danishDateTime, danishList, partyName, refusalInDanish, systemName } from './danish';

/** Audit action: a custody holder read where a child's data went (shown in the child's own log). */
/** The audit action of an access report (GDPR art. 15) made for the citizen; shown in their own log. */
export const ACCESS_REPORT = 'data-subject.access-report';
export const CUSTODY_HOLDER_READ = 'citizen.data-flows-read-by-custody-holder';
/** The audit action of the DPO reading who used a citizen's data; shown in the citizen's own log. */
export const ACCESS_LOG_READ = 'data-subject.access-log-read';
/** The audit action of IT staff reading (or previewing) a quarantined record's payload; shown in the citizen's own log. */
export const QUARANTINE_PAYLOAD_READ = 'quarantine.payload-read';
/** The audit action of IT staff's attempt to open a quarantined payload that was refused (pruned, absent, unreadable): in the DPO's access log, not the citizen's. */
export const QUARANTINE_PAYLOAD_OPEN_REFUSED = 'quarantine.payload-open-refused';

export type FlowKind = 'flowed' | 'refused' | 'delivered' | 'viewed' | 'removed' | 'party';

/** An entry that tells of a look or a change of parties, not of data flowing: no categories, no basis. */
const notice = (at: string, about: About, kind: FlowKind, source: string, recipient: string, text: string): DataFlowEntry => ({ at, about, kind, source, recipient, categories: [], basis: null, consentRefs: [], legalBasis: null, text });

/** Whose data an entry is about: the reader's own, or (for a custody holder) a child's. */
export interface About {
  relation: 'self' | 'child';
  citizenId: string;
  /** For a child: their birth date, which is how the reader tells their children apart (no names are held). */
  birthDate?: string;
}

export interface DataFlowEntry {
  at: string;
  about: About;
  kind: FlowKind;
  /** The system the data came from (`enplan` for data leaving the Én plan). */
  source: string;
  /** The party that received (or, when refused, would have received) it. */
  recipient: string;
  categories: string[];
  basis: 'consent' | 'legal-basis' | null;
  consentRefs: string[];
  legalBasis: string | null;
  text: string;
}

export interface ConsentEntry {
  id: string;
  about: About;
  source: string;
  recipient: string;
  categories: string[];
  explicitHealth: boolean;
  purpose: string;
  validFrom: string;
  validTo: string | null;
  grantedAt: string;
  grantedBy: 'self' | 'custody-holder' | 'guardian';
  textVersion: string;
  language: string;
  /** Where the words they agreed to can be read (`GET`, R15); 404 where the municipality keeps no copy. */
  textPath: string;
  revokedAt: string | null;
  text: string;
}

export interface LegalBasisEntry {
  id: string;
  source: string;
  recipient: string;
  categories: string[];
  basis: string;
  recordedAt: string;
  validTo: string | null;
  citizenInformed: boolean;
  informedAt: string | null;
  text: string;
}

export interface CitizenDataFlows {
  flows: DataFlowEntry[];
  consents: ConsentEntry[];
  legalBases: LegalBasisEntry[];
}

const strings = (value: unknown): string[] => (Array.isArray(value) ? value.filter((v): v is string => typeof v === 'string') : []);
const text = (value: unknown): string => (typeof value === 'string' ? value : '');

/** The actor the nightly job writes when a grant's period ended (src/consent/service.ts). */
const LAPSE_ACTOR = 'system:consent-expiry';

/** Describing a child's flows to a custody holder: whose log it is read by, and the child's birth date. */
export interface ChildReading {
  readerCitizenId: string;
  birthDate: string;
}

export interface DescribeOptions {
  /** YYYY-MM-DD: tells a grant whose period has ended from one still running; without it the consents are described without that judgement. */
  today?: string;
  /**
   * The rows and grants are a child's, read by a custody holder: the sentences say so, and the
   * reader's own consent is "dit samtykke". Which of a child's rows a custody holder may see is the
   * caller's decision (src/views/citizen.ts).
   */
  child?: ChildReading;
}

export function describeDataFlows(citizenId: string, rows: readonly AuditRow[], grants: readonly ConsentGrant[], legalBases: readonly LegalBasisRecord[], { today, child }: DescribeOptions = {}): CitizenDataFlows {
  const about: About = child ? { relation: 'child', citizenId, birthDate: child.birthDate } : { relation: 'self', citizenId };
  const reader = child?.readerCitizenId ?? citizenId;
  const concerning = child ? ` vedrørende dit barn (født ${danishDate(child.birthDate)})` : '';
  const grantById = new Map(grants.map((g) => [g.id, g]));
  const recordById = new Map(legalBases.map((r) => [r.id, r]));

  const grantPhrase = (grant: ConsentGrant) => {
    const date = danishDate(grant.createdAt);
    if (grant.grantedBy.citizenId === reader && (grant.grantedBy.capacity === 'self' || child)) return `dit samtykke af ${date}`;
    if (grant.grantedBy.capacity === 'guardian') return `samtykke fra din værge af ${date}`;
    return `samtykke fra forældremyndighedsindehaveren af ${date}`;
  };
  const recordPhrase = (record: LegalBasisRecord) =>
    `${record.basis} (uden samtykke; ${record.citizenInformed && record.informedAt ? `kommunen orienterede dig den ${danishDate(record.informedAt)}` : 'kommunen skal orientere dig'})`;

  function basisPhrase(basis: string, refs: string[], legalBasis: string): string {
    const phrases = refs.map((ref) => {
      const grant = grantById.get(ref);
      if (grant) return grantPhrase(grant);
      const record = recordById.get(ref);
      return record ? recordPhrase(record) : null;
    });
    const known = phrases.filter((p): p is string => !!p);
    if (known.length > 0) return danishList(known);
    if (basis === 'legal-basis') return legalBasis ? `${legalBasis} (uden samtykke)` : 'et lovgrundlag uden samtykke';
    return 'dit samtykke';
  }

  const flows: DataFlowEntry[] = [];
  // A caseworker opening the plan is one line per day, not one per opening: the log stays readable.
  const caseworkerReads = new Map<string, { entry: DataFlowEntry; openings: number; lookedUp: boolean; departments: Set<string> }>();
  for (const row of rows) {
    if (row.citizenId !== citizenId) continue;
    const d = row.detail;
    const categories = [...new Set([...strings(d.categories), ...strings([d.category])])];
    const cats = categoriesInDanish(categories);
    const when = danishDateTime(row.at);
    // `consentRefs` per the convention; a single `consentRef` is read too.
    // A child's flow names to a custody holder only the consents they gave, not the other parent's.
    const consentRefs = [...new Set([...strings(d.consentRefs), ...strings([d.consentRef])])].filter((ref) => !child || grantById.has(ref));
    const legalBasis = text(d.legalBasis);
    const basis = d.basis === 'consent' || d.basis === 'legal-basis' ? d.basis : null;
    if (row.action === 'data.flowed') {
      const source = text(d.source);
      const recipient = text(d.recipient);
      flows.push({
        at: row.at,
        about,
        kind: 'flowed',
        source,
        recipient,
        categories,
        basis,
        consentRefs,
        legalBasis: legalBasis || null,
        text: `Den ${when} sendte ${systemName(source)} oplysninger om ${cats}${concerning} til ${partyName(recipient)}. Grundlag: ${basisPhrase(basis ?? '', consentRefs, legalBasis)}.`,
      });
    } else if (row.action === 'data.refused') {
      const source = text(d.source);
      const recipient = text(d.recipient);
      flows.push({
        at: row.at,
        about,
        kind: 'refused',
        source,
        recipient,
        categories,
        basis: null,
        consentRefs: [],
        legalBasis: null,
        text: `Den ${when} blev oplysninger om ${cats}${concerning} fra ${systemName(source)} ikke sendt til ${partyName(recipient)}, fordi ${refusalInDanish(text(d.reason))}.`,
      });
    } else if (row.action === 'delivery.delivered') {
      const target = text(d.target);
      flows.push({
        at: row.at,
        about,
        kind: 'delivered',
        source: 'enplan',
        recipient: target,
        categories,
        basis,
        consentRefs,
        legalBasis: legalBasis || null,
        text: `Den ${when} sendte din Én plan oplysninger om ${cats} til ${systemName(target)}. Grundlag: ${basisPhrase(basis ?? '', consentRefs, legalBasis)}.`,
      });
    } else if (row.action === 'plan.consent-data-removed') {
      // What left the plan when a grant ended: the citizen should see their data go as well as come (R10, R13).
      // `grantId` names a grant, or a legal-basis record whose period ended (R11).
      const grantId = text(d.grantId);
      const grant = grantById.get(grantId);
      const record = grant ? undefined : recordById.get(grantId);
      // Or no grant at all: the source's own consent to share ended (`regionalConsent`, the sync engine).
      const regional = !grant && !record && !!d.regionalConsent;
      const source = grant?.source ?? record?.source ?? (regional ? text(d.source) : '');
      const removed = strings(d.removedElements).length;
      const kept = strings(d.keptElements).length;
      const whose = grant ? grantPhrase(grant) : 'et samtykke';
      const why = regional
        ? refusalInDanish(text(d.reason))
        : record
        ? row.actor !== LAPSE_ACTOR && record.endedAt
          ? `kommunen afsluttede det lovgrundlag, de var delt på uden dit samtykke (${record.basis}), den ${danishDate(record.endedAt)}`
          : `det lovgrundlag, de var delt på uden dit samtykke (${record.basis}), ophørte${record.validTo ? ` (det gjaldt til og med ${danishDate(record.validTo)})` : ''}`
        : row.actor === LAPSE_ACTOR ? `${whose} udløb${grant?.validTo ? ` (det gjaldt til og med ${danishDate(grant.validTo)})` : ''}` : `${whose} blev trukket tilbage`;
      const from = source ? systemName(source) : 'fagsystemet';
      const points = (n: number) => (n === 1 ? 'ét punkt' : `${n} punkter`);
      const sentences = [
        removed > 0
          ? `Den ${when} blev ${points(removed)} med oplysninger fra ${from} fjernet fra din Én plan, fordi ${why}.`
          : `Den ${when} ophørte grundlaget for oplysninger fra ${from} i din Én plan, fordi ${why}.`,
        ...(kept > 0 ? [`${capitalise(points(kept))} blev i planen, fordi ${kept === 1 ? 'det' : 'de'} også er kommet på et andet grundlag, som stadig gælder.`] : []),
        `${capitalise(from)} har stadig sine egne oplysninger.`,
      ];
      flows.push({
        at: row.at,
        about,
        kind: 'removed',
        source,
        recipient: 'enplan',
        categories: grant?.categories ?? record?.categories ?? [],
        basis: record ? 'legal-basis' : 'consent',
        consentRefs: grantId ? [grantId] : [],
        legalBasis: record?.basis ?? null,
        text: sentences.join(' '),
      });
    } else if (row.action === CUSTODY_HOLDER_READ && !child) {
      flows.push(notice(row.at, about, 'viewed', 'enplan', 'custody-holder', `Den ${when} så din forældremyndighedsindehaver, hvor oplysninger om dig er sendt hen på de samtykker, vedkommende har givet for dig.`));
    } else if (row.action === ACCESS_LOG_READ && !child) {
      flows.push(notice(row.at, about, 'viewed', 'enplan', 'dpo', `Den ${when} gennemgik kommunens databeskyttelsesrådgiver loggen over, hvem der har set og brugt dine oplysninger i Én plan.`));
    } else if (row.action === QUARANTINE_PAYLOAD_READ) {
      // To a custody holder only as the caller chose (src/views/citizen.ts): never a look that may concern anonymous treatment.
      const source = text(d.adapter);
      flows.push(notice(row.at, about, 'viewed', source, 'it-staff', `Den ${when} så en it-medarbejder i kommunen oplysninger om ${child ? `dit barn (født ${danishDate(child.birthDate)})` : 'dig'} fra ${source ? systemName(source) : 'et fagsystem'}, som Én plan ikke kunne læse ind i ${child ? 'barnets' : 'din'} plan, for at finde fejlen. CPR-numre var skjult.`));
    } else if (row.action === ACCESS_REPORT && !child) {
      flows.push(notice(row.at, about, 'viewed', 'enplan', 'caseworker', `Den ${when} tog kommunen en udskrift af alt, hvad Én plan har om dig, til at besvare en anmodning om indsigt (databeskyttelsesforordningens artikel 15).`));
    } else if ((row.action === 'plan.party-added' || row.action === 'plan.party-removed') && typeof d.department === 'string') {
      const department = partyName(d.department);
      const whose = child ? 'dit barns' : 'din';
      const told =
        row.action === 'plan.party-added'
          ? `Den ${when} gjorde kommunen ${department} til part i ${whose} Én plan. ${capitalise(department)} kan nu se det af planen, som ${child ? 'samtykket' : 'dit samtykke'} giver alle planens parter.`
          : `Den ${when} holdt ${department} op med at være part i ${whose} Én plan.`;
      flows.push(notice(row.at, about, 'party', 'enplan', d.department, told));
    } else if (((row.action === 'plan.read' && d.view === 'caseworker') || row.action === 'plan.looked-up') && d.departmentInPlan === false && typeof d.department === 'string') {
      // A department that takes no part in the plan opened it: told on its own, never folded into the day's reads.
      const department = partyName(d.department);
      flows.push(notice(row.at, about, 'viewed', 'enplan', 'caseworker', `Den ${danishDate(row.at)} kl. ${danishClock(row.at)} åbnede en sagsbehandler fra ${department} ${child ? 'dit barns' : 'din'} Én plan${row.action === 'plan.looked-up' ? ' efter at have søgt på CPR-nummeret' : ''}, selv om ${department} ikke er part i planen. Det er registreret, hvem det var, og kommunens databeskyttelsesrådgiver kan se det.`));
    } else if ((row.action === 'plan.read' && d.view === 'caseworker') || row.action === 'plan.looked-up') {
      const day = danishDate(row.at);
      const seen = caseworkerReads.get(day);
      const group = seen ?? { entry: notice(row.at, about, 'viewed', 'enplan', 'caseworker', ''), openings: 0, lookedUp: false, departments: new Set<string>() };
      group.openings++;
      group.lookedUp ||= row.action === 'plan.looked-up';
      // Which department read it, where the caseworker's token named one (R13: who saw what).
      if (typeof d.department === 'string') group.departments.add(d.department);
      const from = group.departments.size > 0 ? ` fra ${danishList([...group.departments].sort().map(partyName))}` : '';
      group.entry.at = row.at;
      const clock = danishClock(row.at);
      const whose = child ? 'dit barns' : 'din';
      group.entry.text =
        group.openings === 1
          ? `Den ${day} kl. ${clock} åbnede en sagsbehandler ${from ? from.trim() : 'i kommunen'} ${whose} Én plan${group.lookedUp ? ' efter at have søgt på CPR-nummeret' : ''}.`
          : `Den ${day} åbnede kommunens sagsbehandlere${from} ${whose} Én plan ${group.openings} gange, senest kl. ${clock}${group.lookedUp ? ', og den blev fundet ved en søgning på CPR-nummeret' : ''}.`;
      if (!seen) {
        caseworkerReads.set(day, group);
        flows.push(group.entry);
      }
    } else if (row.action === 'plan.read' && text(d.recipient).startsWith('provider:')) {
      const recipient = text(d.recipient);
      flows.push({
        at: row.at,
        about,
        kind: 'viewed',
        source: 'enplan',
        recipient,
        categories,
        basis: null,
        consentRefs: [],
        legalBasis: null,
        text: `Den ${when} så ${partyName(recipient)} oplysninger om ${cats} i din Én plan. Leverandøren ser kun de indsatser, den selv udfører for kommunen, og de mål, de hører til.`,
      });
    }
  }
  flows.sort((a, b) => b.at.localeCompare(a.at));

  const consents: ConsentEntry[] = grants
    .filter((g) => g.citizenId === citizenId)
    .sort((a, b) => b.createdAt.localeCompare(a.createdAt))
    .map((g) => {
      const guardian = g.grantedBy.capacity === 'guardian';
      const who =
        g.grantedBy.capacity === 'self' ? 'du'
        : g.grantedBy.citizenId === reader ? (guardian ? 'du som værge' : 'du som forældremyndighedsindehaver')
        : guardian ? 'din værge'
        : 'forældremyndighedsindehaveren';
      const validity = `Samtykket gælder fra ${danishDate(g.validFrom)}${g.validTo ? ` til og med ${danishDate(g.validTo)}` : ', indtil det trækkes tilbage'}.`;
      const revoked = g.revokedAt
        ? ` Samtykket blev trukket tilbage den ${danishDateTime(g.revokedAt)}. Siden da sendes der intet på det, og oplysninger, der kun var kommet via det, er fjernet fra din plan.`
        : today && g.validTo && today > g.validTo
          ? ' Samtykket er udløbet. Siden da sendes der intet på det, og oplysninger, der kun var kommet via det, fjernes fra din plan.'
          : ' Du kan til enhver tid trække det tilbage.';
      return {
        id: g.id,
        about,
        source: g.source,
        recipient: g.recipient,
        categories: g.categories,
        explicitHealth: g.explicitHealth,
        purpose: g.purpose,
        validFrom: g.validFrom,
        validTo: g.validTo ?? null,
        grantedAt: g.createdAt,
        grantedBy: g.grantedBy.capacity,
        textVersion: g.signed.textVersion,
        language: g.signed.language,
        textPath: `/v1/consent-texts/${encodeURIComponent(g.signed.textVersion)}/${encodeURIComponent(g.signed.language)}`,
        revokedAt: g.revokedAt ?? null,
        text:
          `Den ${danishDate(g.createdAt)} gav ${who} samtykke til, at ${systemName(g.source)} må sende oplysninger om ${categoriesInDanish(g.categories)}${concerning} til ${partyName(g.recipient)}. ` +
          `Formål: ${g.purpose.replace(/[.\s]+$/, '')}. ${validity}${revoked}`,
      };
    });

  const legal: LegalBasisEntry[] = legalBases
    .filter((r) => r.citizenId === citizenId)
    .sort((a, b) => b.recordedAt.localeCompare(a.recordedAt))
    .map((r) => ({
      id: r.id,
      source: r.source,
      recipient: r.recipient,
      categories: r.categories,
      basis: r.basis,
      recordedAt: r.recordedAt,
      validTo: r.validTo ?? null,
      citizenInformed: r.citizenInformed,
      informedAt: r.informedAt ?? null,
      text:
        `${capitalise(`den ${danishDate(r.recordedAt)}`)} registrerede kommunen, at ${systemName(r.source)} sender oplysninger om ${categoriesInDanish(r.categories)} til ${partyName(r.recipient)} uden dit samtykke. ` +
        `Grundlag: ${r.basis}. ${r.citizenInformed && r.informedAt ? `Kommunen orienterede dig om det den ${danishDate(r.informedAt)}.` : 'Kommunen skal orientere dig om det.'}` +
        (r.endedAt
          ? ` Kommunen afsluttede grundlaget den ${danishDate(r.endedAt)}. Siden da sendes der intet på det, og oplysninger, der kun var kommet via det, er fjernet fra din plan.`
          : r.validTo ? (today && today > r.validTo ? ` Grundlaget gjaldt til og med ${danishDate(r.validTo)}. Siden da sendes der intet på det, og oplysninger, der kun var kommet via det, fjernes fra din plan.` : ` Grundlaget gælder til og med ${danishDate(r.validTo)}.`) : ''),
    }));

  return { flows, consents, legalBases: legal };
}
