/**
 * The plan as FHIR R4: a pure function from a `PlanView` — the plan as one reader may see it
 * (views/) — to a `collection` Bundle. It maps what the view holds and nothing else, so a provider's
 * Bundle has the provider's part, a citizen's Bundle the citizen's. Decisions (what maps to what,
 * ids, what is left out): docs/decisions/0015-fhir-export.md.
 *
 * - the plan → CarePlan (status and intent from the plan's status, period, Én plan category, the
 *   sector plans it replaces or frames, goals, activities, care team; purpose as description;
 *   situation, citizen views and agreements as notes)
 * - goal → Goal; intervention → ServiceRequest (a CarePlan activity); follow-up → Task (a CarePlan
 *   activity)
 * - coordinator and intervention contacts → CareTeam (a named coordinating team → its own CareTeam)
 * - members → Patient (pseudonymous citizen id, never a CPR number), a family → Group
 * - each provenance of an element → Provenance
 *
 * Every reference inside the Bundle is to an entry (`urn:uuid:` full URLs); resource ids are
 * name-based UUIDs (ids.ts), the plan's own ids stay in `identifier`.
 */
import type {
  Annotation,
  Bundle,
  BundleEntry,
  CarePlan,
  CarePlanActivity,
  CareTeam,
  CareTeamParticipant,
  CodeableConcept,
  Coding,
  ContactPoint,
  Extension,
  Goal,
  Group,
  Meta,
  Patient,
  Practitioner,
  Provenance,
  Resource,
  ServiceRequest,
  Task,
} from '@medplum/fhirtypes';
import type { Contact, Provenance as ElementProvenance, KeptVisibility } from '../model';
import type { PlanView } from '../views/plan-view';
import {
  carePlanIntent,
  carePlanStatus,
  careTeamRoles,
  careTeamStatus,
  goalLevelCoding,
  goalLifecycleStatus,
  sectorCoding,
  sectorPlanTypeCoding,
  serviceRequestStatus,
  sourceSystemNames,
  systems,
  taskStatus,
} from './codes';
import { fhirId } from './ids';
import { compact, instant, municipalityOrganization, providerOrganization } from './resources';

export interface PlanBundleOptions {
  /** When the Bundle was made (`Bundle.timestamp`); left out when not given, so the function stays deterministic. */
  generatedAt?: Date;
}

/** A reference to an entry of the Bundle; not tied to one resource type, so it fits every Reference(…) element. */
interface Ref {
  reference: string;
  type: Resource['resourceType'];
}
/** A reference that may point at nothing in the Bundle (a subject the view does not show), or at an element of an entry. */
interface LooseRef {
  reference?: string;
  type?: Resource['resourceType'];
  display?: string;
  extension?: Extension[];
}

const concept = (...coding: Coding[]): CodeableConcept => ({ coding });
const restricted: Coding = { system: systems.confidentiality, code: 'R', display: 'restricted' };

function telecom(contact: { phone?: string; email?: string }): ContactPoint[] | undefined {
  const points: ContactPoint[] = [];
  if (contact.phone) points.push({ system: 'phone', value: contact.phone, use: 'work' });
  if (contact.email) points.push({ system: 'email', value: contact.email, use: 'work' });
  return points.length > 0 ? points : undefined;
}

