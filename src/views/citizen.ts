/**
 * The citizen's own door (R13): their plan(s) through `viewOf`, and where their data went.
 * Reading the log marks nothing: telling the citizen about a legal basis is the caseworker's
 * recorded act (`POST /v1/consents/legal-basis/{id}/informed`), not a side effect of a page view.
 *
 * A custody holder also sees, for each child in a plan they are a parent in, the consents they
 * gave for that child, the flows that rested on one of them and IT staff's looks at the child's
 * records from a system one of them names — never a flow or a look at a record holding
 * anonymous treatment (SEL § 101 a, R4; the engine and the payload look mark those), nor one
 * written before they marked them at all, nor anything resting only on another custody holder's consent (separated
 * parents do not see each other's acts through the plan, R4).
 */
import type { AppDeps } from '../api/context';
import { ageOn, Department, membersOf, type ConsentGrant, type LegalBasisRecord } from '../model';
import { actorOf, hasAnyRole, type Principal } from '../security';
import type { AuditRow } from '../store';
import { processingPurpose, retentionOf } from '../consent/processing-record';
import { ACCESS_LOG_READ, ACCESS_REPORT, CUSTODY_HOLDER_READ, describeDataFlows, QUARANTINE_PAYLOAD_READ, type CitizenDataFlows } from './data-flows';
import { capitalise, danishToday, refusalInDanish, systemName } from './danish';
import { explainView, planAsCaseworkerMaySee, type PlanView } from './plan-view';

const PAGE = 1000;

/** A department other than the reader's (none named: every department is another's). */
const otherDepartment = (recipient: string, department: Department | undefined) => (Department.options as readonly string[]).includes(recipient) && recipient !== department;

const viewLists = ['goals', 'interventions', 'agreements', 'followUps', 'citizenViews', 'situationNotes', 'careTeams'] as const;
const elementCount = (view: PlanView) => viewLists.reduce((n, list) => n + (view[list]?.length ?? 0), 0);
const parentRoles = new Set(['parent', 'custody-holder']);
const childRoles = new Set(['child', 'young-person']);

/**
 * Whether a custody holder may see this row of their child's log, given the grants they gave for
 * the child: a flow that rested on one of them, or IT staff's look at a record the child's data
 * came in from a system one of them names (the look rests on no consent; the system the custody
 * holder let into the plan is what they may know of). Only rows marked free of anonymous treatment.
 */
export function shownToCustodyHolder(row: AuditRow, grantsGiven: readonly Pick<ConsentGrant, 'id' | 'source'>[]): boolean {
  if (row.detail.anonymousTreatment !== false) return false;
  if (row.action === QUARANTINE_PAYLOAD_READ) return grantsGiven.some((g) => g.source === row.detail.adapter);
  if (row.action !== 'data.flowed') return false;
  const refs = Array.isArray(row.detail.consentRefs) ? row.detail.consentRefs : [];
  return refs.some((ref) => typeof ref === 'string' && grantsGiven.some((g) => g.id === ref));
}

/** How far back the citizen's log goes, in plain Danish (R13, R15): the audit log it is built on may have a period (RETENTION_AUDIT_DAYS). */
export function logKeptSentence(auditDays: number | null): string {
  return auditDays === null
    ? 'Loggen gemmes uden tidsgrænse: den viser alt, hvad der er sket med dine oplysninger her.'
    : `Loggen viser de seneste ${auditDays} dage. Kommunen sletter ældre linjer, når de er ${auditDays} dage gamle.`;
}

