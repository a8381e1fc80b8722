/**
 * The code lists of the health mappings. The regional plan types and activities are modelled (no
 * public regional list exists; each file says so); the goal categories are HL7's.
 */
import { z } from 'zod';
import type { CodeListRef } from '../mapping';
import goalCategoriesJson from './codes/goal-categories.json' with { type: 'json' };
import activitiesJson from './codes/regional-activities.json' with { type: 'json' };
import planTypesJson from './codes/regional-plan-types.json' with { type: 'json' };

const Topic = z.string().regex(/^[a-z0-9-]+$/);

const HealthCodeList = <Entry extends z.ZodTypeAny>(entry: Entry) =>
  z.object({
    id: z.string().min(1),
    system: z.string().min(1),
    name: z.string().min(1),
    origin: z.string().min(1),
    size: z.number().int().nonnegative(),
    concepts: z.array(entry),
  });

export const PlanTypeEntry = z.object({ code: z.string().min(1), display: z.string().min(1), legalBasis: z.string().min(2), topics: z.array(Topic) });
export const ActivityEntry = z.object({ code: z.string().min(1), display: z.string().min(1) });
export const GoalCategoryEntry = z.object({ code: z.string().min(1), display: z.string().min(1), topics: z.array(Topic) });
export type PlanTypeEntry = z.infer<typeof PlanTypeEntry>;
export type ActivityEntry = z.infer<typeof ActivityEntry>;
export type GoalCategoryEntry = z.infer<typeof GoalCategoryEntry>;

export const regionalPlanTypes = HealthCodeList(PlanTypeEntry).parse(planTypesJson);
export const regionalActivities = HealthCodeList(ActivityEntry).parse(activitiesJson);
export const goalCategories = HealthCodeList(GoalCategoryEntry).parse(goalCategoriesJson);

const planTypes = new Map(regionalPlanTypes.concepts.map((c) => [c.code, c]));
const activities = new Map(regionalActivities.concepts.map((c) => [c.code, c]));
const categories = new Map(goalCategories.concepts.map((c) => [c.code, c]));

export const planTypeFor = (system: string | undefined, code: string | undefined) =>
  system === regionalPlanTypes.system && code ? planTypes.get(code) : undefined;
export const activityFor = (system: string | undefined, code: string | undefined) =>
  system === regionalActivities.system && code ? activities.get(code) : undefined;
export const goalCategoryFor = (system: string | undefined, code: string | undefined) =>
  system === goalCategories.system && code ? categories.get(code) : undefined;

/** Systems these lists cover: an unlisted code in one of them is reported as unknown. */
export const knownHealthSystems: ReadonlySet<string> = new Set([regionalPlanTypes.system, regionalActivities.system, goalCategories.system]);

const ref = (list: { id: string; system: string; origin: string; size: number }): CodeListRef => ({
  id: list.id,
  system: list.system,
  origin: list.origin,
  size: list.size,
});

export const healthCodeListRefs = {
  planTypes: ref(regionalPlanTypes),
  activities: ref(regionalActivities),
  goalCategories: ref(goalCategories),
} as const;