/** The plan as `view` shows it, as a FHIR R4 `collection` Bundle. */
export function planViewToFhirBundle(view: PlanView, options: PlanBundleOptions = {}): Bundle {
  const planKey = view.id;
  const idFor = (kind: string, key: string) => fhirId(planKey, kind, key);
  const protectedIds = new Set(view.view.protectedElementIds ?? []);

  // Entries by kind, in the order they are written out; each resource once, by its id.
  const entries = new Map<string, { resource: Resource; order: number }>();
  const order = ['CarePlan', 'Group', 'Patient', 'Goal', 'ServiceRequest', 'Task', 'CareTeam', 'Practitioner', 'Organization', 'Provenance'];
  const add = (resource: Resource): Ref => {
    const id = resource.id!;
    if (!entries.has(id)) entries.set(id, { resource, order: order.indexOf(resource.resourceType) });
    return { reference: `urn:uuid:${id}`, type: resource.resourceType };
  };
  // An element whose content consent gives named departments alone is restricted, and says to whom,
  // so a receiving system can keep it so (decision 0026) — as is a follow-up kept so after its element left.
  const elementMeta = (element: { id: string; provenance?: readonly ElementProvenance[]; keptVisibility?: KeptVisibility }, extra: Meta = {}): Meta | undefined => {
    const writer = element.provenance?.at(-1);
    const written = writer?.kind === 'source' ? writer.audience : undefined;
    const kept = element.keptVisibility?.audience;
    const audience = written && kept ? written.filter((d) => kept.includes(d)) : (written ?? kept);
    const tag = [...(extra.tag ?? []), ...(audience ?? []).map((code) => ({ system: systems.audience, code }))];
    const meta = compact<Meta>({ ...extra, tag: tag.length > 0 ? tag : undefined, security: protectedIds.has(element.id) || audience ? [restricted] : undefined });
    return Object.keys(meta).length > 0 ? meta : undefined;
  };
  const elementIdentifier = (elementId: string) => [{ system: systems.element, value: elementId }];

  // Organizations and people, shared by id.
  const municipality = (code: string): Ref => add(municipalityOrganization(idFor('municipality', code), code));
  const unit = (name: string): Ref => add({ resourceType: 'Organization', id: idFor('unit', name), name });
  const provider = (providerId: string): Ref => add(providerOrganization(idFor('provider', providerId), providerId));
  const person = (contact: Contact): Ref =>
    add(
      compact<Practitioner>({
        resourceType: 'Practitioner',
        id: idFor('person', JSON.stringify([contact.name, contact.unit ?? '', contact.phone ?? '', contact.email ?? ''])),
        name: [{ text: contact.name }],
        telecom: telecom(contact),
      }),
    );

  // The subject: members as Patients (pseudonymous ids only), a family as a Group.
  const subjectMembers = view.subject ? (view.subject.kind === 'citizen' ? [view.subject.member] : view.subject.members) : [];
  const memberById = new Map(subjectMembers.map((m) => [m.memberId, m]));
  const patient = (memberId: string): Ref => {
    const member = memberById.get(memberId);
    const identifier: { system: string; value: string }[] = [{ system: systems.member, value: memberId }];
    if (member?.citizenId) identifier.unshift({ system: systems.citizen, value: member.citizenId });
    return add(compact<Patient>({ resourceType: 'Patient', id: idFor('member', memberId), identifier, birthDate: member?.birthDate }));
  };
  let planSubject: LooseRef;
  if (view.subject?.kind === 'citizen') planSubject = patient(view.subject.member.memberId);
  else if (view.subject?.kind === 'family')
    planSubject = add(
      compact<Group>({
        resourceType: 'Group',
        id: idFor('family', view.id),
        type: 'person',
        actual: true,
        name: view.subject.name,
        quantity: view.subject.members.length,
        member: view.subject.members.map((m) =>
          compact({ entity: patient(m.memberId), inactive: m.leftAt ? true : undefined, period: m.leftAt ? { end: instant(m.leftAt) } : undefined }),
        ),
      }),
    );
  // Provider and municipality views do not show who the plan is for; the reference says so.
  else planSubject = { display: 'Planens borger eller familie (ikke en del af din visning)' };
  const subjectOf = (memberId: string | undefined): LooseRef => (memberId ? patient(memberId) : planSubject);

  const carePlanId = idFor('plan', view.id);
  const carePlanRef: Ref = { reference: `urn:uuid:${carePlanId}`, type: 'CarePlan' };
  const elementRefs = new Map<string, Ref>();

  // Goals.
  const goals = view.goals ?? [];
  const goalRefs = goals.map((goal) => {
    const reference: Ref = { reference: `urn:uuid:${idFor('goal', goal.id)}`, type: 'Goal' };
    elementRefs.set(goal.id, reference);
    return reference;
  });
  goals.forEach((goal) => {
    const children = goals.filter((g) => g.parentGoalId === goal.id);
    const resource: Goal = compact<Goal>({
      resourceType: 'Goal',
      id: idFor('goal', goal.id),
      meta: elementMeta(goal, tags(goal.ruleVersion, goal.topics)),
      identifier: elementIdentifier(goal.id),
      lifecycleStatus: goalLifecycleStatus[goal.status],
      achievementStatus: goal.status === 'achieved' ? concept({ system: systems.goalAchievement, code: 'achieved', display: 'Achieved' }) : undefined,
      category: [concept(sectorCoding(goal.sector)), concept(goalLevelCoding(goal.level))],
      description: compact<CodeableConcept>({ coding: goal.code ? [goal.code] : undefined, text: goal.title }),
      subject: subjectOf(goal.memberId),
      target: goal.targetDate ? [{ dueDate: goal.targetDate }] : undefined,
      note: goal.description ? [{ text: goal.description }] : undefined,
      // A sub-goal or progression goal is a milestone on the way to its parent (R1).
      extension: children.map((child) => ({
        url: systems.goalRelationship,
        extension: [
          { url: 'type', valueCodeableConcept: concept({ system: systems.goalRelationshipType, code: 'milestone', display: 'Milestone' }) },
          { url: 'target', valueReference: elementRefs.get(child.id)! },
        ],
      })),
    });
    add(resource);
  });

  // Interventions, in the plan's order.
  const interventions = [...(view.interventions ?? [])].sort((a, b) => a.order - b.order || a.id.localeCompare(b.id));
  for (const intervention of interventions) elementRefs.set(intervention.id, { reference: `urn:uuid:${idFor('intervention', intervention.id)}`, type: 'ServiceRequest' });
  const activities: CarePlanActivity[] = [];
  for (const intervention of interventions) {
    const responsible = unit(intervention.responsibleUnit);
    const extension: Extension[] = [
      { url: systems.legalBasis, valueString: intervention.legalBasis },
      ...intervention.goalIds.flatMap((goalId) => (elementRefs.has(goalId) ? [{ url: systems.pertainsToGoal, valueReference: elementRefs.get(goalId)! }] : [])),
    ];
    const resource = compact<ServiceRequest>({
      resourceType: 'ServiceRequest',
      id: idFor('intervention', intervention.id),
      meta: elementMeta(intervention, tags(intervention.ruleVersion, intervention.topics)),
      extension,
      identifier: elementIdentifier(intervention.id),
      basedOn: [carePlanRef],
      status: serviceRequestStatus[intervention.status],
      intent: 'plan',
      category: [concept(sectorCoding(intervention.sector))],
      code: { coding: [compact<Coding>({ ...intervention.type })], text: intervention.title },
      quantityRatio:
        intervention.hoursPerWeek === undefined
          ? undefined
          : { numerator: { value: intervention.hoursPerWeek, unit: 'h', system: systems.ucum, code: 'h' }, denominator: { value: 1, unit: 'wk', system: systems.ucum, code: 'wk' } },
      subject: patient(intervention.memberId),
      occurrencePeriod: compact({ start: intervention.period.start, end: intervention.period.end }),
      requester: responsible,
      performer: [intervention.providerId ? provider(intervention.providerId) : responsible],
    });
    activities.push({ reference: add(resource) });
  }

  // Follow-ups, by due date.
  const followUps = [...(view.followUps ?? [])].sort((a, b) => a.due.localeCompare(b.due) || a.id.localeCompare(b.id));
  for (const followUp of followUps) {
    const focus = followUp.elementId ? elementRefs.get(followUp.elementId) : undefined;
    const focusMember = followUp.elementId
      ? (view.goals?.find((g) => g.id === followUp.elementId)?.memberId ?? view.interventions?.find((i) => i.id === followUp.elementId)?.memberId)
      : (followUp.memberId ?? followUp.keptVisibility?.memberId);
    const forRef = subjectOf(focusMember);
    const resource = compact<Task>({
      resourceType: 'Task',
      id: idFor('follow-up', followUp.id),
      meta: elementMeta(followUp),
      identifier: elementIdentifier(followUp.id),
      basedOn: [carePlanRef],
      status: taskStatus(followUp.done),
      intent: 'plan',
      code: { text: 'Opfølgning' },
      description: followUp.text,
      focus,
      for: forRef.reference ? forRef : undefined,
      restriction: { period: { end: followUp.due } },
      executionPeriod: followUp.done && followUp.doneAt ? { end: instant(followUp.doneAt) } : undefined,
    });
    const reference = add(resource);
    elementRefs.set(followUp.id, reference);
    activities.push({ reference });
  }

  // The care team: the coordinator (R5) and the named contact of each intervention (R1).
  const participants: CareTeamParticipant[] = [];
  const coordinator = view.coordinator;
  if (coordinator) {
    const coordinatorUnit = unit(coordinator.unit);
    const period = { start: instant(coordinator.since) };
    const roles = [concept(coordinator.kind === 'team' ? careTeamRoles.coordinatingTeam : careTeamRoles.coordinator), concept(sectorCoding(coordinator.sector))];
    if (coordinator.kind === 'caseworker')
      participants.push({ role: roles, member: person({ name: coordinator.name, unit: coordinator.unit, phone: coordinator.phone, email: coordinator.email }), onBehalfOf: coordinatorUnit, period });
    else {
      const team = add(
        compact<CareTeam>({
          resourceType: 'CareTeam',
          id: idFor('coordinating-team', coordinator.name),
          status: careTeamStatus[view.status],
          name: coordinator.name,
          participant: coordinator.teamMembers.map((name) => ({ role: [concept(careTeamRoles.teamMember)], member: person({ name, unit: coordinator.unit }), onBehalfOf: coordinatorUnit })),
          managingOrganization: [coordinatorUnit],
          telecom: telecom(coordinator),
        }),
      );
      participants.push({ role: roles, member: team, period });
    }
  }
  const contactKeys = new Set<string>();
  // Teams a sector system names for a member (a CareTeam there): contacts, not the coordinator (R5).
  for (const team of view.careTeams ?? []) {
    const member = person({ name: team.name, unit: team.unit, phone: team.phone, email: team.email });
    if (contactKeys.has(member.reference)) continue;
    contactKeys.add(member.reference);
    participants.push({ role: [concept(careTeamRoles.contact), concept(sectorCoding(team.sector))], member, onBehalfOf: unit(team.unit) });
  }
  for (const intervention of interventions) {
    const contact = { ...intervention.contact, unit: intervention.contact.unit ?? intervention.responsibleUnit };
    const member = person(contact);
    if (contactKeys.has(member.reference)) continue;
    contactKeys.add(member.reference);
    participants.push({ role: [concept(careTeamRoles.contact), concept(sectorCoding(intervention.sector))], member, onBehalfOf: unit(contact.unit) });
  }
  const careTeam =
    participants.length > 0
      ? add({ resourceType: 'CareTeam', id: idFor('care-team', view.id), status: careTeamStatus[view.status], name: 'Én plan', subject: planSubject, participant: participants })
      : undefined;

  // Notes: the situation, the citizen's own views (in their language), the agreements.
  const notes: Annotation[] = [];
  const noteIds = new Map<string, string>();
  if (view.situation) {
    const { summary, barriers, resources } = view.situation;
    const lines = [`Situation: ${summary}`, barriers.length > 0 ? `Barrierer: ${barriers.join('; ')}` : '', resources.length > 0 ? `Ressourcer: ${resources.join('; ')}` : ''];
    notes.push({ id: 'situation', text: lines.filter(Boolean).join('\n\n') });
  }
  // A note keeps the element's id as its own (element ids are unique in a plan), so a Provenance can point at it.
  const noteId = (elementId: string, kind: string) => (/^\S{1,128}$/.test(elementId) && elementId !== 'situation' ? elementId : `note-${idFor(kind, elementId)}`);
  for (const citizenView of view.citizenViews ?? []) {
    const id = noteId(citizenView.id, 'citizen-view');
    noteIds.set(citizenView.id, id);
    const author = memberById.has(citizenView.memberId) ? { authorReference: patient(citizenView.memberId) } : { authorString: citizenView.recordedBy };
    notes.push({ id, extension: [{ url: systems.language, valueCode: citizenView.language }], ...author, time: instant(citizenView.recordedAt), text: citizenView.text });
  }
  for (const note of view.situationNotes ?? []) {
    const id = noteId(note.id, 'situation-note');
    noteIds.set(note.id, id);
    const lines = [note.summary, note.barriers.length > 0 ? `Barrierer: ${note.barriers.join('; ')}` : '', note.resources.length > 0 ? `Ressourcer: ${note.resources.join('; ')}` : ''];
    notes.push({ id, text: lines.filter(Boolean).join('\n\n') });
  }
  for (const agreement of view.agreements ?? []) {
    const id = noteId(agreement.id, 'agreement');
    noteIds.set(agreement.id, id);
    notes.push({ id, authorString: `Aftale mellem ${agreement.parties.join(', ')}`, time: agreement.agreedAt, text: agreement.text });
  }

  const otherMunicipalities = (view.municipalities ?? []).filter((m) => m.code !== view.tenant).map((m) => municipality(m.code));
  const carePlan = compact<CarePlan>({
    resourceType: 'CarePlan',
    id: carePlanId,
    meta: compact<Meta>({
      versionId: view.version === undefined ? undefined : String(view.version),
      lastUpdated: view.updatedAt ? instant(view.updatedAt) : undefined,
      tag: view.ruleVersion ? [{ system: systems.ruleVersion, code: view.ruleVersion }] : undefined,
    }),
    identifier: [{ system: systems.plan, value: view.id }],
    replaces: (view.replaces ?? []).filter((r) => r.relation === 'replaces').map((r) => ({ type: 'CarePlan', display: sectorPlanTypeCoding(r.planType).display })),
    status: carePlanStatus[view.status],
    intent: carePlanIntent(view.status, view.statusHistory),
    category: [
      concept({ system: systems.planCategory, code: 'en-plan', display: 'Én plan (helhedsorienteret plan)' }),
      ...(view.replaces ?? []).map((r) => concept(sectorPlanTypeCoding(r.planType))),
    ],
    title: 'Én plan',
    description: view.purpose,
    subject: planSubject,
    period: view.timeFrame ? compact({ start: view.timeFrame.start, end: view.timeFrame.end }) : undefined,
    created: view.createdAt ? instant(view.createdAt) : undefined,
    author: municipality(view.tenant),
    contributor: otherMunicipalities,
    careTeam: careTeam ? [careTeam] : undefined,
    goal: goalRefs,
    activity: activities,
    note: notes,
  });
  if (Object.keys(carePlan.meta ?? {}).length === 0) delete carePlan.meta;
  add(carePlan);

  // One Provenance per source of each element the view shows with its provenance (R13).
  const provenanceOf = (elementId: string, target: LooseRef, provenances: readonly ElementProvenance[] | undefined) =>
    (provenances ?? []).forEach((source, index) => add(provenanceResource(idFor('provenance', `${elementId}#${index}`), target, source)));
  for (const goal of goals) provenanceOf(goal.id, elementRefs.get(goal.id)!, goal.provenance);
  for (const intervention of interventions) provenanceOf(intervention.id, elementRefs.get(intervention.id)!, intervention.provenance);
  for (const followUp of followUps) provenanceOf(followUp.id, elementRefs.get(followUp.id)!, followUp.provenance);
  const noteTarget = (elementId: string): LooseRef => ({ ...carePlanRef, extension: [{ url: systems.targetElement, valueUri: noteIds.get(elementId)! }] });
  for (const citizenView of view.citizenViews ?? []) provenanceOf(citizenView.id, noteTarget(citizenView.id), citizenView.provenance);
  for (const agreement of view.agreements ?? []) provenanceOf(agreement.id, noteTarget(agreement.id), agreement.provenance);
  for (const note of view.situationNotes ?? []) provenanceOf(note.id, noteTarget(note.id), note.provenance);

  const entry: BundleEntry[] = [...entries.values()]
    .sort((a, b) => a.order - b.order)
    .map(({ resource }) => ({ fullUrl: `urn:uuid:${resource.id}`, resource }));
  return compact<Bundle>({
    resourceType: 'Bundle',
    meta: { tag: [{ system: systems.view, code: view.view.as }] },
    type: 'collection',
    timestamp: options.generatedAt?.toISOString(),
    entry,
  });
}

