/**
 * `/v1/consent-texts`: the words a citizen agreed to, by version and language (R15). IT staff
 * register each text once; it is never changed (a new wording is a new version). Caseworkers, the
 * DPO and the citizen read them, so a consent's `signed.textVersion` and `signed.language` can always
 * be shown as the citizen saw them. Once a municipality has registered a text, every new consent
 * must name a registered one.
 */
import { z } from '@hono/zod-openapi';
import { actorOf } from '../security';
import { ProblemError } from './context';
import { problemResponses } from './problem';
import { newRouter } from './router';
import { securedRoute } from './security';

const json = <T extends z.ZodType>(schema: T, description: string) => ({ content: { 'application/json': { schema } }, description });
const Version = z.string().trim().min(1).max(64).regex(/^[A-Za-z0-9._-]+$/, 'letters, digits, dot, dash and underscore');
const Language = z.string().regex(/^[a-z]{2,3}(-[A-Za-z0-9]+)*$/, 'a BCP 47 language tag such as "da" or "ar"');

const ConsentTextSummary = z.object({ version: z.string(), language: z.string(), title: z.string(), createdAt: z.string(), createdBy: z.string() }).openapi('ConsentTextSummary');
const ConsentText = ConsentTextSummary.extend({ body: z.string() }).openapi('ConsentText');
const RegisterConsentText = z
  .strictObject({ version: Version, language: Language, title: z.string().trim().min(1).max(200), body: z.string().trim().min(1).max(20_000) })
  .openapi('RegisterConsentText');
const TextParams = z.object({
  version: Version.openapi({ param: { name: 'version', in: 'path' } }),
  language: Language.openapi({ param: { name: 'language', in: 'path' } }),
});
const readers = ['caseworker', 'it-staff', 'dpo', 'citizen'] as const;

export const consentTextRoutes = newRouter()
  .openapi(
    securedRoute([...readers], {
      method: 'get',
      path: '/v1/consent-texts',
      summary: 'The consent texts the municipality shows citizens: every version and language registered (R15)',
      responses: { 200: json(z.object({ texts: z.array(ConsentTextSummary) }), 'Oldest first, without their words') },
    }),
    async (c) => {
      const rows = await c.get('deps').store.consentTexts.list(c.get('principal').tenant);
      return c.json({ texts: rows.map(({ tenant: _t, ...row }) => row) }, 200);
    },
  )
  .openapi(
    securedRoute([...readers], {
      method: 'get',
      path: '/v1/consent-texts/{version}/{language}',
      summary: 'One consent text, word for word, as the citizen was shown it (R15)',
      request: { params: TextParams },
      responses: { 200: json(ConsentText, 'The text'), ...problemResponses(404) },
    }),
    async (c) => {
      const { version, language } = c.req.valid('param');
      const row = await c.get('deps').store.consentTexts.get(c.get('principal').tenant, version, language);
      if (!row) throw new ProblemError('not-found', `no consent text ${version} in ${language}`);
      const { tenant: _t, ...text } = row;
      return c.json(text, 200);
    },
  )
  .openapi(
    securedRoute(['it-staff'], {
      method: 'post',
      path: '/v1/consent-texts',
      summary: 'Register a consent text in one language (R15): never changed afterwards; the same words again change nothing',
      request: { body: { content: { 'application/json': { schema: RegisterConsentText } }, required: true } },
      responses: { 201: json(ConsentText, 'Registered'), 200: json(ConsentText, 'Registered before, with the same words'), ...problemResponses(409) },
    }),
    async (c) => {
      const { store, clock } = c.get('deps');
      const principal = c.get('principal');
      const request = c.req.valid('json');
      const row = { tenant: principal.tenant, ...request, createdAt: clock.now().toISOString(), createdBy: actorOf(principal) };
      const registered = { at: row.createdAt, actor: row.createdBy, action: 'consent-text.registered', targetType: 'consent-text', targetId: `${request.version}/${request.language}`, citizenId: null, detail: { title: request.title } };
      if (!(await store.audit.appendIfOneRowChanged(principal.tenant, [registered], store.consentTexts.addStatement(row)))) {
        const existing = (await store.consentTexts.get(principal.tenant, request.version, request.language))!;
        if (existing.title !== request.title || existing.body !== request.body)
          throw new ProblemError('consent-text-exists', `consent text ${request.version} in ${request.language} is registered with other words; register the new wording as a new version`);
        const { tenant: _t, ...text } = existing;
        return c.json(text, 200);
      }
      const { tenant: _t, ...text } = row;
      return c.json(text, 201);
    },
  );
