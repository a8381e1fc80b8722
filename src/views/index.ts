/** Views: who sees what of a plan (R4, R8, R13, R14), and the citizen's own door. */
export * from './plan-view';
export * from './data-flows';
export * from './danish';
export { planViewService, CreateLinkRequest, type PlanViewService } from './service';
export { citizenService, type CitizenService } from './citizen';
