/**
 * Our XML tree reader (adapters/soap/xml-tree.ts) against fast-xml-parser, which it replaced,
 * run with the options the SOAP adapters used (docs/decisions/0018): the same objects — keys in the
 * same order — for generated documents with everything the rules cover (namespace prefixes,
 * attributes, comments inside text, processing instructions, CDATA, references, CR LF, repeated
 * and always-array elements, mixed content, names of Object.prototype's methods), for the
 * simulators' real DFDG and Ungedatabasen records, and the same refusals.
 */
import fc from 'fast-check';
import { XMLParser } from 'fast-xml-parser';
import { describe, expect, it } from 'vitest';
import { dfdgArrayElements } from '../../adapters/dfdg/contract';
import { generateDfdgRecordXml } from '../../adapters/dfdg/records';
import { educationArrayElements } from '../../adapters/education/contract';
import { generateEducationRecordXml } from '../../adapters/education/records';
import { createXmlReader, decodeReferences, XmlInputError } from '../../adapters/soap/xml';

/** fast-xml-parser as adapters/soap/xml.ts configured it before decision 0018. */
function referenceParser(arrayElements: readonly string[]) {
  const arrays = new Set(arrayElements);
  return new XMLParser({
    ignoreAttributes: true,
    removeNSPrefix: true,
    parseTagValue: false,
    parseAttributeValue: false,
    trimValues: true,
    ignoreDeclaration: true,
    ignorePiTags: true,
    commentPropName: false,
    cdataPropName: false,
    htmlEntities: false,
    processEntities: true,
    entityDecoder: { setExternalEntities: () => undefined, addInputEntities: () => undefined, reset: () => undefined, setXmlVersion: () => undefined, decode: decodeReferences },
    maxNestedTags: 100,
    jPath: false,
    isArray: (name, _path, _isLeaf, isAttribute) => !isAttribute && arrays.has(name),
  });
}

type Outcome = { value: string } | { refused: true };
const ours = (arrayElements: readonly string[]) => {
  const reader = createXmlReader({ arrayElements });
  return (xml: string): Outcome => {
    try {
      return { value: JSON.stringify(reader.parse(xml)) };
    } catch (error) {
      if (!(error instanceof XmlInputError)) throw error;
      return { refused: true };
    }
  };
};
const theirs = (arrayElements: readonly string[]) => {
  const parser = referenceParser(arrayElements);
  return (xml: string): Outcome => {
    try {
      return { value: JSON.stringify(parser.parse(xml)) };
    } catch {
      return { refused: true };
    }
  };
};

const ARRAYS = ['Item', 'b'];
const readOurs = ours(ARRAYS);
const readTheirs = theirs(ARRAYS);

