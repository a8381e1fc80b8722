/**
 * `/v1/mappings`: the versioned mappings IT staff watch — list, detail (field rules, code lists,
 * latest-run health) and a preview that runs one mapping on a pasted record without storing it.
 */
import { z } from '@hono/zod-openapi';
import { readDfdgRecordXml } from '../../adapters/dfdg';
import { readEducationRecordXml } from '../../adapters/education/adapter';
import { runMapping, type Mapping } from '../../mappings/mapping';
import { monitoringOverview } from '../monitoring/overview';
import { ruleSetVersion } from '../rules';
import type { Principal } from '../security';
import { MASKING_NOTE, maskCprLikeIn, openQuarantinedPayload } from '../sync/quarantine';
import { ProblemError, type AppDeps } from './context';
import { problemResponses } from './problem';
import { newRouter } from './router';
import { securedRoute } from './security';

const json = <T extends z.ZodType>(schema: T, description: string) => ({ content: { 'application/json': { schema } }, description });
const Summary = z.object({ id: z.string(), version: z.string(), adapter: z.string(), recordType: z.string(), description: z.string() });
const Detail = Summary.extend({
  rules: z.array(z.object({ id: z.string(), source: z.string(), target: z.string(), description: z.string() })),
  codeLists: z.array(z.object({ id: z.string(), system: z.string(), origin: z.string(), size: z.number() })),
  lastRun: z.unknown(),
});
/** Deeper than any FHIR resource we map; the record contracts recurse into nested extensions. */
const MAX_RESOURCE_DEPTH = 64;

/** Whether a parsed JSON value nests deeper than `limit`, found without recursion of our own. */
function nestsDeeperThan(value: unknown, limit: number): boolean {
  const pending: [unknown, number][] = [[value, 0]];
  while (pending.length > 0) {
    const [node, depth] = pending.pop()!;
    if (node === null || typeof node !== 'object') continue;
    if (depth >= limit) return true;
    for (const child of Object.values(node)) pending.push([child, depth + 1]);
  }
  return false;
}

const PreviewRequest = z
  .object({
    /** A SOAP record document (DFDG, education) as the source sends it. */
    xml: z.string().max(2_000_000).optional(),
    /** A FHIR resource (social, health) as JSON; a pasted resource nested absurdly deep would exhaust the stack of the contract check. */
    resource: z
      .record(z.string(), z.unknown())
      .refine((resource) => !nestsDeeperThan(resource, MAX_RESOURCE_DEPTH), `the resource nests deeper than ${MAX_RESOURCE_DEPTH} levels`)
      .optional(),
    /** A quarantined record of this mapping's record type: its stored payload is previewed, and the look audited. */
    quarantineId: z.string().min(1).max(100).optional(),
  })
  .refine((r) => [r.xml, r.resource, r.quarantineId].filter((v) => v !== undefined).length === 1, { message: 'send one of `xml`, `resource` or `quarantineId`' });

const xmlReaders: Record<string, (xml: string) => ReturnType<typeof readDfdgRecordXml>> = { dfdg: readDfdgRecordXml, education: readEducationRecordXml };

const failed = (ruleId: string, reason: string) => ({ ok: false, ruleId, reason, unknownCodes: [], ignoredFields: [] });

/** What a mapping makes of one record — a SOAP record document, or a record as JSON — stored nowhere. */
export function previewRecord(mapping: Mapping, input: { xml: string } | { resource: unknown }, now: string) {
  let payload = 'resource' in input ? input.resource : undefined;
  if ('xml' in input) {
    const reader = xmlReaders[mapping.adapter];
    if (!reader) throw new ProblemError('validation-failed', `${mapping.adapter} records are FHIR JSON: send \`resource\``);
    const decoded = reader(input.xml);
    if (!decoded.ok) return failed('contract', decoded.quarantined.reason);
    if (decoded.record.recordType !== mapping.recordType) return failed('record-type', `this is a ${decoded.record.recordType} record; ${mapping.id} maps ${mapping.recordType}`);
    payload = decoded.record.payload;
  }
  return runMapping(mapping, payload, { now, ruleVersion: ruleSetVersion });
}

