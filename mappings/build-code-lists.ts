/**
 * Builds the compact code lists under `mappings/social/codes/` from KL's published code systems,
 * so where every code and display text came from stays reproducible:
 *
 *   npx tsx mappings/build-code-lists.ts [path to the reference CodeSystem folder]
 *
 * Input: FHIR CodeSystem resources from hl7dk/kl-term (input/vocabulary, publisher KL), as kept in
 * `../shared/reference/fhir/`. Output: one JSON file per system with `{ code, display }` per concept
 * plus a few fields derived from the code system's own hierarchy (`group`, `legalBasis`, `sector`).
 * Run at development time only: nothing at run or test time reads the reference folder.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { z } from 'zod';

const here = dirname(fileURLToPath(import.meta.url));
const referenceDir = resolve(process.argv[2] ?? join(here, '..', '..', 'shared', 'reference', 'fhir'));
const outDir = join(here, 'social', 'codes');

type Concept = { code: string; display?: string; concept?: Concept[] };
const Concept: z.ZodType<Concept> = z.lazy(() =>
  z.looseObject({ code: z.string().min(1), display: z.string().optional(), concept: z.array(Concept).optional() }),
);
const CodeSystem = z.looseObject({
  resourceType: z.literal('CodeSystem'),
  url: z.string(),
  name: z.string(),
  version: z.string().optional(),
  concept: z.array(Concept),
});

const LegalBasisTable = z.object({
  origin: z.string(),
  entries: z.array(z.object({ code: z.string(), display: z.string(), legalBasis: z.string() })),
});

export interface CodeListEntry {
  code: string;
  display: string;
  /** Display of the top-level concept the code sits under, e.g. "Kommunale pleje- og omsorgsindsatser". */
  group: string;
  legalBasis?: string;
  sector?: 'social' | 'health';
}

/**
 * FSIII names the section of the law in the display of the concept a service sits under
 * ("§ 83 stk. 1, nr. 1 Personlig hjælp og pleje", "SUL § 138", "§ 113 i Serviceloven").
 */
export function legalBasisFromDisplay(display: string): string | undefined {
  const text = display.trim();
  if (/^Ældrelov/i.test(text)) return 'Ældreloven';
  const inLaw = /^§\s*(\d+(?:\s?[a-zA-Z](?![a-zA-Z]))?)\s+i\s+Serviceloven/i.exec(text);
  if (inLaw) return `SEL §${normaliseSection(inLaw[1]!)}`;
  const match = /^(SEL|SUL)?\s*§\s*(\d+(?:\s?[a-zA-Z](?![a-zA-Z]))?)(?:\s+stk\.\s*(\d+))?(?:,?\s*nr\.\s*(\d+))?/i.exec(text);
  if (!match) return undefined;
  const law = (match[1] ?? 'SEL').toUpperCase();
  let basis = `${law} §${normaliseSection(match[2]!)}`;
  if (match[3]) basis += `, stk. ${match[3]}`;
  if (match[4]) basis += `, nr. ${match[4]}`;
  return basis;
}

function normaliseSection(section: string): string {
  const m = /^(\d+)\s*([a-zA-Z])?$/.exec(section.trim());
  return m ? (m[2] ? `${m[1]} ${m[2].toLowerCase()}` : m[1]!) : section.trim();
}

/** Top-level FSIII groups that belong to Sundhedsloven (health) and the section they are granted under. */
const fsiiiHealthGroups: Record<string, string | undefined> = {
  'Kommunale sygeplejeindsatser': 'SUL §138',
  'Kommunale sygeplejetilstande': undefined,
  'Kommunal genoptræning efter sygehusophold-indsatser': 'SUL §140',
  'Kommunal genoptræning efter sygehusophold-tilstande': undefined,
  'Kommunale sundhedsfremme og forebyggelsesindsatser': 'SUL §119',
  'Kommunale sundhedsfremme og forebyggelsestilstande': undefined,
};
/** Social (Serviceloven) groups with a default section when no ancestor names one. */
const fsiiiSocialGroupDefaults: Record<string, string> = {
  'Kommunale pleje- og omsorgsindsatser': 'SEL §83',
  'Kommunalt hjælpemiddelområde indsatser': 'SEL §112',
};

function flatten(
  concepts: Concept[],
  visit: (concept: Concept, ancestors: Concept[]) => void,
  ancestors: Concept[] = [],
): void {
  for (const concept of concepts) {
    visit(concept, ancestors);
    if (concept.concept) flatten(concept.concept, visit, [...ancestors, concept]);
  }
}

