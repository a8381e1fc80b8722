#!/usr/bin/env node
/**
 * The one test command (`npm test`, also what CI runs). Runs every vitest project (Node and
 * workerd), captures all output of the run and fails it if anything that looks like a CPR number
 * appears there (S4), then prints the plain summary line `N passed, N failed`.
 */
import { spawn } from 'node:child_process';
import { mkdirSync, readFileSync, rmSync } from 'node:fs';

const resultFile = 'test-results/vitest.json';
mkdirSync('test-results', { recursive: true });
// A report left by an earlier run must not be read as this run's: a run killed midway writes none.
rmSync(resultFile, { force: true });

const args = ['vitest', 'run', '--reporter=default', '--reporter=json', `--outputFile.json=${resultFile}`, ...process.argv.slice(2)];
const child = spawn('npx', args, { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, FORCE_COLOR: '0' } });
let captured = '';
child.stdout.on('data', (chunk) => {
  captured += chunk;
  process.stdout.write(chunk);
});
child.stderr.on('data', (chunk) => {
  captured += chunk;
  process.stderr.write(chunk);
});
const exitCode = await new Promise((resolve) => child.on('close', resolve));

// A 10-digit run (optionally DDMMYY-SSSS) whose first six digits are a real date is treated as a CPR.
function looksLikeCpr(digits) {
  const day = Number(digits.slice(0, 2));
  const month = Number(digits.slice(2, 4));
  const year = 1900 + Number(digits.slice(4, 6));
  const date = new Date(Date.UTC(year, month - 1, day));
  return date.getUTCMonth() === month - 1 && date.getUTCDate() === day;
}
const leaks = [...captured.matchAll(/(?<![\w.:-])(\d{6})-?(\d{4})(?![\w.:-])/g)].filter((m) => looksLikeCpr(m[1] + m[2]));

let passed = 0;
let failed = 0;
try {
  const report = JSON.parse(readFileSync(resultFile, 'utf8'));
  passed = report.numPassedTests;
  failed = report.numFailedTests + (report.numRuntimeErrorTestSuites ?? 0);
  // A file that failed to load has no tests counted; count it so it cannot pass silently.
  failed += report.testResults.filter((f) => f.status === 'failed' && f.assertionResults.length === 0).length;
} catch {
  failed += 1;
  process.stdout.write('\nThe vitest JSON report is missing or unreadable.\n');
}
if (leaks.length > 0) {
  failed += 1;
  process.stdout.write(`\nS4: ${leaks.length} CPR-like number(s) appeared in the test output (first at offset ${leaks[0].index}).\n`);
} else {
  passed += 1;
  process.stdout.write('\nS4: no CPR-like number in the captured output of the whole test run.\n');
}
if (exitCode !== 0 && failed === 0) failed = 1;
process.stdout.write(`\n${passed} passed, ${failed} failed\n`);
process.exit(failed > 0 ? 1 : 0);
