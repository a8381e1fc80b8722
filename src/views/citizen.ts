/**
 * The citizen's own door (R13): their plan(s) through `viewOf`, and where their data went.
 * Reading the log marks nothing: telling the citizen about a legal basis is the caseworker's
 * recorded act (`POST /v1/consents/legal-basis/{id}/informed`), not a side effect of a page view.
 */
import type { AppDeps } from '../api/context';
import type { ConsentGrant, LegalBasisRecord } from '../model';
import { actorOf, type Principal } from '../security';
import type { AuditRow } from '../store';
import { describeDataFlows, type CitizenDataFlows } from './data-flows';

const PAGE = 1000;

export function citizenService(deps: AppDeps) {
  const { store, clock } = deps;
  return {
    async dataFlows(principal: Principal): Promise<CitizenDataFlows> {
      const citizenId = principal.citizenId;
      if (!citizenId) return { flows: [], consents: [], legalBases: [] };
      const rows: AuditRow[] = [];
      for (let afterSeq = 0; ; ) {
        const page = await store.audit.list(principal.tenant, { citizenId, afterSeq, limit: PAGE });
        rows.push(...page);
        if (page.length < PAGE) break;
        afterSeq = page.at(-1)!.seq;
      }
      const documents = await store.consents.forCitizens(principal.tenant, [citizenId]);
      const grants: ConsentGrant[] = [];
      const legalBases: LegalBasisRecord[] = [];
      for (const { kind, ...document } of documents) {
        if (kind === 'grant') grants.push(document as ConsentGrant);
        else legalBases.push(document as LegalBasisRecord);
      }
      const result = describeDataFlows(citizenId, rows, grants, legalBases, clock.now().toISOString().slice(0, 10));
      await store.audit.append(principal.tenant, {
        at: clock.now().toISOString(),
        actor: actorOf(principal),
        action: 'citizen.data-flows-read',
        targetType: 'citizen',
        targetId: citizenId,
        citizenId,
        detail: { flows: result.flows.length },
      });
      return result;
    },
  };
}
export type CitizenService = ReturnType<typeof citizenService>;
