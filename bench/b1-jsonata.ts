/**
 * B1 reference: the main mapping of each source format written in JSONata — what integration tools
 * such as Node-RED, OpenFn and FUME map with. Each expression produces the same fragment array as
 * our TypeScript mapping (`runMapping(...).fragments`) for the same pre-parsed input: the object
 * fast-xml-parser gives for a SOAP record element (all values text), or the `JSON.parse`d FHIR
 * resource. Code lists are passed in as bindings (plain lookup objects built from the same JSON
 * code-list files our mappings load), as a JSONata integration would pass them.
 *
 * What the JSONata versions do NOT do, and our mappings do: validate the source against its zod
 * contract, check every fragment against the model, report unknown codes and ignored fields, and
 * fail a record with a readable reason (unknown status, end before start). So the comparison
 * favours JSONata. Known approximations (no effect on the generated data, which carries plain
 * dates): JSONata has no time zones, so a FHIR timestamp is read at a fixed +01:00 instead of
 * Europe/Copenhagen with daylight saving; "is a calendar date" is a shape check only. JSONata has
 * no SHA-256, so the CarePlan mirrors name an activity through a bound function (`$activityKeys`,
 * our mappings/careplan-activity.ts), as an integration would bind a hash; the rest of the id is theirs.
 */
import jsonata from 'jsonata';
import { activationTypes, activityStatuses } from '../mappings/dfdg/code-lists';
import { educationProgrammes, planActivityStatuses, planActivityTypes } from '../mappings/education/code-lists';
import { ffb, fsiii, careSocialCodes } from '../mappings/social/codes';
import { regionalActivities, regionalPlanTypes } from '../mappings/health/codes';
import { ENPLAN_ELEMENT_SYSTEM, LEGAL_BASIS_EXTENSION, REGIONAL_PLAN_TYPE_SYSTEM } from '../adapters/fhir/systems';
import type { CarePlanActivity } from '../adapters/fhir/contract';
import { activityKeys } from '../mappings/careplan-activity';

export interface JsonataMapping {
  /** The record type it maps (the format's main record type). */
  recordType: string;
  /** Our mapping it mirrors. */
  mirrors: string;
  expression: string;
  bindings: Record<string, unknown>;
}

const byCode = <E extends { code: string }, V>(codes: readonly E[], value: (entry: E) => V): Record<string, V> =>
  Object.fromEntries(codes.map((entry) => [entry.code, value(entry)]));

// ---------------------------------------------------------------------------------------------
// DFDG activity (ActivityItem) → one employment intervention. Mirrors mappings/dfdg/activity.ts.

const dfdgActivity = `(
  $a := ActivityCoreItem;
  $nz := function($v) { $v[$ != ""] };
  $t := $lookup($activationTypes, $a.ActivationTypeIdentifier);
  $display := $t ? $t.display : "ukendt kode";
  $name := $nz($a.ResponsibleAuthority.AuthorityName);
  $unit := $name ? $name : "Jobcenter " & $a.ResponsibleAuthority.AuthorityCode;
  $activityName := $nz($a.ActivityName);
  $caseworker := $nz($a.CaseworkerName);
  [{
    "kind": "intervention",
    "elementId": "dfdg:activity:" & $lowercase($a.ActivityIdentifier),
    "category": "employment",
    "content": {
      "sector": $t ? $t.sector : "employment",
      "legalBasis": $t ? $t.legalBasis : "LAB",
      "type": { "system": $activationSystem, "code": $a.ActivationTypeIdentifier, "display": $display },
      "title": $activityName ? $activityName : $display,
      "responsibleUnit": $unit,
      "contact": { "name": $caseworker ? $caseworker : $unit, "unit": $unit, "phone": $nz($a.CaseworkerPhone) },
      "period": { "start": $a.StartDate, "end": $nz($a.EndDate) },
      "order": 0,
      "dependsOn": [],
      "status": $lookup($activityStatuses, $a.ActivityStatusIdentifier),
      "goalIds": [],
      "providerId": $nz($a.ProviderIdentifier),
      "hoursPerWeek": $number($nz($a.HoursPerWeek)),
      "confidentiality": "normal",
      "topics": []
    }
  }]
)`;

// ---------------------------------------------------------------------------------------------
// Education plan (Uddannelsesplan) → the education goal, the planned measures, the next follow-up.
// Mirrors mappings/education/education-plan.ts.