/** A quarantined payload as the preview takes it: a SOAP record document, or the record as JSON (what the engine keeps of a pulled record). */
function storedRecord(mapping: Mapping, text: string): { xml: string } | { resource: unknown } | { unreadable: string } {
  if (text.trimStart().startsWith('<')) return xmlReaders[mapping.adapter] ? { xml: text } : { unreadable: 'the stored payload is XML, and this mapping reads JSON' };
  try {
    const resource: unknown = JSON.parse(text);
    if (resource && typeof resource === 'object' && !Array.isArray(resource) && !nestsDeeperThan(resource, MAX_RESOURCE_DEPTH)) return { resource };
  } catch {
    // Cut at the length kept, or not a record: said below.
  }
  return { unreadable: 'the stored payload is not a whole record (cut at the length kept, or not one JSON object), so it cannot be previewed' };
}
const IdParam = z.object({ id: z.string().min(1).max(100).openapi({ param: { name: 'id', in: 'path' } }) });

export const mappingRoutes = newRouter()
  .openapi(
    securedRoute(['it-staff'], { method: 'get', path: '/v1/mappings', summary: 'Every mapping with its version', responses: { 200: json(z.object({ mappings: z.array(Summary) }), 'The mappings') } }),
    (c) => c.json({ mappings: c.get('deps').mappings.all().map(({ id, version, adapter, recordType, description }) => ({ id, version, adapter, recordType, description })) }, 200),
  )
  .openapi(
    securedRoute(['it-staff'], { method: 'get', path: '/v1/mappings/{id}', summary: 'A mapping’s field rules, code lists and latest-run health', request: { params: IdParam }, responses: { 200: json(Detail, 'The mapping') } }),
    async (c) => {
      const deps = c.get('deps');
      const mapping = deps.mappings.all().find((m) => m.id === c.req.valid('param').id);
      if (!mapping) throw new ProblemError('not-found', 'no such mapping');
      const health = (await monitoringOverview(deps, c.get('principal').tenant)).mappings.find((m) => m.id === mapping.id);
      const { id, version, adapter, recordType, description, rules, codeLists } = mapping;
      return c.json({ id, version, adapter, recordType, description, rules: [...rules], codeLists: [...codeLists], lastRun: health?.lastRun ?? null }, 200);
    },
  )
  .openapi(
    securedRoute(['it-staff'], {
      method: 'post',
      path: '/v1/mappings/{id}/preview',
      summary: 'Run a mapping on a pasted record, or on a quarantined record’s stored payload (audited; CPR numbers masked in the answer); nothing is stored',
      request: { params: IdParam, body: { content: { 'application/json': { schema: PreviewRequest } }, required: true } },
      responses: {
        200: json(
          z.object({ ok: z.boolean(), fragments: z.array(z.unknown()).optional(), ruleId: z.string().optional(), reason: z.string().optional(), unknownCodes: z.array(z.unknown()), ignoredFields: z.array(z.string()), note: z.string().optional() }),
          'What the mapping made of it, or why it failed',
        ),
        ...problemResponses(400, 404, 409, 410),
      },
    }),
    async (c) => {
      const deps = c.get('deps');
      const mapping = deps.mappings.all().find((m) => m.id === c.req.valid('param').id);
      if (!mapping) throw new ProblemError('not-found', 'no such mapping');
      const body = c.req.valid('json');
      const now = deps.clock.now().toISOString();
      if (body.quarantineId === undefined) return c.json(previewRecord(mapping, body.xml !== undefined ? { xml: body.xml } : { resource: body.resource }, now) as never, 200);
      return c.json((await previewQuarantined(deps, c.get('principal'), body.quarantineId, mapping)) as never, 200);
    },
  );

/**
 * A quarantined record's stored payload through a mapping now (the current version, or one being
 * tried): opened, its look audited, mapped, and what came out masked as the payload is shown.
 */
export async function previewQuarantined(deps: AppDeps, principal: Principal, quarantineId: string, mapping: Mapping) {
  const { text } = await openQuarantinedPayload(deps, principal, quarantineId, { purpose: 'preview', mapping });
  const input = storedRecord(mapping, text);
  const result = 'unreadable' in input ? failed('contract', input.unreadable) : previewRecord(mapping, input, deps.clock.now().toISOString());
  return { ...(maskCprLikeIn(result) as Record<string, unknown>), note: `${mapping.id} ${mapping.version} run on quarantined record ${quarantineId}'s stored payload; ${MASKING_NOTE}` };
}
