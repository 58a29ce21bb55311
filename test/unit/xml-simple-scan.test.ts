// The simple scanner (src/xml/simple-scan.ts) against saxes: whenever it accepts a document, saxes
// accepts it too and builds the very same positional tree; what it cannot check completely it
// hands to saxes (undefined). Fixtures, the golden outputs, hand-picked edge cases and generated
// token soups (FC_SEED=… to replay).
import fc from 'fast-check';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { scanSimpleXml } from '../../src/xml/simple-scan.js';
import { parseTree, parseWithSaxes, type XmlElement } from '../../src/xml/tree.js';
import { checkXmlInput } from '../../src/xml/guard.js';
import { readDomainPassthrough } from '../../src/xml/domain-reader.js';

const seed = process.env.FC_SEED ? Number(process.env.FC_SEED) : undefined;
const params = { numRuns: 3000, ...(seed !== undefined ? { seed } : {}) };

/** The tree as plain data (parent links become depth), so two trees compare with toEqual. */
function plain(el: XmlElement, depth = 0): unknown {
  return {
    name: el.name,
    attrs: { ...el.attrs },
    start: el.start,
    openEnd: el.openEnd,
    closeStart: el.closeStart,
    end: el.end,
    selfClosing: el.selfClosing,
    depth,
    hasParent: el.parent !== undefined,
    children: el.children.map((c) => plain(c, depth + 1)),
  };
}

function saxesOutcome(text: string): { ok: true; tree: unknown } | { ok: false } {
  try {
    return { ok: true, tree: plain(parseWithSaxes(text).root) };
  } catch {
    return { ok: false };
  }
}

/** Asserts the scanner's contract on `text`; returns whether the scanner accepted it. */
function check(text: string): boolean {
  const bom = text.charCodeAt(0) === 0xfeff ? 1 : 0;
  const root = scanSimpleXml(bom ? text.slice(1) : text, bom);
  if (!root) return false;
  const ref = saxesOutcome(text);
  expect(ref.ok, `saxes refuses what the scanner accepted: ${JSON.stringify(text)}`).toBe(true);
  expect(plain(root)).toEqual((ref as { tree: unknown }).tree);
  return true;
}

const xmlFiles = (dir: string): string[] =>
  readdirSync(dir)
    .filter((f) => f.endsWith('.xml'))
    .map((f) => join(dir, f));

