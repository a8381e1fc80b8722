/** Prints a development bearer token: `npm run token -- --tenant 101 --role caseworker [--provider P] [--citizen ID]`. */
import { parseArgs } from 'node:util';
import { loadConfig } from '../src/config';
import { Role, signDevToken } from '../src/security';

const { values } = parseArgs({
  options: {
    tenant: { type: 'string', default: '101' },
    role: { type: 'string', multiple: true, default: ['caseworker'] },
    sub: { type: 'string' },
    provider: { type: 'string' },
    citizen: { type: 'string' },
    ttl: { type: 'string', default: String(8 * 3600) },
  },
});
const config = loadConfig(process.env);
if (!config.auth.secret) {
  process.stderr.write('JWKS_URL is set: tokens come from the identity provider, not from here.\n');
  process.exit(2);
}
const roles = values.role!.map((r) => Role.parse(r));
const token = await signDevToken(
  config.auth.secret,
  { tenant: values.tenant!, roles, sub: values.sub, providerId: values.provider, citizenId: values.citizen },
  Number(values.ttl),
);
process.stdout.write(`${token}\n`);