const educationPlan = `(
  $nz := function($v) { $v[$ != ""] };
  $id := $lowercase(UddannelsesplanId);
  $goal := Uddannelsesmaal;
  $programme := $lookup($programmes, $goal.UddannelseKode);
  $programmeDisplay := $programme ? $programme.display : "ukendt kode";
  $goalId := "education:education-goal:" & $id;
  $enhed := $nz(Vejleder.Enhed);
  $unit := $enhed ? $enhed : "Ungeindsatsen (kommune " & KommuneKode & ")";
  $navn := $nz(Vejleder.Navn);
  $contact := { "name": $navn ? $navn : $unit, "unit": $unit, "phone": $nz(Vejleder.Telefon), "email": $nz(Vejleder.Email) };
  $beskrivelse := $nz($goal.Beskrivelse);
  $activities := $map(PlanlagtAktivitet, function($a, $i) {(
    $type := $lookup($activityTypes, $a.AktivitetKode);
    $display := $type ? $type.display : "ukendt kode";
    $text := $nz($a.Beskrivelse);
    {
      "kind": "intervention",
      "elementId": "education:plan-activity:" & $lowercase($a.AktivitetId),
      "category": "education",
      "content": {
        "sector": $type ? $type.sector : "education",
        "legalBasis": "KUI § 2 a",
        "type": { "system": $activityTypeSystem, "code": $a.AktivitetKode, "display": $display },
        "title": $text ? $text : $display,
        "responsibleUnit": $unit,
        "contact": $contact,
        "period": { "start": $a.StartDato, "end": $nz($a.SlutDato) },
        "order": $i,
        "dependsOn": [],
        "status": $lookup($activityStatuses, $a.AktivitetStatus),
        "goalIds": [$goalId],
        "hoursPerWeek": $number($nz($a.TimerPrUge)),
        "confidentiality": "normal",
        "topics": []
      }
    }
  )});
  $next := $nz(NaesteOpfoelgning);
  $followUp := $next ? [{
    "kind": "followUp",
    "elementId": "education:plan-follow-up:" & $id,
    "category": "education",
    "content": { "due": $next, "text": "Opfølgning på uddannelsesplanen", "elementId": $goalId, "done": false }
  }] : [];
  $append($append([{
    "kind": "goal",
    "elementId": $goalId,
    "category": "education",
    "content": {
      "level": "overall",
      "title": $beskrivelse ? $beskrivelse : $programmeDisplay,
      "description": $programmeDisplay & " (" & $goal.UddannelseKode & ")",
      "sector": "education",
      "status": "active",
      "targetDate": $nz($goal.ForventetStartDato),
      "topics": ["education-goal"]
    }
  }], $activities), $followUp)
)`;

// ---------------------------------------------------------------------------------------------
// Shared FHIR helpers (inlined in each expression: a JSONata expression is self-contained).

const fhirHelpers = `
  $danishDate := function($v) {(
    $v ? (
      $contains($v, "T") ? $fromMillis($toMillis($v), "[Y0001]-[M01]-[D01]", "+0100")
      : $length($v) = 10 ? $v : $length($v) = 7 ? $v & "-01" : $v & "-01-01"
    )
  )};
  $isDate := function($v) { $v ? $contains($v, /^\\d{4}-\\d{2}-\\d{2}$/) : false };
  $interventionStatus := function($activity, $plan) {(
    $plan in ["revoked", "entered-in-error"] ? "cancelled"
    : $activity in ["not-started", "scheduled"] ? ($plan = "completed" ? "ended" : "planned")
    : $activity in ["in-progress", "on-hold"] ? ($plan = "completed" ? "ended" : "active")
    : $activity in ["completed", "stopped"] ? "ended"
    : $activity in ["cancelled", "entered-in-error"] ? "cancelled"
    : ($plan = "completed" ? "ended" : $plan = "active" ? "active" : "planned")
  )};
  $refId := function($ref, $type) { $ref[$contains($, $type & "/")].$substringAfter($, $type & "/")[$ != ""] };
  $trimmed := function($v) {( $t := $trim($v); $t ? $t )};
`;

// ---------------------------------------------------------------------------------------------
// Social care-social / FFB CarePlan → one intervention per coded activity. Mirrors mappings/social/careplan.ts.

