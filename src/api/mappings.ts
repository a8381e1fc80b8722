/**
 * `/v1/mappings`: the versioned mappings IT staff watch — list, detail (field rules, code lists,
 * latest-run health) and a preview that runs one mapping on a pasted record without storing it.
 */
import { z } from '@hono/zod-openapi';
import { readDfdgRecordXml } from '../../adapters/dfdg';
import { readEducationRecordXml } from '../../adapters/education/adapter';
import { runMapping } from '../../mappings/mapping';
import { monitoringOverview } from '../monitoring/overview';
import { ruleSetVersion } from '../rules';
import { ProblemError } from './context';
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
  })
  .refine((r) => (r.xml === undefined) !== (r.resource === undefined), { message: 'send either `xml` or `resource`' });

const xmlReaders: Record<string, (xml: string) => ReturnType<typeof readDfdgRecordXml>> = { dfdg: readDfdgRecordXml, education: readEducationRecordXml };
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
      summary: 'Run a mapping on a pasted record; nothing is stored',
      request: { params: IdParam, body: { content: { 'application/json': { schema: PreviewRequest } }, required: true } },
      responses: { 200: json(z.object({ ok: z.boolean(), fragments: z.array(z.unknown()).optional(), ruleId: z.string().optional(), reason: z.string().optional(), unknownCodes: z.array(z.unknown()), ignoredFields: z.array(z.string()) }), 'What the mapping made of it, or why it failed') },
    }),
    (c) => {
      const mapping = c.get('deps').mappings.all().find((m) => m.id === c.req.valid('param').id);
      if (!mapping) throw new ProblemError('not-found', 'no such mapping');
      const body = c.req.valid('json');
      let payload: unknown = body.resource;
      if (body.xml !== undefined) {
        const reader = xmlReaders[mapping.adapter];
        if (!reader) throw new ProblemError('validation-failed', `${mapping.adapter} records are FHIR JSON: send \`resource\``);
        const decoded = reader(body.xml);
        if (!decoded.ok) return c.json({ ok: false, ruleId: 'contract', reason: decoded.quarantined.reason, unknownCodes: [], ignoredFields: [] }, 200);
        if (decoded.record.recordType !== mapping.recordType)
          return c.json({ ok: false, ruleId: 'record-type', reason: `this is a ${decoded.record.recordType} record; ${mapping.id} maps ${mapping.recordType}`, unknownCodes: [], ignoredFields: [] }, 200);
        payload = decoded.record.payload;
      }
      const result = runMapping(mapping, payload, { now: c.get('deps').clock.now().toISOString(), ruleVersion: ruleSetVersion });
      return c.json(result as never, 200);
    },
  );
