/**
 * Which activity of a FHIR CarePlan an intervention is, from one version of the plan to the next.
 * The social and health CarePlan mappings name each intervention `<system>:careplan:<plan id>:activity:<key>`;
 * the key must survive the source reordering the activities, removing one of them, and the activity's
 * own progress — otherwise a removed activity reads as "the next one changed", and a caseworker's
 * follow-ups and conflicts on an intervention end up on another one. In order of preference:
 *
 * 1. `id-<hash>`: the activity's own element id (`CarePlan.activity.id`), which a system that sets it
 *    keeps for the activity's life.
 * 2. `ref-<hash>`: the resource it stands for (`activity.reference`: a ServiceRequest, Task,
 *    Appointment …; its relative `Type/id`, so an absolute or versioned reference names the same).
 *    FHIR R4 forbids a reference beside a detail (cpl-3), and only an activity with a coded detail
 *    becomes an intervention, so this is for systems that send both.
 * 3. `key-<hash>`: the activity's content that does not change over its life — `detail.kind`, the
 *    code it is mapped by (the intervention's type), `instantiatesCanonical`/`instantiatesUri`. Never
 *    its status, scheduled period, performer, goals, description or progress: those change while it
 *    is the same intervention. A second activity with the same key in the plan (the same service
 *    twice) is told apart by its place among those: `key-<hash>-2`.
 *
 * Every activity that becomes an intervention has a code, so position alone never names one (the
 * old `…:activity:<n>` remains only for the one activity of a CarePlan we pushed, see
 * mappings/social/careplan.ts). The key is a hash (16 hex digits of SHA-256): short, made of the
 * characters element ids already use, and free of whatever text a source put in an id or reference.
 */
import { createHash } from 'node:crypto';
import type { CarePlanActivity } from '../adapters/fhir/contract';
import { firstCoding } from '../adapters/fhir/fhir-values';

const digest = (text: string) => createHash('sha256').update(text).digest('hex').slice(0, 16);

/** A literal reference's `Type/id`, whether written relative, absolute or with `/_history/<v>`. */
const LITERAL_REFERENCE = /(?:^|\/)([A-Z][A-Za-z]*\/[A-Za-z0-9\-.]{1,64})(?:\/_history\/[^/]*)?$/;

const texts = (value: unknown): string[] => (Array.isArray(value) ? value.filter((v): v is string => typeof v === 'string' && v.length > 0).sort() : []);
const visible = (value: unknown): string | undefined => (typeof value === 'string' && value.trim() ? value.trim() : undefined);

/** The activity's key before duplicates are counted, or undefined when it has no coded detail (it makes no intervention). */
function keyOf(activity: CarePlanActivity): string | undefined {
  const detail = activity.detail;
  const coding = firstCoding(detail?.code);
  if (!detail || !coding?.system || !coding.code) return undefined;
  const own = visible(activity.id);
  if (own) return `id-${digest(`id\u0000${own}`)}`;
  const reference = visible(activity.reference?.reference);
  if (reference) return `ref-${digest(`ref\u0000${LITERAL_REFERENCE.exec(reference)?.[1] ?? reference}`)}`;
  const identifier = activity.reference?.identifier;
  if (identifier?.value) return `ref-${digest(`identifier\u0000${identifier.system ?? ''}\u0000${identifier.value}`)}`;
  const lasting = [detail.kind ?? '', coding.system, coding.code, ...texts(detail.instantiatesCanonical), '\u0001', ...texts(detail.instantiatesUri)];
  return `key-${digest(`key\u0000${lasting.join('\u0000')}`)}`;
}

/**
 * The key of each activity (by index), undefined for one without a coded detail. A key met again
 * in the same plan (two activities with the same content key, or a system repeating an id) gets its
 * occurrence: `-2`, `-3` …
 */
export function activityKeys(activities: readonly CarePlanActivity[]): (string | undefined)[] {
  const keys = new Array<string | undefined>(activities.length);
  let seen: Map<string, number> | undefined;
  for (let i = 0; i < activities.length; i++) {
    const key = keyOf(activities[i]!);
    if (key === undefined) continue;
    seen ??= new Map();
    const occurrence = (seen.get(key) ?? 0) + 1;
    seen.set(key, occurrence);
    keys[i] = occurrence === 1 ? key : `${key}-${occurrence}`;
  }
  return keys;
}
