/** The `format` choice of the routes that answer JSON or FHIR R4 (`?format=fhir` or `Accept: application/fhir+json`). */
import { z } from '@hono/zod-openapi';
import { FHIR_JSON } from '../fhir';

/** Whether an Accept header asks for FHIR JSON before (or instead of) plain JSON. */
export function acceptsFhir(accept: string | undefined): boolean {
  if (!accept) return false;
  const types = accept.split(',').map((part) => {
    const [type = '', ...params] = part.trim().toLowerCase().split(';');
    const q = params.map((p) => p.trim()).find((p) => p.startsWith('q='));
    return { type: type.trim(), q: q ? Number(q.slice(2)) || 0 : 1 };
  });
  const fhir = Math.max(0, ...types.filter((t) => t.type === FHIR_JSON).map((t) => t.q));
  const json = Math.max(0, ...types.filter((t) => t.type === 'application/json').map((t) => t.q));
  return fhir > 0 && fhir >= json;
}

/** The `format` query parameter; `what` says what the JSON answer is. */
export const formatQuery = (what: string) =>
  z.object({
    format: z
      .enum(['json', 'fhir'])
      .optional()
      .openapi({
        param: { name: 'format', in: 'query' },
        description: `\`json\` (default): ${what}; \`fhir\`: the same as a FHIR R4 Bundle (\`application/fhir+json\`). \`Accept: application/fhir+json\` asks for FHIR too.`,
      }),
  });

/** The format asked for: an explicit `format` wins over the Accept header. */
export const formatOf = (format: 'json' | 'fhir' | undefined, accept: string | undefined): 'json' | 'fhir' => format ?? (acceptsFhir(accept) ? 'fhir' : 'json');

/** A FHIR R4 collection Bundle, described loosely: the FHIR specification defines its resources. */
export const fhirBundleSchema = (name: string, description: string) =>
  z
    .object({
      resourceType: z.literal('Bundle'),
      type: z.literal('collection'),
      meta: z.object({ tag: z.array(z.object({ system: z.string(), code: z.string() })) }).optional(),
      identifier: z.object({ system: z.string(), value: z.string() }).optional(),
      timestamp: z.string().optional(),
      entry: z.array(z.object({ fullUrl: z.string(), resource: z.looseObject({ resourceType: z.string(), id: z.string() }) })).optional(),
    })
    .openapi(name, { description });
