/**
 * `npm run token` (scripts/token.ts), as the README gives it: the token it prints must be one the
 * service accepts. Without --sub it printed a token with no `sub`, which every route refused as 401.
 */
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { createTokenVerifier } from '../../src/security';
import { TEST_JWT_SECRET } from '../support/harness';

const run = promisify(execFile);

async function tokenScript(...args: string[]): Promise<string> {
  const { stdout } = await run(process.execPath, ['--import', 'tsx', 'scripts/token.ts', ...args], { env: { PATH: process.env.PATH ?? '', JWT_SECRET: TEST_JWT_SECRET } });
  return stdout.trim();
}

describe('the dev token script', () => {
  const verify = createTokenVerifier({ secret: TEST_JWT_SECRET });

  it('prints a token the service accepts, with a subject even when none is given', { timeout: 30_000 }, async () => {
    const principal = await verify(await tokenScript('--tenant', '101', '--role', 'it-staff'));
    expect(principal).toMatchObject({ tenant: '101', roles: ['it-staff'], sub: 'dev-it-staff' });
  });

  it('keeps the subject, provider and citizen it is given', { timeout: 30_000 }, async () => {
    expect(await verify(await tokenScript('--tenant', '751', '--role', 'caseworker', '--sub', 'cw-7'))).toMatchObject({ tenant: '751', sub: 'cw-7' });
    expect(await verify(await tokenScript('--role', 'provider', '--provider', 'p-1'))).toMatchObject({ roles: ['provider'], providerId: 'p-1', sub: 'dev-provider' });
    expect(await verify(await tokenScript('--role', 'citizen', '--citizen', 'c-1'))).toMatchObject({ roles: ['citizen'], citizenId: 'c-1' });
  });
});