const socialCarePlan = `(
  ${fhirHelpers}
  $plan := $;
  $keys := $activityKeys($plan);
  $pushed := $exists(identifier[system = $enplanElementSystem]);
  $oursText := (identifier[system = $enplanElementSystem].value)[0];
  $ours := $oursText and $contains($oursText, /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i) ? $lowercase($oursText);
  $coded := [$map(activity, function($a, $i) {
    $a.detail ? { "d": $a.detail, "i": $i, "c": ($a.detail.code.coding[system and code])[0] }
  })][$exists(c)];
  [$map($coded, function($x) {(
    $d := $x.d;
    $c := $x.c;
    $position := "social:careplan:" & $plan.id & ":activity:" & $x.i;
    $id := $pushed and $x.i = 0 ? ($ours ? $ours : $position) : "social:careplan:" & $plan.id & ":activity:" & $keys[$x.i];
    $former := $x.i = 0 and $ours ? $ours : $position;
    $listed := $lookup($codes, $c.system & "|" & $c.code);
    $sector := $listed.sector ? $listed.sector : "social";
    $display := $listed ? $listed.display : ($c.display ? $c.display : ($d.code.text ? $d.code.text : $c.code));
    $stated := ($d.extension[url = $legalBasisExtension].valueString)[0];
    $legalBasis := $trim($stated ? $stated : ($listed.legalBasis ? $listed.legalBasis : ($sector = "health" ? "Sundhedsloven" : "Serviceloven")));
    $s1 := $danishDate($d.scheduledPeriod.start);
    $s2 := $danishDate($plan.period.start);
    $start := $s1 ? $s1 : ($s2 ? $s2 : $danishDate($plan.created));
    $e1 := $danishDate($d.scheduledPeriod.end);
    $end := $e1 ? $e1 : $danishDate($plan.period.end);
    $performer := $d.performer[0];
    $providerId := $refId($performer.reference, "Organization");
    $unit := $performer.display ? $performer.display : "Ikke oplyst i kilden";
    $title := $trimmed($d.description);
    {
      "kind": "intervention",
      "elementId": $id,
      "category": $sector = "health" ? "health" : "interventions",
      "content": {
        "sector": $sector,
        "legalBasis": $legalBasis,
        "type": { "system": $c.system, "code": $c.code, "display": $display },
        "title": $title ? $title : $display,
        "responsibleUnit": $unit,
        "contact": { "name": $unit },
        "period": $isDate($end) and $end >= $start ? { "start": $start, "end": $end } : { "start": $start },
        "order": 0,
        "dependsOn": [],
        "status": $interventionStatus($d.status, $plan.status),
        "goalIds": [$refId($d.goal.reference, "Goal").("social:goal:" & $)],
        "providerId": $providerId and $contains($providerId, /^[A-Za-z0-9._-]+$/) ? $providerId,
        "confidentiality": $contains($legalBasis, /^SEL\\s*§\\s*101\\s*a\\b/i) ? "anonymous-treatment" : "normal",
        "topics": []
      },
      "formerElementId": $former != $id ? $former
    }
  )})]
)`;

// ---------------------------------------------------------------------------------------------
// Health regional CarePlan → health interventions (one per coded activity, or the plan itself).
// Mirrors mappings/health/careplan.ts.

const healthCarePlan = `(
  ${fhirHelpers}
  $plan := $;
  $typed := (category.coding[system = $planTypeSystem and code])[0];
  $typeCoding := $typed ? $typed : (category.coding[system and code])[0];
  $planType := $typeCoding.system = $planTypeSystem ? $lookup($planTypes, $typeCoding.code);
  $author := $trimmed(author.display);
  $unit := $author ? $author : "Ikke oplyst i kilden";
  $ps := $danishDate(period.start);
  $planStart := $ps ? $ps : $danishDate(created);
  $planEnd := $danishDate(period.end);
  $base := function($title, $start, $end, $performer) {(
    $name := $trimmed($performer);
    $isDate($start) ? {
      "sector": "health",
      "title": $title,
      "responsibleUnit": $unit,
      "contact": $unit != "Ikke oplyst i kilden" ? { "name": $name ? $name : $unit, "unit": $unit } : { "name": $name ? $name : $unit },
      "period": $isDate($end) and $end >= $start ? { "start": $start, "end": $end } : { "start": $start },
      "dependsOn": [],
      "confidentiality": "normal",
      "topics": [$planType.topics]
    }
  )};
  $goalIds := function($refs) { [$refId($refs.reference, "Goal").("health:goal:" & $)] };
  $keys := $activityKeys($plan);
  $coded := [$map(activity, function($a, $i) {
    $a.detail ? { "d": $a.detail, "i": $i, "c": ($a.detail.code.coding[system and code])[0] }
  })][$exists(c)];
  $fragments := [$map($coded, function($x) {(
    $d := $x.d;
    $c := $x.c;
    $listed := $c.system = $activitySystem ? $lookup($activities, $c.code);
    $display := $listed ? $listed.display : ($c.display ? $c.display : ($d.code.text ? $d.code.text : $c.code));
    $description := $trimmed($d.description);
    $s := $danishDate($d.scheduledPeriod.start);
    $e := $danishDate($d.scheduledPeriod.end);
    $stated := ($d.extension[url = $legalBasisExtension].valueString)[0];
    {
      "kind": "intervention",
      "elementId": "health:careplan:" & $plan.id & ":activity:" & $keys[$x.i],
      "category": "health",
      "content": $merge([
        $base($description ? $description : $display, $s ? $s : $planStart, $e ? $e : $planEnd, $d.performer[0].display),
        {
          "legalBasis": $trim($stated ? $stated : ($planType.legalBasis ? $planType.legalBasis : "Sundhedsloven")),
          "type": { "system": $c.system, "code": $c.code, "display": $display },
          "order": 0,
          "status": $interventionStatus($d.status, $plan.status),
          "goalIds": $goalIds($d.goal)
        }
      ]),
      "formerElementId": "health:careplan:" & $plan.id & ":activity:" & $x.i
    }
  )})];
  $count($fragments) > 0 ? $fragments
  : ($typeCoding.code and $typeCoding.system) ? (
      $display := $planType ? $planType.display : ($typeCoding.display ? $typeCoding.display : (title ? title : $typeCoding.code));
      $title := $trimmed(title);
      [{
        "kind": "intervention",
        "elementId": "health:careplan:" & id,
        "category": "health",
        "content": $merge([
          $base($title ? $title : $display, $planStart, $planEnd),
          {
            "legalBasis": $planType.legalBasis ? $planType.legalBasis : "Sundhedsloven",
            "type": { "system": $typeCoding.system, "code": $typeCoding.code, "display": $display },
            "order": 0,
            "status": status = "completed" ? "ended" : status in ["revoked", "entered-in-error"] ? "cancelled" : status = "active" ? "active" : "planned",
            "goalIds": $goalIds(goal)
          }
        ])
      }]
    )
  : []
)`;

