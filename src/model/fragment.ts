/**
 * A model fragment: what a mapping makes of one source record — one plan element's content with
 * a stable element id and the data category the consent gate judges it by. The sync engine adds
 * the member, provenance and rule version when it merges the fragment into a plan.
 */
import { z } from 'zod';
import { Agreement, CitizenView, Coordinator, FollowUp, Goal, Intervention, Situation } from './plan';
import { DataCategory } from './consent';
import { fastFragment } from './fragment-fast-check';

const elementContent = {
  goal: Goal.omit({ id: true, provenance: true, memberId: true, ruleVersion: true, keptVisibility: true }),
  intervention: Intervention.omit({ id: true, provenance: true, memberId: true, ruleVersion: true }),
  agreement: Agreement.omit({ id: true, provenance: true, memberId: true, ruleVersion: true }),
  followUp: FollowUp.omit({ id: true, provenance: true, memberId: true, ruleVersion: true, keptVisibility: true }),
  citizenView: CitizenView.omit({ id: true, provenance: true, memberId: true, ruleVersion: true }),
  situation: Situation,
  coordinator: Coordinator,
} as const;

const fragmentOf = <K extends keyof typeof elementContent>(kind: K) =>
  z.object({
    kind: z.literal(kind),
    /** Deterministic from the source record, e.g. `dfdg:activity:<ActivityIdentifier>`, so re-pulls merge in place. */
    elementId: z.string().min(1),
    category: DataCategory,
    content: elementContent[kind],
    /**
     * Where several records of one system describe the same element (the events of one education
     * course), their order in that system — compared as text, so write it sortable (a date, then a
     * zero-padded number). The merge keeps the content of the latest, whatever order they are read in.
     */
    sequence: z.string().min(1).max(64).optional(),
    /**
     * The id an older version of the same mapping gave this element, where a new version renamed it
     * (a CarePlan activity's position id, before it was named by what it is): the merge moves the
     * element it holds under that id to `elementId` — follow-ups, conflicts and all — instead of
     * withdrawing it and adding a new one (decision 0003, session 19).
     */
    formerElementId: z.string().min(1).optional(),
  });

/**
 * `safeParse` and `parse` answer from the hand-written fast path (fragment-fast-check.ts) when it
 * vouches for the input — with the output zod would build — and otherwise let the schema parse it,
 * so zod alone refuses, with its issues. The schema is otherwise unchanged (`options`, `_zod`).
 */
function withFastPath<S extends z.ZodType>(schema: S): S {
  const zodSafeParse = schema.safeParse.bind(schema);
  const zodParse = schema.parse.bind(schema);
  const safeParse: S['safeParse'] = (data, params) => {
    const checked = fastFragment(data);
    return checked ? { success: true, data: checked as z.output<S> } : zodSafeParse(data, params);
  };
  const parse: S['parse'] = (data, params) => (fastFragment(data) as z.output<S> | undefined) ?? zodParse(data, params);
  return Object.assign(schema, { safeParse, parse });
}

/**
 * Every fragment a mapping makes is checked against this schema, so it runs once per fragment on
 * every sync. `z.compile` (zod ≥ 4.5) generates a flat validator for it ahead of time: same schema,
 * same output and, because any input the generated code rejects is handed to zod's ordinary
 * parser, the same issues. Where code generation is not allowed (no `new Function`, e.g. Workers)
 * `z.compile` returns the schema unchanged. In front of both sits a hand-written fast path for
 * the fragment kinds the mappings make (`withFastPath` above), which only ever says yes.
 */
export const Fragment = withFastPath(
  z.compile(
    z.discriminatedUnion('kind', [
      fragmentOf('goal'),
      fragmentOf('intervention'),
      fragmentOf('agreement'),
      fragmentOf('followUp'),
      fragmentOf('citizenView'),
      fragmentOf('situation'),
      fragmentOf('coordinator'),
    ]),
  ),
);
export type Fragment = z.infer<typeof Fragment>;
export type FragmentKind = Fragment['kind'];
