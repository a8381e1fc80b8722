/**
 * Hardened XML for the SOAP adapters (DFDG, Ungedatabasen): reading untrusted XML into plain
 * objects and writing XML from plain objects.
 *
 * Reading refuses, before any parsing, everything that can make a parser do more than read:
 * DOCTYPE and ENTITY declarations (billion laughs, external entities), any other markup
 * declaration, documents over a size limit (default 2 MB) and encodings other than UTF-8. Only the
 * five predefined XML entities and numeric character references are decoded; an undeclared entity
 * reference is an error, never expanded. Attributes are ignored (the modelled contracts carry all
 * data in elements), values stay strings (no number guessing: a CPR "0101…" stays a string), and
 * repeating elements named by the caller always come out as arrays. The checks and the reading are
 * ours (well-formed.ts, xml-tree.ts; docs/decisions/0017 and 0018), in two passes without a tree between.
 */
import { redactCpr } from '../../src/security/redact';
import { findWellFormednessError } from './well-formed';
import { readXmlTree } from './xml-tree';

export const DEFAULT_MAX_XML_BYTES = 2 * 1024 * 1024;

export type XmlInputProblem = 'too-large' | 'doctype' | 'entity-declaration' | 'markup-declaration' | 'encoding' | 'character' | 'malformed';


/**
 * Why an XML input was refused; the message is safe to show: it never quotes element content,
 * and names the parser quotes (element, attribute and encoding names) have anything shaped like
 * a CPR number masked, because a hostile document can name an element after one.
 */
export class XmlInputError extends Error {
  constructor(
    readonly problem: XmlInputProblem,
    message: string,
  ) {
    super(redactCpr(message));
    this.name = 'XmlInputError';
  }
}

/** What parsing yields: text, an element with children, or repeated elements. */
export type XmlValue = string | XmlObject | XmlValue[];
export interface XmlObject {
  [name: string]: XmlValue;
}

export interface XmlReaderOptions {
  /** Refuse larger documents (UTF-8 bytes). */
  maxBytes?: number;
  /** Local names of elements that always parse as arrays, even when they occur once. */
  arrayElements?: Iterable<string>;
}

export interface XmlReader {
  /** Parse one document into a plain object keyed by local element names; throws XmlInputError. */
  parse(xml: string): XmlObject;
}