describe('XML tree reader', () => {
  it.each([
    ['text only', '<r>  tekst  </r>', { r: 'tekst' }],
    ['an empty element, both ways', '<r><a/><c></c><d>   </d></r>', { r: { a: '', c: '', d: '' } }],
    ['repeated and always-array elements', '<r><x>1</x><x>2</x><Item>3</Item></r>', { r: { x: ['1', '2'], Item: ['3'] } }],
    ['namespace prefixes dropped', '<s:E xmlns:s="urn:s"><s:B><n:x xmlns:n="urn:n">1</n:x></s:B></s:E>', { E: { B: { x: '1' } } }],
    ['references decoded after trimming', '<r> &#32;a &amp; b&#x20; </r>', { r: ' a & b ' }],
    ['a comment inside text keeps one piece', '<r>a <!-- c --> b</r>', { r: 'a  b' }],
    ['a processing instruction splits text', '<r>a <?p x?> b</r>', { r: 'ab' }],
    ['CDATA neither trimmed nor decoded', '<r> a <![CDATA[ &amp; <x> ]]> b </r>', { r: 'a &amp; <x> b' }],
    ['mixed content as #text', '<r>før<a>1</a>efter</r>', { r: { a: '1', '#text': 'førefter' } }],
    ['CR LF as LF', '<r>a\r\nb\rc</r>', { r: 'a\nb\nc' }],
    ['attribute values holding > and /', '<r x="a>b/" y=\'"/>\'><a z="/>"/></r>', { r: { a: '' } }],
    ['prototype method names prefixed', '<r><toString>1</toString><valueOf/></r>', { r: { __toString: '1', __valueOf: '' } }],
  ])('reads %s', (_name, xml, expected) => {
    expect(createXmlReader({ arrayElements: ARRAYS }).parse(xml)).toEqual(expected);
    expect(readOurs(xml)).toEqual(readTheirs(xml));
  });

  it('refuses __proto__, constructor and prototype as element names, and pollutes nothing', () => {
    for (const name of ['__proto__', 'constructor', 'prototype', 'x:__proto__']) {
      const xml = `<r><${name}><polluted>yes</polluted></${name}></r>`;
      expect(readOurs(xml)).toEqual({ refused: true });
      expect(readTheirs(xml)).toEqual({ refused: true });
    }
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
  });

  it('refuses nesting exactly where fast-xml-parser did (101 levels read, 102 refused; self-closing leaves free)', () => {
    const nested = (levels: number, leaf = 'x') => `${'<a>'.repeat(levels)}${leaf}${'</a>'.repeat(levels)}`;
    for (const xml of [nested(101), nested(102), nested(101, '<b/>'), nested(102, '<b/>'), nested(150)]) expect(readOurs(xml)).toEqual(readTheirs(xml));
    expect(readOurs(nested(101))).not.toEqual({ refused: true });
    expect(readOurs(nested(102))).toEqual({ refused: true });
  });

  it('reads the simulators’ DFDG and Ungedatabasen records exactly as fast-xml-parser did', () => {
    const dfdg = [ours(dfdgArrayElements), theirs(dfdgArrayElements)] as const;
    const education = [ours(educationArrayElements), theirs(educationArrayElements)] as const;
    let read = 0;
    for (const { xml } of generateDfdgRecordXml(400)) {
      const outcome = dfdg[0](xml);
      expect(outcome).toEqual(dfdg[1](xml));
      expect('value' in outcome).toBe(true);
      read++;
    }
    for (const { xml } of generateEducationRecordXml(400)) {
      const outcome = education[0](xml);
      expect(outcome).toEqual(education[1](xml));
      expect('value' in outcome).toBe(true);
      read++;
    }
    expect(read).toBe(800);
  });

  it('builds the same objects as fast-xml-parser for generated documents (property)', () => {
    const name = fc.constantFrom('a', 'b', 'Item', 'x', 'ns:a', 's:Item', 'p:q:r', 'Ærø', 'a.b-c_d', 'toString', 'hasOwnProperty', 'valueOf');
    const text = fc
      .array(fc.constantFrom('tekst', ' ', '  ', '\n', '\r\n', '\t', '&amp;', '&lt;', '&#65;', '&#xE6;', '&#32;', 'æøå', '>', '1', '"', "'"), { maxLength: 6 })
      .map((parts) => parts.join(''));
    const attributes = fc
      .array(fc.tuple(fc.constantFrom('id', 'xmlns', 'xmlns:s', 'x:y', 'v'), fc.constantFrom('"1"', "'a>b'", '"/>"', '"&amp;"', "''")), { maxLength: 3 })
      .map((pairs) => [...new Map(pairs)].map(([n, v]) => ` ${n}=${v}`).join(''));
    const { content } = fc.letrec((tie) => ({
      element: fc.oneof(
        { depthSize: 'small', withCrossShrink: true },
        fc.tuple(name, attributes).map(([n, a]) => `<${n}${a}/>`),
        fc.tuple(name, attributes, tie('content')).map(([n, a, c]) => `<${n}${a}>${c}</${n}>`),
      ),
      content: fc
        .array(
          fc.oneof(
            { depthSize: 'small' },
            tie('element'),
            text,
            text.map((t) => `<![CDATA[${t.replace(/]]>/g, '')}]]>`),
            fc.constant('<!-- kommentar -->'),
            fc.constant('<?pi data?>'),
          ),
          { maxLength: 5 },
        )
        .map((parts) => (parts as string[]).join('')),
    }));
    const document = fc
      .tuple(fc.constantFrom('', '<?xml version="1.0" encoding="UTF-8"?>\n', '\uFEFF'), name, attributes, content, fc.constantFrom('', '\n', '<!-- slut -->\n'))
      .map(([prolog, n, a, c, epilogue]) => `${prolog}<${n}${a}>${c}</${n}>${epilogue}`);
    let readBoth = 0;
    fc.assert(
      fc.property(document, (xml) => {
        const mine = readOurs(xml);
        expect(mine).toEqual(readTheirs(xml));
        if ('value' in mine) readBoth++;
      }),
      { numRuns: 1500 },
    );
    // The property has teeth only if most documents are read, not refused.
    expect(readBoth).toBeGreaterThan(1200);
  });
});
