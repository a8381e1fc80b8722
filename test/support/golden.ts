/** Golden fixtures: `<fixtures>/<mapping folder>/<case><inputEnding>` beside `<case>.expected.json`. */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { expect, it } from 'vitest';
import { runMapping, type Mapping } from '../../mappings/mapping';

export interface GoldenCase {
  folder: string;
  name: string;
  input: string;
  expected: string;
}

export function goldenCases(fixtures: string, inputEnding: '.input.xml' | '.input.json'): GoldenCase[] {
  return readdirSync(fixtures, { withFileTypes: true })
    .filter((entry) => entry.isDirectory())
    .flatMap((folder) =>
      readdirSync(join(fixtures, folder.name))
        .filter((file) => file.endsWith(inputEnding))
        .map((file) => {
          const name = file.slice(0, -inputEnding.length);
          return { folder: folder.name, name, input: join(fixtures, folder.name, file), expected: join(fixtures, folder.name, `${name}.expected.json`) };
        }),
    );
}

/**
 * The two checks every FHIR sector's golden fixtures get (call inside a `describe`): a fixture for
 * every mapping `<sector>.<folder>` and an expected output for every input, and each input mapping
 * to exactly its expected output. Returns the cases for sector-specific checks.
 */
export function jsonGoldenSuite(options: { sector: string; fixtures: string; mappings: readonly Mapping<unknown>[]; context: { now: string; ruleVersion: string } }): GoldenCase[] {
  const { sector, fixtures, mappings, context } = options;
  const cases = goldenCases(fixtures, '.input.json');
  const readJson = (path: string): unknown => JSON.parse(readFileSync(path, 'utf8'));
  it(`has a fixture for every ${sector} mapping and an expected result for every input`, () => {
    expect(new Set(cases.map((c) => `${sector}.${c.folder}`))).toEqual(new Set(mappings.map((m) => m.id)));
    for (const folder of new Set(cases.map((c) => c.folder))) {
      const files = readdirSync(join(fixtures, folder));
      expect(files.filter((f) => f.endsWith('.expected.json')).length, folder).toBe(files.filter((f) => f.endsWith('.input.json')).length);
    }
  });
  it.each(cases)('$folder/$name maps to exactly its expected result', ({ folder, input, expected }) => {
    const mapping = mappings.find((m) => m.id === `${sector}.${folder}`)!;
    expect(runMapping(mapping, readJson(input), context)).toEqual(readJson(expected));
  });
  return cases;
}
