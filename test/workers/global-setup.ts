/**
 * Runs in Node before the workerd tests: a DFDG simulator on loopback for the Cron Trigger test, and
 * an event receiver for the subscription test (it keeps what it got; `GET /received` lists it).
 */
import { createServer } from 'node:http';
import type { TestProject } from 'vitest/node';
import { startDfdgSimulator } from '../../adapters/dfdg';
import { generatePopulation } from '../../adapters/shared/population';

export const CRON_POPULATION_SEED = 515;
/** Citizens the DFDG simulator knows; each workerd test file takes its own (cron: 0, 1, 3; queue: 4–6). */
export const CRON_POPULATION_SIZE = 8;

export default async function setup(project: TestProject) {
  const population = generatePopulation(CRON_POPULATION_SIZE, CRON_POPULATION_SEED).map((c) => ({ ...c, sectors: { ...c.sectors, employment: true } }));
  const simulator = await startDfdgSimulator({ population, port: 0 });
  project.provide('dfdgUrl', simulator.url);
  const received: { headers: Record<string, unknown>; body: string }[] = [];
  const receiver = createServer((request, response) => {
    let body = '';
    request.on('data', (chunk) => (body += chunk));
    request.on('end', () => {
      if (request.method === 'GET') return response.end(JSON.stringify(received));
      received.push({ headers: request.headers, body });
      response.statusCode = 204;
      response.end();
    });
  });
  await new Promise<void>((resolve) => receiver.listen(0, '127.0.0.1', resolve));
  project.provide('receiverUrl', `http://127.0.0.1:${(receiver.address() as { port: number }).port}`);
  return async () => {
    await simulator.close();
    await new Promise<void>((resolve) => receiver.close(() => resolve()));
  };
}

declare module 'vitest' {
  export interface ProvidedContext {
    dfdgUrl: string;
    receiverUrl: string;
  }
}