/**
 * `$activityKeys($plan)`: the key of each of the CarePlan's activities, by index (null for one that
 * makes no intervention). Given the plan, not `activity`: JSONata hands a one-item array on as the item.
 */
const activityKeysOf = (plan: { activity?: readonly CarePlanActivity[] } | undefined) => activityKeys(plan?.activity ?? []).map((key) => key ?? null);

const socialCodes: Record<string, { display: string; sector?: string; legalBasis?: string }> = {};
for (const list of [fsiii, ffb, careSocialCodes])
  for (const c of list.concepts) socialCodes[`${list.system}|${c.code}`] = { display: c.display, sector: c.sector, legalBasis: c.legalBasis };

export const jsonataMappings: Record<'dfdg' | 'education' | 'social' | 'health', JsonataMapping> = {
  dfdg: {
    recordType: 'activity',
    mirrors: 'dfdg.activity',
    expression: dfdgActivity,
    bindings: {
      activationSystem: activationTypes.system,
      activationTypes: byCode(activationTypes.codes, (c) => ({ display: c.display, sector: c.sector, legalBasis: c.legalBasis })),
      activityStatuses: byCode(activityStatuses.codes, (c) => c.status),
    },
  },
  education: {
    recordType: 'education-plan',
    mirrors: 'education.plan',
    expression: educationPlan,
    bindings: {
      programmes: byCode(educationProgrammes.codes, (c) => ({ display: c.display })),
      activityTypeSystem: planActivityTypes.system,
      activityTypes: byCode(planActivityTypes.codes, (c) => ({ display: c.display, sector: c.sector })),
      activityStatuses: byCode(planActivityStatuses.codes, (c) => c.status),
    },
  },
  social: {
    recordType: 'CarePlan',
    mirrors: 'social.careplan',
    expression: socialCarePlan,
    bindings: { codes: socialCodes, legalBasisExtension: LEGAL_BASIS_EXTENSION, enplanElementSystem: ENPLAN_ELEMENT_SYSTEM, activityKeys: activityKeysOf },
  },
  health: {
    recordType: 'CarePlan',
    mirrors: 'health.careplan',
    expression: healthCarePlan,
    bindings: {
      planTypeSystem: REGIONAL_PLAN_TYPE_SYSTEM,
      planTypes: byCode(regionalPlanTypes.concepts, (c) => ({ display: c.display, legalBasis: c.legalBasis, topics: c.topics })),
      activitySystem: regionalActivities.system,
      activities: byCode(regionalActivities.concepts, (c) => ({ display: c.display })),
      legalBasisExtension: LEGAL_BASIS_EXTENSION,
      activityKeys: activityKeysOf,
    },
  },
};

/** Compile once; `evaluate` is async in JSONata 2.x. */
export function compileJsonata(mapping: JsonataMapping): (input: unknown) => Promise<unknown> {
  const expression = jsonata(mapping.expression);
  return (input) => expression.evaluate(input, mapping.bindings);
}
