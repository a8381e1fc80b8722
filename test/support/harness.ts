/**
 * What an API test needs, whatever runtime the app runs in: a way to send a request and a way
 * to mint tokens. The Node harness below runs the app in-process on an in-memory libSQL database;
 * the Workers harness (test/workers) runs the real worker in workerd on D1.
 */
import type { Role } from '../../src/security';
import type { Department, SourceSystem } from '../../src/model';

export interface ApiHarness {
  request(path: string, init?: RequestInit): Promise<Response>;
  token(claims: { tenant: string; roles: Role[]; sub?: string; providerId?: string; citizenId?: string; department?: Department; system?: SourceSystem }, ttlSeconds?: number): Promise<string>;
}

export const TEST_JWT_SECRET = 'test-secret-for-the-enplan-suite';
export const TEST_CPR_KEY = 'test-cpr-key-for-the-enplan-suite';
