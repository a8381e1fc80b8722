/**
 * B2 set-up, in a process of its own: enrols `size` synthetic citizens into the SQLite file in
 * `dir` — an active plan each and consent to all four sources (health explicitly).
 *
 *   tsx bench/b2-seed.ts <dir> <size>
 */
import { generatePopulation } from '../adapters/shared/population';
import { loadConfig } from '../src/config';
import { birthDateFromCpr, ConsentGrant, Plan, type DataCategory, type SourceSystem } from '../src/model';
import { createLogger } from '../src/monitoring/log';
import { ruleSetVersion } from '../src/rules';
import { composeDeps } from '../src/runtime/compose';
import { databaseUrlFor, openLibsqlDatabase } from '../src/store/libsql';
import { consents as consentsTable, citizens as citizensTable } from '../src/store/schema';
import { allMappings } from '../src/sync/all-mappings';

const [dir, sizeText] = process.argv.slice(2);
const size = Number(sizeText);
const categories: Record<SourceSystem, DataCategory[]> = {
  dfdg: ['plan-core', 'employment', 'goals', 'interventions'],
  education: ['plan-core', 'education', 'goals', 'interventions'],
  social: ['plan-core', 'social', 'goals', 'interventions'],
  health: ['health'],
};

const config = loadConfig({ DATA_DIR: dir!, LOG_LEVEL: 'error' });
const database = await openLibsqlDatabase(databaseUrlFor(dir!));
const deps = await composeDeps({ database, config, logger: createLogger({ level: 'error' }), adapters: {}, mappings: allMappings });
const population = generatePopulation(size, 2026, '101');
const at = new Date().toISOString();
for (let i = 0; i < population.length; i += 500) {
  const statements = [];
  for (const citizen of population.slice(i, i + 500)) {
    const citizenId = crypto.randomUUID();
    const birthDate = birthDateFromCpr(citizen.cpr)!;
    statements.push(
      database.db.insert(citizensTable).values({ id: citizenId, tenant: '101', cprHash: await deps.vault.hash('101', citizen.cpr), cprCipher: await deps.vault.encrypt(citizen.cpr, { tenant: '101', citizenId }), birthDate, createdAt: at }),
    );
    const plan = Plan.parse({
      id: crypto.randomUUID(), tenant: '101', origin: 'offered', status: 'active',
      statusHistory: [{ to: 'offered', at, recordedBy: 'bench' }, { from: 'offered', to: 'accepted', at, recordedBy: 'bench' }, { from: 'accepted', to: 'active', at, recordedBy: 'bench' }],
      subject: { kind: 'citizen', member: { memberId: crypto.randomUUID(), citizenId, role: 'adult', birthDate } },
      ruleVersion: ruleSetVersion, createdAt: at, updatedAt: at, version: 1,
    });
    statements.push(...deps.store.plans.insertStatements(plan));
    for (const source of Object.keys(categories) as SourceSystem[]) {
      const grant = ConsentGrant.parse({
        id: crypto.randomUUID(), tenant: '101', citizenId, grantedBy: { citizenId, capacity: 'self' }, source, recipient: 'enplan', categories: categories[source],
        explicitHealth: source === 'health', purpose: 'B2', validFrom: '2026-01-01', signed: { method: 'mitid', documentRef: 'b2', textVersion: 'v1', language: 'da' }, createdAt: at,
      });
      statements.push(database.db.insert(consentsTable).values({ id: grant.id, tenant: '101', citizenId, kind: 'grant', document: JSON.stringify({ kind: 'grant', ...grant }), revokedAt: null, createdAt: at }));
    }
  }
  await database.batch(statements);
}
await database.close();
