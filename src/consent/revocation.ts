/**
 * What a revoked consent grant takes with it from a plan (R10, S3). Pure document logic; the
 * consent service loads the plans and grants, calls this, and writes the result.
 *
 * For every source provenance entry that may rest on the revoked grant, the flow into the plan is
 * decided again with `decideFlowIntoPlan` on what remains (the citizen's other grants and
 * legal-basis records, with the data category the entry flowed as and its source system).
 * An entry names one grant (`consentRef`), but a flow can rest on several — a young person of 16
 * or 17 needs their own grant and a custody holder's — so an entry on another of the citizen's
 * grants is reconsidered too when the revoked grant covers its source and category:
 * - still allowed → the entry is re-pointed to the grant (or legal-basis record) that now carries
 *   it, and to the departments alone it now may reach (`audience`) if that narrowed;
 * - not allowed, or the entry does not say which category it flowed as → the entry is dropped.
 * An element left without provenance is removed from the plan (the source system keeps its own
 * record); so is one whose content a dropped entry wrote (its last), unless an entry that stays
 * reported just that content (`contentWriterAfter`) — the words went with their flow, and the sources
 * that stay are to be read again (`readAgain`) to bring the element back in theirs. References to
 * removed elements are dropped so the plan stays valid; conflicts are treated the same way (a
 * conflicting value whose provenance is gone is no longer a value).
 */
import type { ConsentGrant, LegalBasisRecord, Plan, Provenance, SourceSystem } from '../model';
import { dropDanglingReferences, elementLists, type ElementList } from '../plans/references';
import { contentWriterAfter, creditedToWriter } from '../sync/merge';
import { decideFlowIntoPlan } from './policy';

export interface RevocationContext {
  /** The revoked grant. */
  grantId: string;
  /** Whose data the grant was about, and their birth date (whose consent counts depends on age). */
  citizenId: string;
  birthDate: string;
  at: Date;
  /** The citizen's grants (the revoked one may be among them; `decideFlow` ignores it once revoked). */
  grants: readonly ConsentGrant[];
  legalBases: readonly LegalBasisRecord[];
}

export interface RevocationOutcome {
  plan: Plan;
  changed: boolean;
  removed: { list: ElementList; id: string }[];
  /** Elements that carried the grant and stay, resting on another grant, legal basis, source or registration. */
  kept: { list: ElementList; id: string }[];
  /** Provenance entries now resting on another grant or a legal-basis record. */
  repointed: number;
  /** Provenance entries dropped because nothing else allows the flow. */
  dropped: number;
  detachedFollowUps: string[];
  droppedConflicts: string[];
  /** Sources whose entries stayed on an element removed with the words of a dropped entry: to be read again for the citizen. */
  readAgain: SourceSystem[];
}

/**
 * Which provenance entries the revocation of `grantId` must reconsider: those naming it, and those
 * naming another of the citizen's grants or legal-basis records (the revoked one among them) for a
 * source and category the revoked one covers — the flow may have needed both, or reached named
 * departments on each (`audience`).
 */
function restingOn(grantId: string, grants: readonly ConsentGrant[], legalBases: readonly LegalBasisRecord[]): (entry: Provenance) => boolean {
  const revoked = grants.find((g) => g.id === grantId) ?? legalBases.find((r) => r.id === grantId);
  const citizensRefs = new Set([...grants, ...legalBases].map((g) => g.id));
  return (entry) =>
    entry.kind === 'source' &&
    (entry.consentRef === grantId ||
      (!!revoked && !!entry.consentRef && citizensRefs.has(entry.consentRef) && entry.system === revoked.source && !!entry.category && revoked.categories.includes(entry.category)));
}

export function removeRevokedData(plan: Plan, context: RevocationContext): RevocationOutcome {
  const grants = context.grants.filter((g) => g.id !== context.grantId);
  const legalBases = context.legalBases.filter((r) => r.id !== context.grantId);
  return reconsiderEntries(plan, restingOn(context.grantId, context.grants, context.legalBases), { ...context, grants, legalBases });
}

/**
 * Decides again every entry resting on one of the citizen's own grants, on their grants as they
 * stand: whose consent counts changes with age (Barnets lov § 110: from 16 the young person's own as
 * well as the custody holder's; from 18 their own alone), so what a custody holder's consent let flow
 * for a child of 15 may rest on nothing the day they turn 16. Nothing is revoked; no grant is left out.
 */
export function reconsiderOnAge(plan: Plan, context: Omit<RevocationContext, 'grantId'>): RevocationOutcome {
  const own = new Set(context.grants.filter((g) => g.citizenId === context.citizenId).map((g) => g.id));
  return reconsiderEntries(plan, (entry) => entry.kind === 'source' && !!entry.consentRef && own.has(entry.consentRef), context);
}

export interface SourceWithdrawalContext {
  /** The source that no longer lets the citizen's data go to the municipality (the region, by its own Consent). */
  system: SourceSystem;
  citizenId: string;
  birthDate: string;
  at: Date;
  /** The citizen's grants and legal-basis records, as in `RevocationContext`. */
  grants: readonly ConsentGrant[];
  legalBases: readonly LegalBasisRecord[];
}

/**
 * The source's own consent to share is gone: every entry of that source resting on one of the
 * citizen's grants is decided again without the citizen's grants for that source (their consent
 * cannot carry what the source may not disclose); a legal-basis record (R11) rests on no consent,
 * so its entries stay, and an entry may be re-pointed to one. The rest as on a revocation.
 */
