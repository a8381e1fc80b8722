/**
 * The XML well-formedness check (adapters/soap/well-formed.ts): each rule with where it breaks,
 * and, differentially against fast-xml-parser's validator which it replaced, never more lenient —
 * on generated well-formed documents (both accept) and on the same documents broken at random
 * (whatever fast-xml-parser refuses, we refuse).
 */
import fc from 'fast-check';
import { XMLValidator } from 'fast-xml-parser';
import { describe, expect, it } from 'vitest';
import { findWellFormednessError } from '../../adapters/soap/well-formed';
import { createXmlReader } from '../../adapters/soap/xml';

const reader = createXmlReader();

const verdict = (xml: string) => findWellFormednessError(xml);

describe('XML well-formedness', () => {
  it('accepts documents XML allows', () => {
    for (const xml of [
      '<a/>',
      '\uFEFF<?xml version="1.0" encoding="UTF-8"?>\n<s:Envelope xmlns:s="http://schemas.xmlsoap.org/soap/envelope/"><s:Body/></s:Envelope>',
      "<a x='1' y = \"2\"><b>tekst &amp; mere &#230; &#xE6; &lt;</b><!-- en kommentar --><c/></a>",
      '<a><![CDATA[<ikke> & markup]]></a>\n<!-- efter roden -->\n<?behandling data?>\n',
      '<Ærø><æble-1.b_c:d>x</æble-1.b_c:d></Ærø>',
      '<a>1 > 0</a>',
    ])
      expect(verdict(xml), xml).toBeNull();
  });

  it.each([
    ['<a><b>x</c></a>', 1, 8, "expected the closing tag 'b', found 'c'"],
    ['<a>\n  <b>x</a>', 2, 7, "expected the closing tag 'b', found 'a'"],
    ['<a>x', 1, 1, "the element 'a' is never closed"],
    ['</a>', 1, 1, "the closing tag 'a' closes no open element"],
    ['<a x=1>y</a>', 1, 6, "the value of the attribute 'x' is not quoted"],
    ['<a x>y</a>', 1, 5, "the attribute 'x' has no value"],
    ['<a x="1" x="2">y</a>', 1, 10, "the attribute 'x' is given twice"],
    ['<a x="1"y="2">y</a>', 1, 9, "the tag 'a' needs whitespace before an attribute"],
    ['<a x="<">y</a>', 1, 7, "'<' in an attribute value"],
    ['<a x="&">y</a>', 1, 7, "'&' that does not start a reference"],
    ['<a>x & y</a>', 1, 6, "'&' that does not start a reference"],
    ['<a>&#xZZ;</a>', 1, 4, "'&' that does not start a reference"],
    ['<a>&#;</a>', 1, 4, "'&' that does not start a reference"],
    ['<1a>x</1a>', 1, 1, "'<' does not start a valid tag name"],
    ['< a>x</a>', 1, 1, "whitespace after '<'"],
    ['<a>x</a>tail', 1, 9, 'text after the root element'],
    ['lead<a>x</a>', 1, 1, 'text before the root element'],
    ['<a/><b/>', 1, 5, 'a second root element'],
    ['', 1, 1, 'no root element'],
    ['<a><!-- x </a>', 1, 4, 'a comment that is never closed'],
    ['<a><![CDATA[ x </a>', 1, 4, 'a CDATA section that is never closed'],
    ['<![CDATA[x]]><a/>', 1, 1, 'a CDATA section outside the root element'],
    ['<a/><?xml version="1.0"?>', 1, 5, 'the XML declaration is allowed only at the start of the document'],
    ['<a><? x?></a>', 1, 4, 'a processing instruction without a target name'],
    ['<a></a', 1, 4, "the closing tag 'a' is not closed with '>'"],
    ['<a b="1"', 1, 1, "the tag 'a' is never closed"],
    ['<a/ >', 1, 3, "'/' in the tag 'a' is not followed by '>'"],
  ])('refuses %j at line %i, column %i: %s', (xml, line, column, message) => {
    expect(verdict(xml)).toEqual({ line, column, message });
  });

  it('checks a deep document without recursion and a long one in one pass', () => {
    const deep = '<a>'.repeat(100_000) + '</a>'.repeat(100_000);
    expect(verdict(deep)).toBeNull();
    expect(verdict(deep.slice(0, -1))).toMatchObject({ message: "the closing tag 'a' is not closed with '>'" });
  });
});