describe('simple XML scanner', () => {
  it('builds saxes’ tree for every fixture and golden output it accepts, and accepts the plain ones', () => {
    const files = [...xmlFiles('fixtures/xml'), ...xmlFiles('fixtures/xml/golden')];
    let accepted = 0;
    for (const f of files) if (check(readFileSync(f, 'utf8'))) accepted++;
    // most libvirt XML is plain: if the scanner took none, it would be dead weight
    expect(accepted).toBeGreaterThan(files.length / 2);
  });

  it('reads a domain the same way through either parser', () => {
    const xml = readFileSync('fixtures/xml/domain-metadata.xml', 'utf8');
    expect(check(xml)).toBe(true);
    // a comment with an ampersand sends the whole document to saxes: same result
    const viaSaxes = xml.replace('</devices>', '<!-- a & b --></devices>');
    expect(check(viaSaxes)).toBe(false);
    const a = readDomainPassthrough(xml);
    const b = readDomainPassthrough(viaSaxes);
    expect(b).toEqual(a);
  });

  it.each([
    ['plain', '<a x=\'1\' y="2"><b/>text<c></c></a>', true],
    ['declaration and BOM', "\uFEFF<?xml version='1.0' encoding='UTF-8'?>\n<a/>\n", true],
    ['comments around the root', '<!-- x --><a><!-- y --></a><!-- z -->\n', true],
    ['empty comment', '<a><!----></a>', true],
    ['white space in tags', '<a  x = "1"\n y="2" ><b /></a >', true],
    ['entity', '<a>&amp;</a>', false],
    ['character reference in a value', "<a x='&#65;'/>", false],
    ['CDATA', '<a><![CDATA[x]]></a>', false],
    ['DOCTYPE', '<!DOCTYPE a><a/>', false],
    ['processing instruction', '<a><?pi x?></a>', false],
    ['non-ASCII text', '<a>é</a>', false],
    ['carriage return', '<a>\r\n</a>', false],
    ['tab in a value', "<a x='\t'/>", false],
    ['duplicate attribute', "<a x='1' x='2'/>", false],
    ['__proto__ attribute', "<a __proto__='1'/>", false],
    ['missing space between attributes', "<a x='1'y='2'/>", false],
    ['mismatched close', '<a></b>', false],
    ['unclosed', '<a><b></a>', false],
    ['two roots', '<a/><b/>', false],
    ['text outside the root', 'x<a/>', false],
    ['no root', '  ', false],
    ['double dash in a comment', '<a><!-- a -- b --></a>', false],
    ['comment ending in a dash', '<a><!-- a ---></a>', false],
    ['late declaration', ' <?xml version="1.0"?><a/>', false],
    ['declaration version 1.1', '<?xml version="1.1"?><a/>', false],
    ['> in text', '<a>]]></a>', false],
    ['< in a value', "<a x='<'/>", false],
    ['bad name', '<1a/>', false],
    ['colon at the end of a name', '<a:/>', false],
  ])('%s', (_name, text, accepted) => {
    expect(check(text)).toBe(accepted);
  });

  it('is the stricter side of saxes on generated token soups', () => {
    const token = fc.constantFrom(
      '<a',
      '<b',
      '<p:c',
      '</a>',
      '</b>',
      '</p:c>',
      '>',
      '/>',
      ' ',
      '\n',
      '\t',
      " x='1'",
      ' x="2"',
      " y='v w'",
      '=',
      "'",
      '"',
      'text',
      '&amp;',
      '&',
      '&#x41;',
      '&bogus;',
      '<!--',
      '-->',
      '-',
      '<?xml version="1.0"?>',
      '<?pi?>',
      ']]>',
      '<![CDATA[',
      '\r',
      'é',
      '\uFEFF',
      '<!DOCTYPE a>',
    );
    fc.assert(
      fc.property(fc.array(token, { maxLength: 24 }), (parts) => {
        check(parts.join(''));
      }),
      params,
    );
    // and on well-formed documents made of the same pieces, most of which it takes
    const el: fc.Memo<string> = fc.memo((n) =>
      n <= 1
        ? fc.constantFrom('<a/>', "<b x='1'/>", '<c>t</c>')
        : fc
            .tuple(
              fc.constantFrom('a', 'b', 'p:c'),
              fc.constantFrom('', " x='1'", ' y="2" z=\'3\''),
              fc.array(fc.oneof(el(n - 1), fc.constantFrom('text', ' ', '\n  ', '<!-- c -->')), { maxLength: 4 }),
            )
            .map(([name, attrs, kids]) => `<${name}${attrs}>${kids.join('')}</${name}>`),
    );
    let accepted = 0;
    fc.assert(
      fc.property(el(4), (doc) => {
        if (check(doc)) accepted++;
      }),
      { ...params, numRuns: 300 },
    );
    expect(accepted).toBe(300);
  });

  it('leaves refusals to saxes: the same messages as before', () => {
    expect(() => parseTree('<a><b></a>', 'domain XML')).toThrow(/domain XML is not well-formed/);
    expect(() => checkXmlInput('<a x="1" x="2"/>', 'domain XML')).toThrow(/domain XML is not well-formed/);
    const deep = '<a>'.repeat(70) + '</a>'.repeat(70);
    expect(() => checkXmlInput(deep, 'domain XML')).toThrow(/nesting deeper than 64 levels/);
    expect(() => parseTree(deep, 'domain XML')).toThrow(/nesting deeper than 64 levels/);
  });
});
