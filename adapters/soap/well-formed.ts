/**
 * Is an XML document well-formed? One forward pass over the text, building no strings on the
 * way (docs/decisions/0017). fast-xml-parser's own validator, which we used before, builds every
 * tag name and attribute string a character at a time: at 10,000 citizens it allocated ~840 MB
 * in a full sync, 14 % of everything the sync allocated, for documents we parse right after.
 *
 * What it checks (XML 1.0 §2–4, for documents without a DTD: `assertSafeXml` has refused
 * DOCTYPE and other markup declarations, and characters XML forbids, before this runs):
 * - elements nest and close with the name they opened with; one root element, nothing but
 *   whitespace, comments and processing instructions outside it;
 * - names are XML names; attributes are `name="value"` or `name='value'`, each once per element,
 *   with no `<` in a value;
 * - every `&` starts a reference: `&name;`, `&#digits;` or `&#xhex;`;
 * - comments, CDATA sections (inside the root only) and processing instructions are closed; the
 *   XML declaration comes first if at all.
 * It is at least as strict as fast-xml-parser's validator (tested against it, differentially).
 */

export interface WellFormednessError {
  line: number;
  column: number;
  message: string;
}

const LT = 0x3c;
const GT = 0x3e;
const SLASH = 0x2f;
const BANG = 0x21;
const QUESTION = 0x3f;
const AMP = 0x26;
const SEMICOLON = 0x3b;
const EQUALS = 0x3d;
const HASH = 0x23;
const QUOTE = 0x22;
const APOSTROPHE = 0x27;

const isSpace = (c: number) => c === 0x20 || c === 0x09 || c === 0x0a || c === 0x0d;

/** XML 1.0 (5th ed.) NameStartChar, for one UTF-16 unit (a surrogate pair stands for #x10000–#xEFFFF). */
function isNameStart(c: number): boolean {
  if (c < 0x80) return (c >= 0x61 && c <= 0x7a) || (c >= 0x41 && c <= 0x5a) || c === 0x5f || c === 0x3a;
  return (
    (c >= 0xc0 && c <= 0xd6) || (c >= 0xd8 && c <= 0xf6) || (c >= 0xf8 && c <= 0x2ff) || (c >= 0x370 && c <= 0x37d) || (c >= 0x37f && c <= 0x1fff) ||
    (c >= 0x200c && c <= 0x200d) || (c >= 0x2070 && c <= 0x218f) || (c >= 0x2c00 && c <= 0x2fef) || (c >= 0x3001 && c <= 0xd7ff) ||
    (c >= 0xf900 && c <= 0xfdcf) || (c >= 0xfdf0 && c <= 0xfffd) || (c >= 0xd800 && c <= 0xdfff)
  );
}

/** NameChar: a start character, or a digit, `-`, `.`, U+00B7, U+0300–U+036F, U+203F–U+2040. */
function isNameChar(c: number): boolean {
  if (c < 0x80) return isNameStart(c) || (c >= 0x30 && c <= 0x39) || c === 0x2d || c === 0x2e;
  return isNameStart(c) || c === 0xb7 || (c >= 0x300 && c <= 0x36f) || (c >= 0x203f && c <= 0x2040);
}

/** The end of the name starting at `at`, or `at` if there is none. */
function nameEnd(xml: string, at: number): number {
  if (at >= xml.length || !isNameStart(xml.charCodeAt(at))) return at;
  let i = at + 1;
  while (i < xml.length && isNameChar(xml.charCodeAt(i))) i++;
  return i;
}

function sameText(xml: string, a: number, aEnd: number, b: number, bEnd: number): boolean {
  if (aEnd - a !== bEnd - b) return false;
  for (let k = 0; k < aEnd - a; k++) if (xml.charCodeAt(a + k) !== xml.charCodeAt(b + k)) return false;
  return true;
}

/** The end of the reference starting with the `&` at `at`, or -1 if it is not one. */
function referenceEnd(xml: string, at: number, limit: number): number {
  let i = at + 1;
  if (xml.charCodeAt(i) === HASH) {
    i++;
    const hex = xml.charCodeAt(i) === 0x78; // 'x'
    if (hex) i++;
    const digitsStart = i;
    for (; i < limit; i++) {
      const c = xml.charCodeAt(i);
      const digit = (c >= 0x30 && c <= 0x39) || (hex && ((c >= 0x61 && c <= 0x66) || (c >= 0x41 && c <= 0x46)));
      if (!digit) break;
    }
    return i > digitsStart && i < limit && xml.charCodeAt(i) === SEMICOLON ? i + 1 : -1;
  }
  const end = nameEnd(xml, i);
  return end > i && end < limit && xml.charCodeAt(end) === SEMICOLON ? end + 1 : -1;
}