export function removeWithdrawnSourceData(plan: Plan, context: SourceWithdrawalContext): RevocationOutcome {
  const grantIds = new Set(context.grants.map((g) => g.id));
  const mayRestOnSource = (entry: Provenance) => entry.kind === 'source' && entry.system === context.system && !!entry.consentRef && grantIds.has(entry.consentRef);
  return reconsiderEntries(plan, mayRestOnSource, { ...context, grants: context.grants.filter((g) => g.source !== context.system) });
}

/** Decides again every entry `mayRestOnRevoked` picks, on what `context` still allows; see the file comment. */
function reconsiderEntries(plan: Plan, mayRestOnRevoked: (entry: Provenance) => boolean, context: Pick<RevocationContext, 'citizenId' | 'birthDate' | 'at' | 'grants' | 'legalBases'>): RevocationOutcome {
  const { grants, legalBases } = context;
  let repointed = 0;
  let dropped = 0;

  function reconsider(provenance: readonly Provenance[]): Provenance[] {
    const kept: Provenance[] = [];
    for (const entry of provenance) {
      if (entry.kind !== 'source' || !mayRestOnRevoked(entry)) {
        kept.push(entry);
        continue;
      }
      if (!entry.category) {
        dropped++;
        continue;
      }
      const decision = decideFlowIntoPlan({ citizenId: context.citizenId, birthDate: context.birthDate, source: entry.system, category: entry.category, at: context.at }, grants, legalBases);
      if (!decision.allowed) {
        dropped++;
        continue;
      }
      const consentRef = decision.basis === 'consent' ? (entry.consentRef && decision.grantIds.includes(entry.consentRef) ? entry.consentRef : decision.grantIds[0]!) : decision.recordId;
      // Who may see it can narrow too: from the whole plan to the departments a remaining grant names.
      const sameAudience = String(entry.audience ?? '') === String(decision.audience ?? '');
      if (consentRef === entry.consentRef && sameAudience) {
        kept.push(entry);
        continue;
      }
      repointed++;
      const { audience: _was, ...rest } = entry;
      kept.push({ ...rest, consentRef, ...(decision.audience ? { audience: decision.audience } : {}) });
    }
    return kept;
  }

  const removed: { list: ElementList; id: string }[] = [];
  const kept: { list: ElementList; id: string }[] = [];
  const readAgain = new Set<SourceSystem>();
  const newWriter = new Map<string, Provenance>();
  const next = { ...plan } as Plan;
  for (const list of elementLists) {
    const elements: { id: string; provenance: Provenance[] }[] = [];
    for (const element of plan[list] as { id: string; provenance: Provenance[] }[]) {
      if (!element.provenance.some(mayRestOnRevoked)) {
        elements.push(element);
        continue;
      }
      const staying = reconsider(element.provenance);
      // The writer of the content was dropped: the content stays only under a writer whose words they are.
      const writer = element.provenance.at(-1)!;
      const writerLeft = staying.length > 0 && writer.kind === 'source' && !staying.some((p) => p.kind === 'source' && p.system === writer.system && p.recordId === writer.recordId);
      const provenance = writerLeft ? contentWriterAfter(element, staying) : staying;
      if (!provenance) for (const p of staying) if (p.kind === 'source') readAgain.add(p.system);
      if (provenance && writerLeft) newWriter.set(element.id, provenance.at(-1)!);
      if (!provenance?.length) removed.push({ list, id: element.id });
      else if (provenance.length === element.provenance.length && provenance.every((entry, i) => entry === element.provenance[i])) elements.push(element);
      else {
        kept.push({ list, id: element.id });
        elements.push({ ...element, provenance });
      }
    }
    (next as Record<ElementList, unknown>)[list] = elements;
  }
  next.conflicts = plan.conflicts.flatMap((given) => {
    // Its current value is the element's content, now credited to the writer it passed to.
    const writer = newWriter.get(given.elementId);
    const conflict = writer ? creditedToWriter(given, writer, context.at.toISOString()) : given;
    if (!conflict.values.some((v) => v.provenance.some(mayRestOnRevoked))) return [conflict];
    const values = conflict.values.flatMap((value) => {
      const provenance = reconsider(value.provenance);
      return provenance.length > 0 ? [{ ...value, provenance }] : [];
    });
    // A conflict needs two values; with one left there is nothing to resolve any more.
    return values.length >= 2 ? [{ ...conflict, values }] : [];
  });
  const conflictsDropped = plan.conflicts.filter((c) => !next.conflicts.some((n) => n.id === c.id)).map((c) => c.id);

  const repaired = dropDanglingReferences(next, plan);
  const changed = repointed > 0 || dropped > 0;
  return {
    plan: changed ? repaired.plan : plan,
    changed,
    removed,
    kept,
    repointed,
    dropped,
    detachedFollowUps: repaired.detachedFollowUps,
    droppedConflicts: [...conflictsDropped, ...repaired.droppedConflicts],
    readAgain: [...readAgain],
  };
}

/**
 * Whether a plan holds anything that may have flowed on the grant: entries naming it, and — given
 * the citizen's grants, the revoked one among them — entries on a sibling grant it also covers.
 */
export function carriesGrant(plan: Plan, grantId: string, grants: readonly ConsentGrant[] = [], legalBases: readonly LegalBasisRecord[] = []): boolean {
  const mayRestOnRevoked = restingOn(grantId, grants, legalBases);
  const refers = (provenance: readonly Provenance[]) => provenance.some(mayRestOnRevoked);
  return (
    elementLists.some((list) => (plan[list] as { provenance: Provenance[] }[]).some((e) => refers(e.provenance))) ||
    plan.conflicts.some((c) => c.values.some((v) => refers(v.provenance)))
  );
}
