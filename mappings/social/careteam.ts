/**
 * social.careteam — the CareTeam around a citizen's social case becomes the plan's coordinator: the
 * participant in the role of coordinating caseworker when there is one (a named caseworker), else
 * the team by name with its members (R5: one caseworker or a named small team).
 */
import { CareTeam } from '../../adapters/fhir/contract';
import { danishDateTime, unreadFieldReporter } from '../../adapters/fhir/fhir-values';
import { fragment, isEmail, MappingNotesCollector, NOT_STATED } from '../../adapters/fhir/mapping-support';
import { CARE_TEAM_ROLE_SYSTEM } from '../../adapters/fhir/systems';
import type { Mapping } from '../mapping';

export const careTeamElementId = (sector: 'social' | 'health', careTeamId: string) => `${sector}:careteam:${careTeamId}`;

/** The team's phone or e-mail: the first work one, else the first one. */
function workTelecom(team: CareTeam, system: 'phone' | 'email'): string | undefined {
  let first: string | undefined;
  for (const telecom of team.telecom ?? []) {
    if (telecom.system !== system || !telecom.value) continue;
    if (telecom.use === 'work') return telecom.value;
    first ??= telecom.value;
  }
  return first;
}

const COORDINATING_ROLE_TEXT = /koordinerende/i;

const reportUnreadTeamFields = unreadFieldReporter('CareTeam', ['status', 'name', 'subject', 'period', 'participant', 'managingOrganization', 'telecom']);

/** Coordinator content from a CareTeam; shared with the health mapping. */
export function coordinatorFromCareTeam(team: CareTeam, sector: 'social' | 'health', coordinatorRole: string | undefined, notes: MappingNotesCollector) {
  reportUnreadTeamFields(team, notes);
  const since = danishDateTime(team.period?.start) ?? danishDateTime(team.meta?.lastUpdated);
  if (!since) return { error: notes.fail('careteam.since', 'the CareTeam has no period start') };
  const members = (team.participant ?? []).filter((p) => p.member?.display?.trim());
  const coordinator = coordinatorRole
    ? members.find((p) =>
        p.role?.some((role) => role.coding?.some((c) => c.system === CARE_TEAM_ROLE_SYSTEM && c.code === coordinatorRole) || COORDINATING_ROLE_TEXT.test(role.text ?? '')),
      )
    : undefined;
  const name = coordinator?.member?.display?.trim() ?? team.name?.trim();
  if (!name) return { error: notes.fail('careteam.coordinator', 'the CareTeam names neither a coordinating caseworker nor itself') };
  const phone = workTelecom(team, 'phone');
  const email = workTelecom(team, 'email');
  if (email && !isEmail(email)) notes.ignore('CareTeam.telecom.email (not a valid address)');
  const content: Record<string, unknown> = {
    kind: coordinator ? ('caseworker' as const) : ('team' as const),
    name,
    sector,
    unit: team.managingOrganization?.[0]?.display?.trim() || team.name?.trim() || NOT_STATED,
    teamMembers: coordinator ? [] : members.map((p) => p.member!.display!.trim()),
    since,
  };
  // Set, not spread in (a spread inside a literal is a slow runtime copy); the model check builds
  // the fragment in the model's own field order anyway.
  if (phone) content.phone = phone;
  if (isEmail(email)) content.email = email;
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
    { id: 'careteam.id', source: 'CareTeam.id', target: 'coordinator element id', description: 'social:careteam:<id>; a CareTeam without id fails.' },
    { id: 'careteam.coordinator', source: 'CareTeam.participant (role coordinating-caseworker) | CareTeam.name', target: 'coordinator.kind, name, teamMembers', description: 'The participant in the coordinating caseworker role, else the team with its members.' },
    { id: 'careteam.unit', source: 'CareTeam.managingOrganization.display | name', target: 'coordinator.unit', description: 'The unit the citizen can contact.' },
    { id: 'careteam.telecom', source: 'CareTeam.telecom', target: 'coordinator.phone, email', description: 'Work numbers first; an invalid e-mail is left out and reported.' },
    { id: 'careteam.since', source: 'CareTeam.period.start', target: 'coordinator.since', description: 'A date is midnight Danish time.' },
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