/** The rule version an element was made under (R25) and its topic tags, as `meta.tag`. */
function tags(ruleVersion: string, topics: readonly string[]): Meta {
  return { tag: [{ system: systems.ruleVersion, code: ruleVersion }, ...topics.map((topic) => ({ system: systems.topic, code: topic }))] };
}

/**
 * One source of an element: a record of a sector system through a versioned mapping (the system is
 * the custodian, the Én plan layer the assembler; mapping and consent in `policy`), or a
 * registration by an actor (the author).
 */
function provenanceResource(id: string, target: LooseRef, source: ElementProvenance): Provenance {
  if (source.kind === 'registration')
    return {
      resourceType: 'Provenance',
      id,
      target: [target],
      recorded: instant(source.at),
      agent: [
        {
          type: concept({ system: systems.participantType, code: 'author', display: 'Author' }),
          who: { identifier: { system: systems.actor, value: source.actor }, display: source.actor },
        },
      ],
      entity: [{ role: 'source', what: { identifier: { system: systems.registration, value: source.registrationId }, display: `Registrering ${source.registrationId}` } }],
    };
  const sequence = source.sequence ? `, del ${source.sequence}` : '';
  return {
    resourceType: 'Provenance',
    id,
    target: [target],
    recorded: instant(source.at),
    policy: [systems.mapping(source.mappingId, source.mappingVersion), ...(source.consentRef ? [systems.consent(source.consentRef)] : [])],
    agent: [
      {
        type: concept({ system: systems.participantType, code: 'custodian', display: 'Custodian' }),
        who: { type: 'Device', identifier: { system: systems.sourceSystem, value: source.system }, display: sourceSystemNames[source.system] ?? source.system },
      },
      {
        type: concept({ system: systems.participantType, code: 'assembler', display: 'Assembler' }),
        who: { type: 'Device', display: `Én plan integration layer, mapping ${source.mappingId}@${source.mappingVersion}` },
      },
    ],
    entity: [
      {
        role: 'source',
        what: {
          identifier: { system: systems.sourceRecord(source.system), value: source.recordId },
          display: `${sourceSystemNames[source.system] ?? source.system}: post ${source.recordId}, version ${source.recordVersion}${sequence}`,
        },
      },
    ],
  };
}