/** Where `xml` breaks well-formedness (line and column from 1), or null if it does not. */
export function findWellFormednessError(xml: string): WellFormednessError | null {
  const length = xml.length;
  const fail = (at: number, message: string): WellFormednessError => {
    let line = 1;
    let lineStart = 0;
    for (let k = xml.indexOf('\n'); k !== -1 && k < at; k = xml.indexOf('\n', k + 1)) {
      line++;
      lineStart = k + 1;
    }
    return { line, column: at - lineStart + 1, message };
  };
  const nameAt = (start: number, end: number) => xml.slice(start, Math.min(end, start + 40));

  // Open elements as [name start, name end] pairs, so closing names are compared in place.
  const open: number[] = [];
  let rootSeen = false;
  const documentStart = xml.charCodeAt(0) === 0xfeff ? 1 : 0;
  let i = documentStart;

  while (i < length) {
    const c = xml.charCodeAt(i);
    if (c === LT) {
      const next = xml.charCodeAt(i + 1);
      if (next === QUESTION) {
        const targetEnd = nameEnd(xml, i + 2);
        if (targetEnd === i + 2) return fail(i, 'a processing instruction without a target name');
        if (targetEnd - (i + 2) === 3 && xml.slice(i + 2, targetEnd).toLowerCase() === 'xml' && i !== documentStart)
          return fail(i, 'the XML declaration is allowed only at the start of the document');
        const close = xml.indexOf('?>', targetEnd);
        if (close === -1) return fail(i, 'a processing instruction that is never closed');
        i = close + 2;
        continue;
      }
      if (next === BANG) {
        if (xml.startsWith('<!--', i)) {
          const close = xml.indexOf('-->', i + 4);
          if (close === -1) return fail(i, 'a comment that is never closed');
          i = close + 3;
          continue;
        }
        if (xml.startsWith('<![CDATA[', i)) {
          if (open.length === 0) return fail(i, 'a CDATA section outside the root element');
          const close = xml.indexOf(']]>', i + 9);
          if (close === -1) return fail(i, 'a CDATA section that is never closed');
          i = close + 3;
          continue;
        }
        return fail(i, 'markup declarations are not allowed');
      }
      if (next === SLASH) {
        const start = i + 2;
        const end = nameEnd(xml, start);
        if (end === start) return fail(i, 'a closing tag without a valid name');
        let j = end;
        while (j < length && isSpace(xml.charCodeAt(j))) j++;
        if (xml.charCodeAt(j) !== GT) return fail(i, `the closing tag '${nameAt(start, end)}' is not closed with '>'`);
        if (open.length === 0) return fail(i, `the closing tag '${nameAt(start, end)}' closes no open element`);
        const openEnd = open.pop()!;
        const openStart = open.pop()!;
        if (!sameText(xml, openStart, openEnd, start, end))
          return fail(i, `expected the closing tag '${nameAt(openStart, openEnd)}', found '${nameAt(start, end)}'`);
        i = j + 1;
        continue;
      }
      // A start tag (or an empty-element tag).
      const start = i + 1;
      const end = nameEnd(xml, start);
      if (end === start) return fail(i, isSpace(next) ? "whitespace after '<'" : "'<' does not start a valid tag name");
      if (rootSeen && open.length === 0) return fail(i, 'a second root element');
      // Attribute names of this tag, as [start, end] pairs, to refuse one given twice.
      const attributes: number[] = [];
      let j = end;
      for (;;) {
        const spaceStart = j;
        while (j < length && isSpace(xml.charCodeAt(j))) j++;
        if (j >= length) return fail(i, `the tag '${nameAt(start, end)}' is never closed`);
        const d = xml.charCodeAt(j);
        if (d === GT) {
          open.push(start, end);
          j++;
          break;
        }
        if (d === SLASH) {
          if (xml.charCodeAt(j + 1) !== GT) return fail(j, `'/' in the tag '${nameAt(start, end)}' is not followed by '>'`);
          j += 2;
          break;
        }
        if (j === spaceStart) return fail(j, `the tag '${nameAt(start, end)}' needs whitespace before an attribute`);
        const attributeStart = j;
        const attributeEnd = nameEnd(xml, j);
        if (attributeEnd === attributeStart) return fail(j, `the tag '${nameAt(start, end)}' holds an invalid attribute name`);
        for (let k = 0; k < attributes.length; k += 2)
          if (sameText(xml, attributes[k]!, attributes[k + 1]!, attributeStart, attributeEnd))
            return fail(j, `the attribute '${nameAt(attributeStart, attributeEnd)}' is given twice`);
        attributes.push(attributeStart, attributeEnd);
        j = attributeEnd;
        while (j < length && isSpace(xml.charCodeAt(j))) j++;
        if (xml.charCodeAt(j) !== EQUALS) return fail(j, `the attribute '${nameAt(attributeStart, attributeEnd)}' has no value`);
        j++;
        while (j < length && isSpace(xml.charCodeAt(j))) j++;
        const quote = xml.charCodeAt(j);
        if (quote !== QUOTE && quote !== APOSTROPHE) return fail(j, `the value of the attribute '${nameAt(attributeStart, attributeEnd)}' is not quoted`);
        const valueEnd = xml.indexOf(quote === QUOTE ? '"' : "'", j + 1);
        if (valueEnd === -1) return fail(j, `the value of the attribute '${nameAt(attributeStart, attributeEnd)}' is never closed`);
        for (let k = j + 1; k < valueEnd; k++) {
          const v = xml.charCodeAt(k);
          if (v === LT) return fail(k, "'<' in an attribute value");
          if (v === AMP) {
            const after = referenceEnd(xml, k, valueEnd);
            if (after === -1) return fail(k, "'&' that does not start a reference");
            k = after - 1;
          }
        }
        j = valueEnd + 1;
      }
      rootSeen = true;
      i = j;
      continue;
    }
    if (open.length === 0) {
      if (isSpace(c)) {
        i++;
        continue;
      }
      return fail(i, rootSeen ? 'text after the root element' : 'text before the root element');
    }
    if (c === AMP) {
      const after = referenceEnd(xml, i, length);
      if (after === -1) return fail(i, "'&' that does not start a reference");
      i = after;
      continue;
    }
    // Character data: on to the next markup or reference.
    i++;
    while (i < length) {
      const d = xml.charCodeAt(i);
      if (d === LT || d === AMP) break;
      i++;
    }
  }
  if (!rootSeen) return fail(documentStart, 'no root element');
  if (open.length > 0) return fail(open[open.length - 2]! - 1, `the element '${nameAt(open[open.length - 2]!, open[open.length - 1]!)}' is never closed`);
  return null;
}
