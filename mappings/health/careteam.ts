/**
 * health.careteam — the region's treating team becomes a care-team contact of kind `team` in
 * sector `health` (data category `health`): who in the region the citizen and caseworker can reach.
 * It never becomes the plan's responsible coordinator, whom the municipality appoints (R5).
 */
import { CareTeam } from '../../adapters/fhir/contract';
import { fragment, MappingNotesCollector } from '../../adapters/fhir/mapping-support';
import type { Mapping } from '../mapping';
import { careTeamElementId, coordinatorFromCareTeam } from '../social/careteam';

export const healthCareTeamMapping: Mapping<CareTeam> = {
  id: 'health.careteam',
  version: '1.0.0',
  adapter: 'health',
  recordType: 'CareTeam',
  description: 'The regional treating team: a health care-team contact (kind team) with its members and contact.',
  sourceSchema: CareTeam,
  rules: [
    { id: 'careteam.id', source: 'CareTeam.id', target: 'care team element id', description: 'health:careteam:<id>.' },
    { id: 'careteam.coordinator', source: 'CareTeam.name, participant', target: 'careTeams[] (kind team)', description: 'The team by name with its named members.' },
    { id: 'careteam.unit', source: 'CareTeam.managingOrganization.display', target: 'careTeams[].unit', description: 'The hospital or centre.' },
    { id: 'careteam.since', source: 'CareTeam.period.start', target: 'careTeams[].since', description: 'A date is midnight Danish time.' },
    { id: 'careteam.category', source: '—', target: 'data category', description: 'Always health.' },
  ],
  codeLists: [],
  map(team) {
    const notes = new MappingNotesCollector();
    if (!team.id) return notes.fail('careteam.id', 'the CareTeam has no id');
    if (team.status === 'inactive' || team.status === 'entered-in-error' || team.status === 'suspended') return notes.ok([]);
    const result = coordinatorFromCareTeam(team, 'health', undefined, notes);
    if ('error' in result) return result.error!;
    return notes.ok([fragment('coordinator', careTeamElementId('health', team.id), 'health', result.content)]);
  },
};