function readCodeSystem(file: string) {
  return CodeSystem.parse(JSON.parse(readFileSync(join(referenceDir, file), 'utf8')));
}

function buildFsiii(): CodeListEntry[] {
  const entries: CodeListEntry[] = [];
  flatten(readCodeSystem('kl-term-CodeSystem-FSIII.json').concept, (concept, ancestors) => {
    const top = ancestors[0] ?? concept;
    const group = top.display ?? top.code;
    const health = group in fsiiiHealthGroups;
    let legalBasis: string | undefined;
    for (const node of [...ancestors, concept].reverse()) {
      legalBasis = legalBasisFromDisplay(node.display ?? '');
      if (legalBasis) break;
    }
    legalBasis ??= health ? fsiiiHealthGroups[group] : fsiiiSocialGroupDefaults[group];
    entries.push({ code: concept.code, display: concept.display ?? concept.code, group, ...(legalBasis ? { legalBasis } : {}), sector: health ? 'health' : 'social' });
  });
  return entries;
}

function buildFfb(): CodeListEntry[] {
  const table = LegalBasisTable.parse(JSON.parse(readFileSync(join(outDir, 'ffb-legal-basis.modelled.json'), 'utf8')));
  const basisByCode = new Map(table.entries.map((e) => [e.code, e.legalBasis]));
  const entries: CodeListEntry[] = [];
  flatten(readCodeSystem('kl-term-CodeSystem-FFB.json').concept, (concept, ancestors) => {
    const top = ancestors[0] ?? concept;
    let legalBasis: string | undefined;
    for (const node of [...ancestors, concept].reverse()) {
      legalBasis = basisByCode.get(node.code);
      if (legalBasis) break;
    }
    entries.push({ code: concept.code, display: concept.display ?? concept.code, group: top.display ?? top.code, ...(legalBasis ? { legalBasis } : {}), sector: 'social' });
  });
  return entries;
}

function buildCareSocial(): CodeListEntry[] {
  const entries: CodeListEntry[] = [];
  flatten(readCodeSystem('kl-term-CodeSystem-CareSocialCodes.json').concept, (concept, ancestors) => {
    const top = ancestors[0] ?? concept;
    entries.push({ code: concept.code, display: concept.display ?? concept.code, group: top.display ?? top.code });
  });
  return entries;
}

function write(id: string, file: string, source: string, derived: string, concepts: CodeListEntry[]): void {
  const system = readCodeSystem(file);
  const list = {
    id,
    system: system.url,
    name: system.name,
    version: system.version,
    publisher: 'KL (Kommunernes Landsforening)',
    origin: `hl7dk/kl-term, input/vocabulary, CodeSystem ${system.name} (publisher KL); read from ${source} by mappings/build-code-lists.ts`,
    derived,
    size: concepts.length,
    concepts,
  };
  // One concept per line: compact, yet a diff shows exactly which code changed.
  const head = JSON.stringify({ ...list, concepts: [] }, null, 2).replace(/\[\]\n}$/, '[\n');
  const body = concepts.map((c) => `    ${JSON.stringify(c)}`).join(',\n');
  writeFileSync(join(outDir, `${id}.json`), `${head}${body}\n  ]\n}\n`);
  console.log(`${id}: ${concepts.length} concepts`);
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  write(
    'fsiii',
    'kl-term-CodeSystem-FSIII.json',
    'kl-term-CodeSystem-FSIII.json',
    'group: display of the top-level concept. legalBasis: from the nearest ancestor whose display names a section ("§ 83 stk. 1, nr. 1 …" → "SEL §83, stk. 1, nr. 1"; "SUL § 138"; "§ 113 i Serviceloven"), else the group default (pleje og omsorg → SEL §83; hjælpemidler → SEL §112; sygepleje → SUL §138; genoptræning efter sygehusophold → SUL §140; sundhedsfremme og forebyggelse → SUL §119, as KL CareSocialCodes "… efter §140/§119" state). sector: health for the Sundhedsloven groups, else social.',
    buildFsiii(),
  );
  write(
    'ffb',
    'kl-term-CodeSystem-FFB.json',
    'kl-term-CodeSystem-FFB.json',
    'group: display of the top-level concept. legalBasis: modelled, from ffb-legal-basis.modelled.json applied to a concept and its descendants (FFB carries no legal references). sector: social.',
    buildFfb(),
  );
  write('care-social-codes', 'kl-term-CodeSystem-CareSocialCodes.json', 'kl-term-CodeSystem-CareSocialCodes.json', 'group: display of the top-level concept.', buildCareSocial());
}