const PREDEFINED_ENTITIES: Readonly<Record<string, string>> = { lt: '<', gt: '>', amp: '&', quot: '"', apos: "'" };
const REFERENCE = /&(#x[0-9a-fA-F]+|#[0-9]+|[A-Za-z_][\w.-]*);/g;

/** XML 1.0 `Char` production: what a character reference may point at. */
function isXmlChar(codePoint: number): boolean {
  return (
    codePoint === 0x9 ||
    codePoint === 0xa ||
    codePoint === 0xd ||
    (codePoint >= 0x20 && codePoint <= 0xd7ff) ||
    (codePoint >= 0xe000 && codePoint <= 0xfffd) ||
    (codePoint >= 0x10000 && codePoint <= 0x10ffff)
  );
}

/** Decodes the five predefined entities and character references; refuses any other reference. */
export function decodeReferences(text: string): string {
  if (!text.includes('&')) return text;
  return text.replace(REFERENCE, (_match, ref: string) => {
    if (ref.startsWith('#')) {
      const codePoint = ref[1] === 'x' ? Number.parseInt(ref.slice(2), 16) : Number.parseInt(ref.slice(1), 10);
      if (!isXmlChar(codePoint)) throw new XmlInputError('malformed', 'a character reference points at a character XML does not allow');
      return String.fromCodePoint(codePoint);
    }
    const predefined = PREDEFINED_ENTITIES[ref];
    if (predefined === undefined)
      throw new XmlInputError('malformed', `reference to the undeclared entity "${ref.slice(0, 40)}"; only the five predefined XML entities are accepted`);
    return predefined;
  });
}

const MARKUP_DECLARATION = /<!(?!--|\[CDATA\[)([A-Za-z]*)/;
// Characters outside XML 1.0's `Char` production (NUL and other C0 controls, U+FFFE/U+FFFF, lone
// surrogates): a document holding one is not well-formed, and the parser would pass it on as text.
const FORBIDDEN_CHARACTER = /[\u0000-\u0008\u000B\u000C\u000E-\u001F\uFFFE\uFFFF]|[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;
const XML_DECLARATION_ENCODING = /^\s*<\?xml\b[^>]*?\bencoding\s*=\s*["']([^"']*)["']/;

function utf8ByteLength(text: string): number {
  let bytes = 0;
  for (let i = 0; i < text.length; i++) {
    const code = text.charCodeAt(i);
    if (code < 0x80) bytes += 1;
    else if (code < 0x800) bytes += 2;
    else if (code >= 0xd800 && code <= 0xdbff) {
      bytes += 4;
      i++;
    } else bytes += 3;
  }
  return bytes;
}

/** The refusals that run before the parser sees a byte. Exported for the record readers' tests. */
export function assertSafeXml(xml: string, maxBytes = DEFAULT_MAX_XML_BYTES): void {
  // A UTF-8 character takes at most 3 bytes per UTF-16 unit, so most documents skip the count.
  if (xml.length * 3 > maxBytes && utf8ByteLength(xml) > maxBytes)
    throw new XmlInputError('too-large', `the XML document is larger than the limit of ${maxBytes} bytes`);
  const declaration = MARKUP_DECLARATION.exec(xml);
  if (declaration) {
    const keyword = (declaration[1] ?? '').toUpperCase();
    if (keyword === 'DOCTYPE') throw new XmlInputError('doctype', 'DOCTYPE declarations are refused (entity expansion and external entities)');
    if (keyword === 'ENTITY') throw new XmlInputError('entity-declaration', 'ENTITY declarations are refused (entity expansion and external entities)');
    throw new XmlInputError('markup-declaration', `markup declarations (<!${keyword.slice(0, 20)}) are refused`);
  }
  const encoding = XML_DECLARATION_ENCODING.exec(xml.startsWith('\uFEFF') ? xml.slice(1) : xml)?.[1];
  if (encoding !== undefined && !/^utf-?8$/i.test(encoding))
    throw new XmlInputError('encoding', `only UTF-8 is accepted, the document declares ${encoding.slice(0, 30)}`);
  const forbidden = FORBIDDEN_CHARACTER.exec(xml);
  if (forbidden) {
    const codePoint = forbidden[0].charCodeAt(0).toString(16).toUpperCase().padStart(4, '0');
    throw new XmlInputError('character', `the document holds a character XML does not allow (U+${codePoint} at offset ${forbidden.index})`);
  }
}

export function createXmlReader(options: XmlReaderOptions = {}): XmlReader {
  const maxBytes = options.maxBytes ?? DEFAULT_MAX_XML_BYTES;
  const arrayElements = new Set(options.arrayElements ?? []);
  const treeOptions = {
    arrayElements,
    decode: decodeReferences,
    maxNestedTags: 100,
    refuse: (message: string) => new XmlInputError('malformed', `not readable XML: ${message}`),
  };
  return {
    parse(xml: string): XmlObject {
      if (typeof xml !== 'string') throw new XmlInputError('malformed', 'the XML input is not text');
      assertSafeXml(xml, maxBytes);
      const broken = findWellFormednessError(xml);
      if (broken) throw new XmlInputError('malformed', `not well-formed XML (line ${broken.line}, column ${broken.column}): ${broken.message}`);
      const document = readXmlTree(xml, treeOptions);
      const roots = Object.keys(document);
      const root = roots.length === 1 ? document[roots[0]!] : undefined;
      if (root === undefined || (Array.isArray(root) && root.length !== 1))
        throw new XmlInputError('malformed', 'an XML document has exactly one root element');
      return document;
    },
  };
}

/** Type guards for walking parsed XML. */
export const isXmlObject = (value: unknown): value is XmlObject => typeof value === 'object' && value !== null && !Array.isArray(value);

/** The dotted leaf paths present in a parsed record (`A.B`, `List[].C`), for `ignoredFields`. */
export function fieldPaths(value: unknown, prefix = '', into: Set<string> = new Set()): Set<string> {
  if (value === undefined || value === null) return into;
  if (Array.isArray(value)) {
    for (const item of value) fieldPaths(item, `${prefix}[]`, into);
  } else if (typeof value === 'object') {
    for (const [name, child] of Object.entries(value)) fieldPaths(child, prefix ? `${prefix}.${name}` : name, into);
  } else if (prefix) into.add(prefix);
  return into;
}

// ---------------------------------------------------------------------------------------------
// Writing

/** What `renderXml` writes: keys are element names; `@name` keys are attributes; `#text` is text. */
export type XmlWritable = string | number | boolean | null | undefined | XmlWritableObject | readonly XmlWritable[];
export interface XmlWritableObject {
  readonly [name: string]: XmlWritable;
}

const XML_NAME = /^[A-Za-z_][\w.-]*(:[A-Za-z_][\w.-]*)?$/;
// Characters XML 1.0 cannot carry at all, not even escaped; replaced so output stays well-formed.
const ILLEGAL_XML_CHARS = /[\u0000-\u0008\u000B\u000C\u000E-\u001F\uFFFE\uFFFF]|[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/g;

export function escapeXmlText(text: string): string {
  let out = text.replace(ILLEGAL_XML_CHARS, '\uFFFD');
  if (/[&<>"]/.test(out)) out = out.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
  return out;
}

function renderElement(name: string, value: XmlWritable, out: string[]): void {
  if (value === undefined || value === null) return;
  if (Array.isArray(value)) {
    for (const item of value as readonly XmlWritable[]) renderElement(name, item, out);
    return;
  }
  if (!XML_NAME.test(name)) throw new Error(`"${name.slice(0, 40)}" is not an XML element name`);
  if (typeof value !== 'object') {
    out.push('<', name, '>', escapeXmlText(String(value)), '</', name, '>');
    return;
  }
  out.push('<', name);
  for (const [key, attribute] of Object.entries(value)) {
    if (!key.startsWith('@') || attribute === undefined || attribute === null) continue;
    if (!XML_NAME.test(key.slice(1))) throw new Error(`"${key.slice(1, 41)}" is not an XML attribute name`);
    out.push(' ', key.slice(1), '="', escapeXmlText(String(attribute)), '"');
  }
  out.push('>');
  renderContent(value as XmlWritableObject, out);
  out.push('</', name, '>');
}

function renderContent(content: XmlWritableObject, out: string[]): void {
  for (const [key, child] of Object.entries(content)) {
    if (key.startsWith('@')) continue;
    if (key === '#text') {
      if (child !== undefined && child !== null) out.push(escapeXmlText(String(child)));
      continue;
    }
    renderElement(key, child, out);
  }
}

/** Render the children of `content` as XML (no declaration). */
export function renderXml(content: XmlWritableObject): string {
  const out: string[] = [];
  renderContent(content, out);
  return out.join('');
}
