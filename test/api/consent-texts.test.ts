/** The consent texts (R15): registered once per version and language by IT staff, read by those who must show them, and named by every consent once a municipality keeps them. */
import { describe, expect, it } from 'vitest';
import { testCpr } from '../support/cpr';
import { startTestApp } from '../support/node-app';

async function setUp() {
  const app = await startTestApp();
  const call = async (method: string, path: string, roles: string[], body?: unknown, tenant = '101', extra: Record<string, string> = {}) => {
    const token = await app.harness.token({ tenant, roles: roles as never, ...extra });
    const response = await app.harness.request(path, { method, headers: { authorization: `Bearer ${token}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }) }, body: body === undefined ? undefined : JSON.stringify(body) });
    // eslint-disable-next-line @typescript-eslint/no-explicit-any -- checked field by field
    return { status: response.status, body: (await response.json()) as any };
  };
  return { ...app, call };
}

const danish = { version: 'samtykke-2026-2', language: 'da', title: 'Samtykke til Én plan', body: 'Jeg giver samtykke til, at kommunen samler mine planer i én plan.' };

describe('consent texts', () => {
  it('are registered once by IT staff, never changed, and read by caseworkers, the DPO and the citizen', async () => {
    const app = await setUp();
    const first = await app.call('POST', '/v1/consent-texts', ['it-staff'], danish);
    expect(first.status).toBe(201);
    expect(first.body).toMatchObject({ ...danish, createdBy: expect.stringContaining('it-staff') });
    expect((await app.call('POST', '/v1/consent-texts', ['it-staff'], danish)).status).toBe(200);
    const reworded = await app.call('POST', '/v1/consent-texts', ['it-staff'], { ...danish, body: 'Andre ord.' });
    expect(reworded.status).toBe(409);
    expect(reworded.body.type).toContain('consent-text-exists');
    expect((await app.call('POST', '/v1/consent-texts', ['caseworker'], { ...danish, version: 'x' })).status).toBe(403);
    expect((await app.call('POST', '/v1/consent-texts', ['it-staff'], { ...danish, language: 'Dansk' })).status).toBe(400);

    for (const [roles, extra] of [[['caseworker'], {}], [['dpo'], {}], [['citizen'], { citizenId: 'someone' }]] as const) {
      const listed = await app.call('GET', '/v1/consent-texts', [...roles], undefined, '101', extra);
      expect(listed.body.texts).toEqual([{ version: danish.version, language: 'da', title: danish.title, createdAt: expect.any(String), createdBy: expect.any(String) }]);
      const read = await app.call('GET', `/v1/consent-texts/${danish.version}/da`, [...roles], undefined, '101', extra);
      expect(read.body.body).toBe(danish.body);
    }
    expect((await app.call('GET', `/v1/consent-texts/${danish.version}/ar`, ['caseworker'])).status).toBe(404);
    // Another municipality's texts are its own.
    expect((await app.call('GET', `/v1/consent-texts/${danish.version}/da`, ['caseworker'], undefined, '751')).status).toBe(404);
    expect((await app.deps.store.audit.list('101')).filter((row) => row.action === 'consent-text.registered')).toHaveLength(1);
    await app.close();
  });

  it('are kept word for word: a NUL or half a surrogate pair, which cannot be stored as sent, is refused and nothing stored', async () => {
    const app = await setUp();
    // Sent as JSON text, so the escapes reach the service as written.
    const post = (json: string) => app.harness.request('/v1/consent-texts', { method: 'POST', headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' }, body: json });
    const token = await app.harness.token({ tenant: '101', roles: ['it-staff'] });
    const bodies = {
      'v-nul': '{"version": "v-nul", "language": "da", "title": "Samtykke", "body": "te\\u0000kst"}',
      'v-high': '{"version": "v-high", "language": "da", "title": "Samtykke \\ud800", "body": "Tekst"}',
      'v-low': '{"version": "v-low", "language": "da", "title": "\\udc00 Samtykke", "body": "Tekst"}',
    };
    for (const [version, json] of Object.entries(bodies)) {
      const refused = await post(json);
      expect(refused.status, version).toBe(400);
      expect(((await refused.json()) as { detail: string }).detail, version).toMatch(/^(body|title): holds a NUL character or half a surrogate pair/);
      expect((await app.call('GET', `/v1/consent-texts/${version}/da`, ['caseworker'])).status, version).toBe(404);
    }
    // A whole pair (an emoji, escaped) is text like any other, read back as sent.
    const whole = await post('{"version": "v-pair", "language": "da", "title": "Samtykke \\ud83d\\ude00", "body": "Tekst"}');
    expect(whole.status).toBe(201);
    expect((await app.call('GET', '/v1/consent-texts/v-pair/da', ['caseworker'])).body.title).toBe('Samtykke \u{1F600}');
    await app.close();
  });

  it('once a municipality keeps its texts, a consent must name one of them', async () => {
    const app = await setUp();
    const plan = (await app.call('POST', '/v1/plans', ['caseworker'], { cpr: testCpr(), origin: 'offered' })).body;
    const member = plan.subject.member.memberId;
    const grant = (textVersion: string, language = 'da') => app.call('POST', '/v1/consents', ['caseworker'], {
      planId: plan.id,
      memberId: member,
      source: 'dfdg',
      recipient: 'enplan',
      categories: ['employment'],
      purpose: 'Samlet plan',
      validFrom: '2026-11-01',
      signed: { method: 'mitid', documentRef: 'doc-1', textVersion, language },
      grantedBy: { memberId: member, capacity: 'self' },
    });
    // Before any text is registered, consents are taken as they come (a municipality starting out).
    expect((await grant('kommunens-eget-v1')).status).toBe(201);
    expect((await app.call('POST', '/v1/consent-texts', ['it-staff'], danish)).status).toBe(201);
    const unknown = await grant('kommunens-eget-v1');
    expect(unknown.status).toBe(400);
    expect(unknown.body.detail).toContain('no consent text kommunens-eget-v1 in da is registered');
    expect((await grant(danish.version, 'en')).status).toBe(400);
    expect((await grant(danish.version)).status).toBe(201);
    // The citizen's log points at the words they agreed to, and they can read them there.
    const citizen = { citizenId: plan.subject.member.citizenId };
    const flows = await app.call('GET', '/v1/citizen/data-flows', ['citizen'], undefined, '101', citizen);
    const path = flows.body.consents.find((c: { textVersion: string }) => c.textVersion === danish.version).textPath;
    expect(path).toBe(`/v1/consent-texts/${danish.version}/da`);
    expect((await app.call('GET', path, ['citizen'], undefined, '101', citizen)).body.body).toBe(danish.body);
    await app.close();
  });
});
