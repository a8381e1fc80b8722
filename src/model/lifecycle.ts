/**
 * Plan lifecycle (R6). A plan is requested by the citizen or offered by the municipality; the
 * citizen may accept or decline at any time. A decline is documented (reason, who recorded it)
 * and means the sector plans apply again.
 */
import { z } from 'zod';
import { IsoDateTime } from './common';

export const PlanStatus = z.enum(['requested', 'offered', 'accepted', 'declined', 'active', 'closed']);
export type PlanStatus = z.infer<typeof PlanStatus>;

export const StatusChange = z.object({
  from: PlanStatus.optional(),
  to: PlanStatus,
  at: IsoDateTime,
  recordedBy: z.string().min(1),
  reason: z.string().min(1).optional(),
});
export type StatusChange = z.infer<typeof StatusChange>;

/** Which status may follow which. A declined plan may be offered or requested again later. */
export const allowedTransitions: Readonly<Record<PlanStatus, readonly PlanStatus[]>> = {
  requested: ['offered', 'accepted', 'declined'],
  offered: ['accepted', 'declined'],
  accepted: ['active', 'declined', 'closed'],
  active: ['closed', 'declined'],
  declined: ['offered', 'requested'],
  closed: [],
};

export function canTransition(from: PlanStatus, to: PlanStatus): boolean {
  return allowedTransitions[from].includes(to);
}

/** Plans whose citizens may be pulled for (R12: only citizens with an Én plan they accepted). Migration 0018's trigger names them too. */
export const enrolledStatuses: readonly PlanStatus[] = ['accepted', 'active'];

export const StatusChangeRequest = z
  .object({
    status: PlanStatus,
    reason: z.string().trim().min(1).max(2000).optional(),
  })
  .refine((r) => r.status !== 'declined' || !!r.reason, { message: 'a decline must state the reason', path: ['reason'] });
export type StatusChangeRequest = z.infer<typeof StatusChangeRequest>;
