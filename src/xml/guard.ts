// Hostile input is refused before any work: libvirt XML never needs a DTD, so DOCTYPE/ENTITY
// declarations (XXE, entity bombs) are rejected outright; so are invalid UTF-8, XML that is not
// well-formed (truncated), absurd sizes and nesting. saxes does the well-formedness check.
import { isUtf8 } from 'node:buffer';
import { SaxesParser } from 'saxes';
import { InputError } from '../errors.js';
import { printable } from '../pci/address.js';

export const MAX_XML_BYTES = 4 * 1024 * 1024;
export const MAX_XML_DEPTH = 64;
export const MAX_ATTRIBUTE_LENGTH = 64 * 1024;

/** Decodes and checks input; returns the text (BOM kept, so byte-exact editing can keep it). */
export function checkXmlInput(
  input: Buffer | Uint8Array | string,
  what = 'XML',
  opts: { structure?: boolean } = {},
): string {
  let text: string;
  if (typeof input === 'string') {
    if (Buffer.byteLength(input) > MAX_XML_BYTES)
      throw new InputError(`${what} is too large (over ${MAX_XML_BYTES} bytes)`);
    text = input;
  } else {
    if (input.byteLength > MAX_XML_BYTES)
      throw new InputError(`${what} is too large (${input.byteLength} bytes, limit ${MAX_XML_BYTES})`);
    // isUtf8 + toString instead of a fatal TextDecoder: the same strict check (a BOM is kept, as
    // ignoreBOM did) without loading the WHATWG encoding machinery on every hook start
    if (!isUtf8(input)) throw new InputError(`${what} is not valid UTF-8`);
    text = Buffer.from(input.buffer, input.byteOffset, input.byteLength).toString('utf8');
  }
  if (hasDeclaration(text, 'doctype'))
    throw new InputError(
      `${what} has a DOCTYPE declaration, which libvirt XML never needs (refused: XXE/entity expansion)`,
    );
  if (hasDeclaration(text, 'entity'))
    throw new InputError(`${what} has an ENTITY declaration (refused: entity expansion)`);
  // Callers that build a positional tree next (parseTree applies the same limits) skip this pass.
  if (opts.structure !== false) checkWellFormed(text, what);
  return text;
}

/**
 * Whether '<!' and then `lowerWord` in any case of its ASCII letters (what /<!DOCTYPE/i finds)
 * occurs in text. A look at the few '<!' a document has: a case-insensitive pattern is compiled to
 * native code at once for a long subject, on every hook start, for one search.
 */
function hasDeclaration(text: string, lowerWord: string): boolean {
  for (let i = text.indexOf('<!'); i >= 0; i = text.indexOf('<!', i + 2)) {
    let k = 0;
    while (k < lowerWord.length && (text.charCodeAt(i + 2 + k) | 0x20) === lowerWord.charCodeAt(k)) k++;
    if (k === lowerWord.length) return true;
  }
  return false;
}

function checkWellFormed(text: string, what: string): void {
  const parser = new SaxesParser({ xmlns: false, position: true });
  let depth = 0;
  let roots = 0;
  let failure: string | undefined;
  parser.on('error', (err) => {
    failure ??= err.message.replace(/^undefined:/, '');
  });
  parser.on('opentag', (tag) => {
    depth++;
    if (depth === 1) roots++;
    if (depth > MAX_XML_DEPTH)
      failure ??= `nesting deeper than ${MAX_XML_DEPTH} levels at <${printable(tag.name, 40)}>`;
    for (const [name, value] of Object.entries(tag.attributes)) {
      const v = String(value);
      if (v.length > MAX_ATTRIBUTE_LENGTH)
        failure ??= `attribute '${printable(name, 40)}' of <${printable(tag.name, 40)}> is over ${MAX_ATTRIBUTE_LENGTH} characters`;
    }
  });
  parser.on('closetag', () => {
    depth--;
  });
  try {
    parser.write(text.charCodeAt(0) === 0xfeff ? text.slice(1) : text).close();
  } catch (err) {
    failure ??= (err as Error).message;
  }
  if (!failure && roots !== 1) failure = 'no root element';
  if (failure) throw new InputError(`${what} is not well-formed: ${printable(failure, 160)}`);
}
