/** Golden fixtures: `<fixtures>/<mapping folder>/<case><inputEnding>` beside `<case>.expected.json`. */
import { readdirSync } from 'node:fs';
import { join } from 'node:path';

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
