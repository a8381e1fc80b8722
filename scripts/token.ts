/** Prints a development bearer token: `npm run token -- --tenant 101 --role caseworker [--department social] [--system social] [--provider P] [--citizen ID]`. */
import { parseArgs } from 'node:util';
import { loadConfig } from '../src/config';
import { Department, SourceSystem } from '../src/model';
import { Role, signDevToken } from '../src/security';

const { values } = parseArgs({
  options: {
    tenant: { type: 'string', default: '101' },
    role: { type: 'string', multiple: true, default: ['caseworker'] },
    sub: { type: 'string' },
    provider: { type: 'string' },
    citizen: { type: 'string' },
    department: { type: 'string' },
    /** For a vendor: the sector system it supplies (its subscriptions serve that system alone). */
    system: { type: 'string' },
    ttl: { type: 'string', default: String(8 * 3600) },
  },
});
const config = loadConfig(process.env);
if (!config.auth.secret) {
  process.stderr.write('JWKS_URL is set: tokens come from the identity provider, not from here.\n');
  process.exit(2);
}
const roles = values.role!.map((r) => Role.parse(r));
if (values.department && !Department.safeParse(values.department).success) {
  process.stderr.write(`--department is one of: ${Department.options.join(', ')}\n`);
  process.exit(2);
}
if (values.system && !SourceSystem.safeParse(values.system).success) {
  process.stderr.write(`--system is one of: ${SourceSystem.options.join(', ')}\n`);
  process.exit(2);
}
const token = await signDevToken(
  config.auth.secret,
  { tenant: values.tenant!, roles, sub: values.sub, providerId: values.provider, citizenId: values.citizen, ...(values.department ? { department: values.department as Department } : {}), ...(values.system ? { system: values.system as SourceSystem } : {}) },
  Number(values.ttl),
);
process.stdout.write(`${token}\n`);
