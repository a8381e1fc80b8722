/**
 * social.careteam — the CareTeam around a citizen's social case becomes a care-team contact of the
 * member (`plan.careTeams`): the participant in the role of coordinating caseworker when there is one
 * (a named caseworker), else the team by name with its members. It never becomes the plan's
 * responsible coordinator, whom the municipality appoints (R5).
 */
import { CareTeam } from '../../adapters/fhir/contract';
import { danishDateTime, unreadFieldReporter } from '../../adapters/fhir/fhir-values';
import { fragment, isEmail, MappingNotesCollector, NOT_STATED } from '../../adapters/fhir/mapping-support';
import { CARE_TEAM_ROLE_SYSTEM } from '../../adapters/fhir/systems';
import type { Mapping } from '../mapping';

export const careTeamElementId = (sector: 'social' | 'health', careTeamId: string) => `${sector}:careteam:${careTeamId}`;

/** The team's phone or e-mail: the first work one, else the first one. */
function workTelecom(team: CareTeam, system: 'phone' | 'email'): string | undefined {
  const telecoms = team.telecom;
  if (!telecoms) return undefined;
  let first: string | undefined;
  for (const telecom of telecoms) {
    if (telecom.system !== system || !telecom.value) continue;
    if (telecom.use === 'work') return telecom.value;
    first ??= telecom.value;
  }
  return first;
}

const COORDINATING_ROLE_TEXT = /koordinerende/i;

type Participant = NonNullable<CareTeam['participant']>[number];

/** A role coded `coordinatorRole` in the care-team role system, or named "koordinerende …". */
function inRole(participant: Participant, coordinatorRole: string): boolean {
  const roles = participant.role;
  if (!roles) return false;
  for (let r = 0; r < roles.length; r++) {
    const role = roles[r]!;
    const codings = role.coding;
    if (codings)
      for (let i = 0; i < codings.length; i++) {
        const c = codings[i]!;
        if (c.system === CARE_TEAM_ROLE_SYSTEM && c.code === coordinatorRole) return true;
      }
    // (No text cannot say "koordinerende": the pattern is not run on nothing.)
    const text = role.text;
    if (text && COORDINATING_ROLE_TEXT.test(text)) return true;
  }
  return false;
}

/** The names of the participants that have one, trimmed, in order. */
function memberNames(participants: readonly Participant[] | undefined): string[] {
  const names: string[] = [];
  if (participants)
    for (let i = 0; i < participants.length; i++) {
      const name = participants[i]!.member?.display?.trim();
      if (name) names.push(name);
    }
  return names;
}

const reportUnreadTeamFields = unreadFieldReporter('CareTeam', ['status', 'name', 'subject', 'period', 'participant', 'managingOrganization', 'telecom']);

/** Coordinator content from a CareTeam; shared with the health mapping. */
export function coordinatorFromCareTeam(team: CareTeam, sector: 'social' | 'health', coordinatorRole: string | undefined, notes: MappingNotesCollector) {
  reportUnreadTeamFields(team, notes);
  const since = danishDateTime(team.period?.start) ?? danishDateTime(team.meta?.lastUpdated);
  if (!since) return { error: notes.fail('careteam.since', 'the CareTeam has no period start') };
  // The members are the participants with a name; the coordinator is the first of them in the
  // coordinating role (loops, not filter / find / some with a closure each, on every record).
  const participants = team.participant;
  let coordinator: Participant | undefined;
  if (coordinatorRole && participants)
    for (let i = 0; i < participants.length && !coordinator; i++) {
      const p = participants[i]!;
      if (p.member?.display?.trim() && inRole(p, coordinatorRole)) coordinator = p;
    }
  const name = coordinator?.member?.display?.trim() ?? team.name?.trim();
  if (!name) return { error: notes.fail('careteam.coordinator', 'the CareTeam names neither a coordinating caseworker nor itself') };
  const phone = workTelecom(team, 'phone');
  const email = workTelecom(team, 'email');
  const validEmail = isEmail(email) ? email : undefined;
  if (email && !validEmail) notes.ignoreField('CareTeam.telecom.email (not a valid address)');
  const kind = coordinator ? ('caseworker' as const) : ('team' as const);
  const unit = team.managingOrganization?.[0]?.display?.trim() || team.name?.trim() || NOT_STATED;
  const teamMembers = coordinator ? [] : memberNames(participants);
  // A literal for each shape, not keys set afterwards: a literal's hidden class lives as long as
  // this code, where a key added later makes a class that a full garbage collection between two
  // syncs can collect, and V8 then drops the optimised code built on it. (Nor a spread: a slow
  // runtime copy.) The model check builds the fragment in the model's own field order anyway.
  const content = phone
    ? validEmail
      ? { kind, name, sector, unit, teamMembers, since, phone, email: validEmail }
      : { kind, name, sector, unit, teamMembers, since, phone }
    : validEmail
      ? { kind, name, sector, unit, teamMembers, since, email: validEmail }
      : { kind, name, sector, unit, teamMembers, since };
  return { content };
}

/** An inactive team coordinates nothing, so all but its status and subject go unread. */
const reportUnreadInactiveTeamFields = unreadFieldReporter('CareTeam', ['status', 'subject']);

export const socialCareTeamMapping: Mapping<CareTeam> = {
  id: 'social.careteam',
  version: '1.0.0',
  adapter: 'social',
  recordType: 'CareTeam',
  description: 'The CareTeam of a social case: the coordinating caseworker, or the named team.',
  sourceSchema: CareTeam,
  rules: [
    { id: 'careteam.id', source: 'CareTeam.id', target: 'care team element id', description: 'social:careteam:<id>; a CareTeam without id fails.' },
    { id: 'careteam.coordinator', source: 'CareTeam.participant (role coordinating-caseworker) | CareTeam.name', target: 'careTeams[].kind, name, teamMembers', description: 'The participant in the coordinating caseworker role, else the team with its members.' },
    { id: 'careteam.unit', source: 'CareTeam.managingOrganization.display | name', target: 'careTeams[].unit', description: 'The unit the citizen can contact.' },
    { id: 'careteam.telecom', source: 'CareTeam.telecom', target: 'careTeams[].phone, email', description: 'Work numbers first; an invalid e-mail is left out and reported.' },
    { id: 'careteam.since', source: 'CareTeam.period.start', target: 'careTeams[].since', description: 'A date is midnight Danish time.' },
    { id: 'careteam.status', source: 'CareTeam.status', target: '—', description: 'An inactive or erroneous team coordinates nothing: no fragment.' },
  ],
  codeLists: [],
  map(team) {
    const notes = new MappingNotesCollector();
    if (!team.id) return notes.fail('careteam.id', 'the CareTeam has no id');
    if (team.status === 'inactive' || team.status === 'entered-in-error' || team.status === 'suspended') {
      reportUnreadInactiveTeamFields(team, notes);
      return notes.ok([]);
    }
    const result = coordinatorFromCareTeam(team, 'social', 'coordinating-caseworker', notes);
    if ('error' in result) return result.error!;
    return notes.ok([fragment('coordinator', careTeamElementId('social', team.id), 'plan-core', result.content)]);
  },
};