// Well-formed documents from a small grammar: names (with prefixes and Danish letters),
// attributes, text with references, comments, CDATA, processing instructions.
const name = fc.constantFrom('a', 'b', 'Plan', 's:Body', 'ns1:Indsats', 'æble', 'x-1.y_z');
const text = fc.array(fc.constantFrom('tekst', ' ', '\n', '&amp;', '&lt;', '&#230;', '&#xE6;', '1 > 0', 'ø', '"', "'"), { maxLength: 4 }).map((parts) => parts.join(''));
const attributes = fc.uniqueArray(fc.tuple(fc.constantFrom('id', 'xmlns:s', 'v', 'æ'), text, fc.constantFrom('"', "'")), { selector: ([n]) => n, maxLength: 3 }).map((list) =>
  list.map(([n, value, quote]) => ` ${n}=${quote}${value.replaceAll(quote, quote === '"' ? '&quot;' : '&apos;')}${quote}`).join(''),
);
const { element } = fc.letrec((tie) => ({
  element: fc.tuple(name, attributes, fc.array(tie('content'), { maxLength: 4 })).map(([n, attrs, children]) => (children.length === 0 ? `<${n}${attrs}/>` : `<${n}${attrs}>${children.join('')}</${n}>`)),
  content: fc.oneof({ depthSize: 'small' }, text, tie('element'), fc.constant('<!-- kommentar -->'), fc.constant('<![CDATA[<rå> & data]]>'), fc.constant('<?pi data?>')),
}));
const document = fc.tuple(fc.boolean(), element as fc.Arbitrary<string>, fc.constantFrom('', '\n', '<!-- slut -->')).map(([declaration, root, tail]) => `${declaration ? '<?xml version="1.0"?>' : ''}${root}${tail}`);

// Ways to break a document: a character removed, markup inserted, the text cut short.
const broken = fc.tuple(document, fc.nat(), fc.constantFrom('delete', 'insert', 'cut'), fc.constantFrom('<', '>', '&', '"', "'", '/', '!', '?', '=', ']]>', '</a>', '<a>', '--', ' ')).map(([xml, at, how, mark]) => {
  const k = xml.length === 0 ? 0 : at % xml.length;
  if (how === 'delete') return xml.slice(0, k) + xml.slice(k + 1);
  if (how === 'insert') return xml.slice(0, k) + mark + xml.slice(k);
  return xml.slice(0, k);
});

describe('against fast-xml-parser’s validator', () => {
  it('accepts every generated well-formed document, as it does', () => {
    fc.assert(
      fc.property(document, (xml) => {
        expect(verdict(xml)).toBeNull();
        expect(XMLValidator.validate(xml)).toBe(true);
      }),
      { numRuns: 500 },
    );
  });

  it('is never more lenient: what it refuses of broken documents, we refuse', () => {
    let refusedByIt = 0;
    let refusedOnlyAtDecoding = 0;
    fc.assert(
      fc.property(broken, (xml) => {
        if (XMLValidator.validate(xml) === true) return;
        refusedByIt++;
        if (verdict(xml) !== null) return;
        // Its validator takes fewer characters in an entity name than XML's Name production does
        // (`&l--t;` is well-formed XML): the reader refuses such a reference when it decodes it.
        expect(() => reader.parse(xml), xml).toThrow(/undeclared entity/);
        refusedOnlyAtDecoding++;
      }),
      { numRuns: 3000 },
    );
    // The breakage is real: most broken documents are refused by fast-xml-parser too, and by the check itself.
    expect(refusedByIt).toBeGreaterThan(1500);
    expect(refusedOnlyAtDecoding).toBeLessThan(refusedByIt / 100);
  });
});
