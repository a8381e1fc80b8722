/** Plan operations' door: create, read, look up, status, completeness, conflicts, a member leaving (all audited). */
export { CreatePlanRequest, planService, type PlanService } from './service';
export { membershipService, type MembershipService } from './membership';
export { resolveConflict, settledConflictRegistration, type ConflictChoice, type ResolvedConflict } from './conflicts';
export { leaveFamilyPlan, LeaveError, type LeaveOptions, type LeaveOutcome } from './leave';
export { dropDanglingReferences, elementIdsOf, elementLists, type ElementList, type ReferenceRepair } from './references';
