/**
 * B2's sector systems in a process of their own: the four simulators over the shared synthetic
 * population, on loopback. Prints their URLs as one JSON line; then takes commands on stdin:
 * `mutate <fraction>` changes that share of every simulator's records and answers `mutated <n>`.
 */
import { createInterface } from 'node:readline';
import { startDfdgSimulator } from '../adapters/dfdg';
import { startEducationSimulator } from '../adapters/education/simulator';
import { startHealthSimulator } from '../adapters/health/simulator';
import { generatePopulation } from '../adapters/shared/population';
import { startSocialSimulator } from '../adapters/social/simulator';

const size = Number(process.argv[2] ?? 50_000);
const seed = 2026;
const population = generatePopulation(size, seed, '101');
const [dfdg, education, social, health] = await Promise.all([
  startDfdgSimulator({ population, seed, port: 0 }),
  startEducationSimulator({ population, seed, port: 0 }),
  startSocialSimulator({ population, seed, port: 0 }),
  startHealthSimulator({ population, seed, port: 0 }),
]);
process.stdout.write(`${JSON.stringify({ DFDG_URL: dfdg.url, EDUCATION_URL: education.url, SOCIAL_FHIR_URL: social.baseUrl, HEALTH_FHIR_URL: health.baseUrl })}\n`);

for await (const line of createInterface({ input: process.stdin })) {
  const [command, argument] = line.trim().split(/\s+/);
  if (command === 'mutate') {
    const fraction = Number(argument);
    const changed = dfdg.mutate(fraction) + education.mutate(fraction) + (await social.mutate(fraction)).length + (await health.mutate(fraction)).length;
    process.stdout.write(`mutated ${changed}\n`);
  } else if (command === 'quit') break;
}
await Promise.all([dfdg.close(), education.close(), social.close(), health.close()]);
process.exit(0);
