/**
 * education.plan: the young person's education plan (uddannelsesplan, KUI § 2 a) becomes the
 * education goal (topic `education-goal`), the planned municipal measures as interventions under
 * KUI § 2 a (sector from the activity type: education, employment or social), and the next
 * follow-up of the plan.
 *
 * Unknown codes: an unknown education programme or activity type is MAPPED with the display
 * "ukendt kode" and reported — the plan says what the young person aims at and does, and hiding
 * it would mislead more than an unnamed code. An unknown activity STATUS fails the record (rule
 * `plan.activity-status`): the status says whether a measure is running, and a guess would be wrong.
 */
import type { Mapping } from '../mapping';
import { Uddannelsesplan } from '../../adapters/education/contract';
import { MappingRun, UNKNOWN_CODE_DISPLAY } from '../../adapters/soap/mapping-support';
import { educationProgrammes, planActivityStatuses, planActivityTypes } from './code-lists';

export const MAPPING_VERSION = '1.0.0';

/** The education plan and every measure in it rest on this provision. */
export const EDUCATION_PLAN_BASIS = 'KUI § 2 a';

export const youthUnit = (municipalityCode: string) => `Ungeindsatsen (kommune ${municipalityCode})`;

const consumed = new Set([
  'UddannelsesplanId',
  'CPRNr',
  'KommuneKode',
  'Uddannelsesmaal.UddannelseKode',
  'Uddannelsesmaal.Beskrivelse',
  'Uddannelsesmaal.ForventetStartDato',
  'PlanlagtAktivitet[].AktivitetId',
  'PlanlagtAktivitet[].AktivitetKode',
  'PlanlagtAktivitet[].AktivitetStatus',
  'PlanlagtAktivitet[].Beskrivelse',
  'PlanlagtAktivitet[].StartDato',
  'PlanlagtAktivitet[].SlutDato',
  'PlanlagtAktivitet[].TimerPrUge',
  'Vejleder.Navn',
  'Vejleder.Enhed',
  'Vejleder.Telefon',
  'Vejleder.Email',
  'NaesteOpfoelgning',
  'Version',
  'SenestAendret',
]);

export const educationPlanMapping: Mapping<Uddannelsesplan> = {
  id: 'education.plan',
  version: MAPPING_VERSION,
  adapter: 'education',
  recordType: 'education-plan',
  description: 'The KUI education plan as the education goal, the planned measures and the next follow-up.',
  sourceSchema: Uddannelsesplan,
  rules: [
    { id: 'plan.goal', source: 'Uddannelsesmaal', target: 'goal (topic education-goal)', description: 'Title: Beskrivelse, else the programme display; target date: expected start; `education:education-goal:<UddannelsesplanId>`' },
    { id: 'plan.activity', source: 'PlanlagtAktivitet[]', target: 'intervention (KUI § 2 a)', description: 'Sector and type from the activity types (unknown → "ukendt kode"); ordered as planned; serves the goal' },
    { id: 'plan.activity-status', source: 'PlanlagtAktivitet[].AktivitetStatus', target: 'intervention.status', description: 'Looked up; unknown → the record fails' },
    { id: 'plan.activity-period', source: 'PlanlagtAktivitet[].StartDato, SlutDato', target: 'intervention.period', description: 'The end may not be before the start' },
    { id: 'plan.guide', source: 'Vejleder', target: 'intervention.contact, responsibleUnit', description: 'The guide; the unit is Vejleder/Enhed, else the municipality’s youth effort' },
    { id: 'plan.follow-up', source: 'NaesteOpfoelgning', target: 'followUp', description: 'The next follow-up of the plan, on the goal; `education:plan-follow-up:<UddannelsesplanId>`' },
  ],
  codeLists: [educationProgrammes.ref, planActivityTypes.ref, planActivityStatuses.ref],
  map(plan) {
    const run = new MappingRun();
    const id = plan.UddannelsesplanId;
    const goal = plan.Uddannelsesmaal;
    const programme = educationProgrammes.lookup(goal.UddannelseKode);
    if (!programme) run.unknownCode(educationProgrammes.system, goal.UddannelseKode);
    const goalId = `education:education-goal:${id}`;
    const unit = plan.Vejleder?.Enhed ?? youthUnit(plan.KommuneKode);
    const contact = { name: plan.Vejleder?.Navn ?? unit, unit, phone: plan.Vejleder?.Telefon, email: plan.Vejleder?.Email };

    const activities = [];
    for (const [order, activity] of plan.PlanlagtAktivitet.entries()) {
      const type = planActivityTypes.lookup(activity.AktivitetKode);
      if (!type) run.unknownCode(planActivityTypes.system, activity.AktivitetKode);
      const status = planActivityStatuses.lookup(activity.AktivitetStatus)?.status;
      if (!status) {
        run.unknownCode(planActivityStatuses.system, activity.AktivitetStatus);
        run.ignoreUnread(plan, consumed);
        return run.fail('plan.activity-status', `unknown activity status ${activity.AktivitetStatus} in planned activity ${order + 1}`);
      }
      if (activity.SlutDato && activity.SlutDato < activity.StartDato) {
        run.ignoreUnread(plan, consumed);
        return run.fail('plan.activity-period', `planned activity ${order + 1} ends before it starts`);
      }
      const display = type?.display ?? UNKNOWN_CODE_DISPLAY;
      activities.push({
        kind: 'intervention' as const,
        elementId: `education:plan-activity:${activity.AktivitetId}`,
        category: 'education' as const,
        content: {
          sector: type?.sector ?? ('education' as const),
          legalBasis: EDUCATION_PLAN_BASIS,
          type: { system: planActivityTypes.system, code: activity.AktivitetKode, display },
          title: activity.Beskrivelse ?? display,
          responsibleUnit: unit,
          contact,
          period: { start: activity.StartDato, end: activity.SlutDato },
          order,
          status,
          goalIds: [goalId],
          hoursPerWeek: activity.TimerPrUge,
        },
      });
    }
    run.ignoreUnread(plan, consumed);

    const followUp = plan.NaesteOpfoelgning
      ? [
          {
            kind: 'followUp' as const,
            elementId: `education:plan-follow-up:${id}`,
            category: 'education' as const,
            content: { due: plan.NaesteOpfoelgning, text: 'Opfølgning på uddannelsesplanen', elementId: goalId, done: false },
          },
        ]
      : [];
    return run.finish([
      {
        kind: 'goal',
        elementId: goalId,
        category: 'education',
        content: {
          level: 'overall',
          title: goal.Beskrivelse ?? programme?.display ?? UNKNOWN_CODE_DISPLAY,
          description: `${programme?.display ?? UNKNOWN_CODE_DISPLAY} (${goal.UddannelseKode})`,
          sector: 'education',
          status: 'active',
          targetDate: goal.ForventetStartDato,
          topics: ['education-goal'],
        },
      },
      ...activities,
      ...followUp,
    ]);
  },
};
