/**
 * Reads a well-formed XML document into plain objects in one pass (docs/decisions/0018). It runs
 * only after `assertSafeXml` and `findWellFormednessError` have accepted the text, so it does not
 * check syntax again; it builds each element's value as the element closes.
 *
 * The objects are those fast-xml-parser built for our options (xml.ts), which the SOAP mappings and
 * their tests are written against — tested differentially against it (test/adapters/xml-tree.test.ts):
 * - a namespace prefix is dropped from element names (everything up to the first `:`); attributes,
 *   comments, processing instructions and the XML declaration are left out;
 * - an element with text only is that text; an empty one is `''`; one with child elements is an
 *   object of them, repeated names as arrays, names the caller lists as arrays always, and any text
 *   beside them as `#text`;
 * - text is read in pieces split by markup other than comments: each piece trimmed (then dropped if
 *   empty), line ends normalised to `\n`, and references decoded by the caller's `decode`; CDATA
 *   is a piece of its own, neither trimmed nor decoded; an element's pieces are joined;
 * - `__proto__`, `constructor` and `prototype` as element names are refused; names of
 *   Object.prototype's methods are prefixed with `__`, so no value shadows one;
 * - elements nested more than `maxNestedTags` deep (plus the root) are refused.
 * fast-xml-parser did the same in two passes over a tree of its own and a character at a time; at
 * 10,000 citizens its parse allocated ~1.7 GB of a full sync's ~4.9 GB.
 */
import type { XmlObject, XmlValue } from './xml';

const LT = 0x3c;
const GT = 0x3e;
const SLASH = 0x2f;
const BANG = 0x21;
const QUESTION = 0x3f;
const QUOTE = 0x22;
const APOSTROPHE = 0x27;
const COLON = 0x3a;

const REFUSED_NAMES = new Set(['__proto__', 'constructor', 'prototype']);
const SHADOWING_NAMES = new Set(['hasOwnProperty', 'toString', 'valueOf', '__defineGetter__', '__defineSetter__', '__lookupGetter__', '__lookupSetter__']);
const hasOwn = Object.prototype.hasOwnProperty;

const isSpace = (c: number) => c === 0x20 || c === 0x09 || c === 0x0a || c === 0x0d;
/** Where a name ends in well-formed markup: at whitespace, `>` or `/`. */
const isNameEnd = (c: number) => c === GT || c === SLASH || isSpace(c);

export interface XmlTreeOptions {
  /** Local names of elements that always come out as arrays. */
  arrayElements: ReadonlySet<string>;
  /** Decodes the references in a piece of text (and refuses what it does not accept). */
  decode: (text: string) => string;
  /** Open elements allowed below the root before another one is refused. */
  maxNestedTags: number;
  /** Thrown for a refused name or too deep a nesting. */
  refuse: (message: string) => Error;
}

/** One open element: its name, the object of its children (made when the first one closes) and its text so far. */
interface Open {
  name: string;
  children: XmlObject | undefined;
  text: string | undefined;
}

const normaliseLineEnds = (text: string) => (text.includes('\r') ? text.replace(/\r\n?/g, '\n') : text);

/** Parses `xml`, which must be well-formed (see the module comment). */
export function readXmlTree(xml: string, options: XmlTreeOptions): XmlObject {
  const { arrayElements, decode, maxNestedTags, refuse } = options;
  const document: XmlObject = {};
  const stack: Open[] = [];
  let current: Open | undefined;
  // Raw text of the piece being read: comments do not end a piece, so it may come in several slices.
  let pending = '';
  const length = xml.length;

  const addPiece = (piece: string) => {
    current!.text = current!.text === undefined ? piece : current!.text + piece;
  };
  const endPiece = () => {
    if (pending === '') return;
    const trimmed = pending.trim();
    pending = '';
    if (current && trimmed !== '') addPiece(decode(normaliseLineEnds(trimmed)));
  };
  const localName = (start: number, end: number): string => {
    let colon = -1;
    for (let k = start; k < end; k++)
      if (xml.charCodeAt(k) === COLON) {
        colon = k;
        break;
      }
    const name = xml.slice(colon === -1 ? start : colon + 1, end);
    if (REFUSED_NAMES.has(name)) throw refuse(`an element named "${name}" is refused (it would reach the object prototype)`);
    return SHADOWING_NAMES.has(name) ? `__${name}` : name;
  };
  const attach = (parent: XmlObject, name: string, value: XmlValue) => {
    if (hasOwn.call(parent, name)) {
      const existing = parent[name]!;
      if (Array.isArray(existing)) existing.push(value);
      else parent[name] = [existing, value];
    } else parent[name] = arrayElements.has(name) ? [value] : value;
  };
  const close = (element: Open) => {
    let value: XmlValue;
    if (element.children === undefined) value = element.text ?? '';
    else {
      value = element.children;
      if (element.text !== undefined && element.text !== '') value['#text'] = element.text;
    }
    current = stack.pop();
    attach(current ? (current.children ??= {}) : document, element.name, value);
  };

  let i = 0;
  let textStart = 0;
  while (i < length) {
    const lt = xml.indexOf('<', i);
    if (lt === -1) break;
    if (current && lt > textStart) pending += xml.slice(textStart, lt);
    const next = xml.charCodeAt(lt + 1);
    if (next === BANG) {
      if (xml.charCodeAt(lt + 2) === 0x2d) {
        // A comment: skipped, and the text around it stays one piece.
        i = textStart = xml.indexOf('-->', lt + 4) + 3;
        continue;
      }
      // CDATA (well-formedness allows no other `<!` here).
      const end = xml.indexOf(']]>', lt + 9);
      endPiece();
      addPiece(normaliseLineEnds(xml.slice(lt + 9, end)));
      i = textStart = end + 3;
      continue;
    }
    if (next === QUESTION) {
      endPiece();
      i = textStart = xml.indexOf('?>', lt + 2) + 2;
      continue;
    }
    if (next === SLASH) {
      endPiece();
      i = textStart = xml.indexOf('>', lt + 2) + 1;
      close(current!);
      continue;
    }
    // A start tag: its name, then attributes (skipped, quoted values may hold `>` and `/`).
    endPiece();
    let j = lt + 1;
    while (!isNameEnd(xml.charCodeAt(j))) j++;
    const name = localName(lt + 1, j);
    let selfClosing = false;
    for (;;) {
      const c = xml.charCodeAt(j);
      if (c === GT) break;
      if (c === SLASH) {
        selfClosing = true;
        j++;
        break;
      }
      if (c === QUOTE || c === APOSTROPHE) j = xml.indexOf(c === QUOTE ? '"' : "'", j + 1);
      j++;
    }
    i = textStart = j + 1;
    const element: Open = { name, children: undefined, text: undefined };
    if (selfClosing) {
      if (current) stack.push(current);
      current = element;
      close(element);
      continue;
    }
    if (current) {
      if (stack.length + 1 > maxNestedTags) throw refuse(`elements nested more than ${maxNestedTags} deep`);
      stack.push(current);
    }
    current = element;
  }
  return document;
}