export function citizenService(deps: AppDeps) {
  const { store, clock } = deps;

  async function logOf(tenant: string, citizenId: string): Promise<AuditRow[]> {
    const rows: AuditRow[] = [];
    for (let afterSeq = 0; ; ) {
      const page = await store.audit.list(tenant, { citizenId, afterSeq, limit: PAGE });
      rows.push(...page);
      if (page.length < PAGE) break;
      afterSeq = page.at(-1)!.seq;
    }
    return rows;
  }

  async function consentsOf(tenant: string, citizenId: string) {
    const grants: ConsentGrant[] = [];
    const legalBases: LegalBasisRecord[] = [];
    for (const { kind, ...document } of await store.consents.forCitizens(tenant, [citizenId])) {
      if (kind === 'grant') grants.push(document as ConsentGrant);
      else legalBases.push(document as LegalBasisRecord);
    }
    return { grants, legalBases };
  }

  /** The children (active members, child or young person) of the plans where the citizen is an active parent or custody holder. */
  /** The members in this citizen's custody: a child or young person of their family plan, under 18 today. */
  async function childrenOf(tenant: string, citizenId: string): Promise<{ citizenId: string; birthDate: string }[]> {
    const children = new Map<string, string>();
    const today = danishToday(clock.now());
    for (const plan of await store.plans.getMany(tenant, await store.plans.idsForCitizen(tenant, citizenId))) {
      const members = membersOf(plan);
      if (!members.some((m) => m.citizenId === citizenId && !m.leftAt && parentRoles.has(m.role))) continue;
      for (const m of members) if (!m.leftAt && childRoles.has(m.role) && ageOn(m.birthDate, today) < 18 && m.citizenId !== citizenId) children.set(m.citizenId, m.birthDate);
    }
    return [...children].map(([id, birthDate]) => ({ citizenId: id, birthDate }));
  }

  return {
    /**
     * Everything the layer holds about one citizen, as GDPR art. 15 asks, for the caseworker who
     * answers their access request (the citizen may have no digital access): why and for how long,
     * their plans as they themselves may see them (never another member's private data, R4), their
     * consents and legal-basis records, and where their data went — the sentences of their own log.
     * Null when nothing is held. The export is in the citizen's log.
     */
    async accessReport(principal: Principal, cpr: string) {
      const { tenant } = principal;
      const citizen = await store.citizens.findByAnyCprHash(tenant, await deps.vault.lookupHashes(tenant, cpr));
      if (!citizen) return null;
      const now = clock.now();
      // A caseworker answers with what they may see themselves: what consent gives other departments
      // alone (R9, decision 0026) is counted, not shown — the DPO's report holds everything.
      const whole = hasAnyRole(principal, ['dpo']);
      const department = principal.department;
      const withheld = { elements: 0, flows: 0, consents: 0, legalBases: 0 };
      const plans = [];
      for (const plan of await store.plans.getMany(tenant, await store.plans.idsForCitizen(tenant, citizen.id))) {
        const full = explainView(plan, { kind: 'citizen', citizenId: citizen.id, at: now }).view;
        const view = whole ? full : explainView(planAsCaseworkerMaySee(plan, department), { kind: 'citizen', citizenId: citizen.id, at: now }).view;
        if (full && view) withheld.elements += elementCount(full) - elementCount(view);
        if (view) plans.push(view);
      }
      const own = await consentsOf(tenant, citizen.id);
      const all = describeDataFlows(citizen.id, await logOf(tenant, citizen.id), own.grants, own.legalBases, { today: danishToday(now) });
      const mayKnow = (entry: { recipient: string }) => whole || !otherDepartment(entry.recipient, department);
      const described = { flows: all.flows.filter(mayKnow), consents: all.consents.filter(mayKnow), legalBases: all.legalBases.filter(mayKnow) };
      withheld.flows = all.flows.length - described.flows.length;
      withheld.consents = all.consents.length - described.consents.length;
      withheld.legalBases = all.legalBases.length - described.legalBases.length;
      await store.audit.append(tenant, {
        at: now.toISOString(),
        actor: actorOf(principal),
        action: ACCESS_REPORT,
        targetType: 'citizen',
        targetId: citizen.id,
        citizenId: citizen.id,
        detail: { plans: plans.length, flows: described.flows.length, withheld: withheld.elements + withheld.flows + withheld.consents + withheld.legalBases },
      });
      return {
        citizenId: citizen.id,
        generatedAt: now.toISOString(),
        purpose: processingPurpose,
        retention: retentionOf(deps.config),
        plans: plans.sort((a, b) => (b.createdAt ?? '').localeCompare(a.createdAt ?? '')),
        ...described,
        sourceSays: (await store.regionalConsents.refusalsOfCitizen(tenant, citizen.id)).map((refusal) => ({
          source: refusal.source,
          since: refusal.recordedAt,
          permitsFrom: refusal.permitsFrom ?? null,
          text: `${capitalise(systemName(refusal.source))} deler ikke dine oplysninger med kommunen lige nu, fordi ${refusalInDanish(refusal.reason)}.`,
        })),
        withheld,
      };
    },

    /**
     * Who used the citizen's data and how, with the users named (the citizen's own log names only
     * the authority): every audit row about them, oldest first, a page at a time. For the DPO
     * looking into a complaint or an incident; the look itself is in the citizen's own log.
     * Null when the layer holds nothing about the CPR number.
     */
    async accessLog(principal: Principal, cpr: string, page: { afterSeq?: number; limit: number }) {
      const { tenant } = principal;
      const citizen = await store.citizens.findByAnyCprHash(tenant, await deps.vault.lookupHashes(tenant, cpr));
      if (!citizen) return null;
      const rows = await store.audit.list(tenant, { citizenId: citizen.id, afterSeq: page.afterSeq, limit: page.limit + 1 });
      const entries = rows.slice(0, page.limit).map((row) => ({ seq: row.seq, at: row.at, actor: row.actor, action: row.action, targetType: row.targetType, targetId: row.targetId, detail: row.detail }));
      // Rows about the citizen that no append wrote (evidence of tampering, not of use): apart, once, on the first page.
      const outsideChain = page.afterSeq
        ? []
        : (await store.audit.outsideChain(tenant, { citizenId: citizen.id })).map((row) => ({ seq: row.seq, at: row.at, actor: row.actor, action: row.action, targetType: row.targetType, targetId: row.targetId, detail: row.detail }));
      await store.audit.append(tenant, { at: clock.now().toISOString(), actor: actorOf(principal), action: ACCESS_LOG_READ, targetType: 'citizen', targetId: citizen.id, citizenId: citizen.id, detail: { entries: entries.length, afterSeq: page.afterSeq ?? null } });
      return { citizenId: citizen.id, entries, outsideChain, nextAfterSeq: rows.length > page.limit ? entries.at(-1)!.seq : null };
    },

    async dataFlows(principal: Principal): Promise<CitizenDataFlows & { logKept: string }> {
      const citizenId = principal.citizenId;
      const logKept = logKeptSentence(deps.config.retention.auditDays);
      if (!citizenId) return { flows: [], consents: [], legalBases: [], logKept };
      const { tenant } = principal;
      const today = danishToday(clock.now());
      const own = await consentsOf(tenant, citizenId);
      const result = describeDataFlows(citizenId, await logOf(tenant, citizenId), own.grants, own.legalBases, { today });

      let childrenShown = 0;
      for (const child of await childrenOf(tenant, citizenId)) {
        const given = (await consentsOf(tenant, child.citizenId)).grants.filter((g) => g.grantedBy.citizenId === citizenId);
        if (given.length === 0) continue;
        const rows = (await logOf(tenant, child.citizenId)).filter((row) => shownToCustodyHolder(row, given));
        const part = describeDataFlows(child.citizenId, rows, given, [], { today, child: { readerCitizenId: citizenId, birthDate: child.birthDate } });
        result.flows.push(...part.flows);
        result.consents.push(...part.consents);
        childrenShown++;
        // The child is told too (R13): in their own log, that a custody holder looked at where their data went.
        await store.audit.append(tenant, {
          at: clock.now().toISOString(),
          actor: actorOf(principal),
          action: CUSTODY_HOLDER_READ,
          targetType: 'citizen',
          targetId: child.citizenId,
          citizenId: child.citizenId,
          detail: { recipient: 'custody-holder', flows: part.flows.length },
        });
      }
      result.flows.sort((a, b) => b.at.localeCompare(a.at));

      await store.audit.append(tenant, {
        at: clock.now().toISOString(),
        actor: actorOf(principal),
        action: 'citizen.data-flows-read',
        targetType: 'citizen',
        targetId: citizenId,
        citizenId,
        detail: { flows: result.flows.length, childrenShown },
      });
      return { ...result, logKept };
    },
  };
}
export type CitizenService = ReturnType<typeof citizenService>;
