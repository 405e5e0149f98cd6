/**
 * A small XML reader and writer for robot descriptions (MJCF, URDF). The importer needs the element tree
 * with line numbers, to check references and name the line of a problem before MuJoCo compiles the model,
 * and to rewrite file references; nothing more (no namespaces, no DTD validation). Comments, the XML
 * declaration and DOCTYPE are dropped; text and CDATA are kept as text.
 */

export interface XmlElement {
  name: string;
  /** Attributes in document order. */
  attrs: Array<[string, string]>;
  children: XmlNode[];
  /** 1-based line of the element's start tag. */
  line: number;
}

export type XmlNode = XmlElement | string;

export class XmlSyntaxError extends Error {
  readonly line: number;
  constructor(message: string, line: number) {
    super(`line ${line}: ${message}`);
    this.name = 'XmlSyntaxError';
    this.line = line;
  }
}

const NAME = /[A-Za-z_:][-A-Za-z0-9_:.]*/y;
const ENTITIES: Record<string, string> = { lt: '<', gt: '>', amp: '&', quot: '"', apos: "'" };

function decode(text: string, line: number): string {
  return text.replace(/&(#x[0-9a-fA-F]+|#[0-9]+|[A-Za-z]+);|&/g, (whole, ent: string | undefined) => {
    if (ent === undefined) throw new XmlSyntaxError(`bare '&' (write &amp;)`, line);
    if (ent.startsWith('#x')) return String.fromCodePoint(Number.parseInt(ent.slice(2), 16));
    if (ent.startsWith('#')) return String.fromCodePoint(Number.parseInt(ent.slice(1), 10));
    const v = ENTITIES[ent];
    if (v === undefined) throw new XmlSyntaxError(`unknown entity ${whole}`, line);
    return v;
  });
}

/** Parses a document and returns its root element; malformed input throws `XmlSyntaxError` with the line. */
export function parseXml(text: string): XmlElement {
  let pos = 0;
  let line = 1;
  const advance = (to: number) => {
    for (let i = pos; i < to; i++) if (text.charCodeAt(i) === 10) line++;
    pos = to;
  };
  const skipTo = (marker: string, what: string) => {
    const end = text.indexOf(marker, pos);
    if (end < 0) throw new XmlSyntaxError(`unterminated ${what}`, line);
    advance(end + marker.length);
  };
  const readName = (what: string): string => {
    NAME.lastIndex = pos;
    const m = NAME.exec(text);
    if (!m) throw new XmlSyntaxError(`expected ${what} name`, line);
    advance(pos + m[0].length);
    return m[0];
  };
  const skipSpace = () => {
    let i = pos;
    while (i < text.length && /\s/.test(text[i]!)) i++;
    advance(i);
  };

  const stack: XmlElement[] = [];
  let root: XmlElement | undefined;
  while (pos < text.length) {
    const lt = text.indexOf('<', pos);
    const chunkEnd = lt < 0 ? text.length : lt;
    if (chunkEnd > pos) {
      const chunk = text.slice(pos, chunkEnd);
      const top = stack[stack.length - 1];
      if (top) top.children.push(decode(chunk, line));
      else if (chunk.trim() !== '') throw new XmlSyntaxError('text outside the root element', line);
      advance(chunkEnd);
      if (lt < 0) break;
    }
    if (text.startsWith('<!--', pos)) skipTo('-->', 'comment');
    else if (text.startsWith('<![CDATA[', pos)) {
      const start = pos + 9;
      const end = text.indexOf(']]>', start);
      if (end < 0) throw new XmlSyntaxError('unterminated CDATA section', line);
      stack[stack.length - 1]?.children.push(text.slice(start, end));
      advance(end + 3);
    } else if (text.startsWith('<?', pos)) skipTo('?>', 'processing instruction');
    else if (text.startsWith('<!', pos)) skipTo('>', 'declaration');
    else if (text.startsWith('</', pos)) {
      const tagLine = line;
      advance(pos + 2);
      const name = readName('closing tag');
      skipSpace();
      if (text[pos] !== '>') throw new XmlSyntaxError(`malformed closing tag </${name}>`, line);
      advance(pos + 1);
      const open = stack.pop();
      if (!open) throw new XmlSyntaxError(`closing tag </${name}> without an open element`, tagLine);
      if (open.name !== name) {
        throw new XmlSyntaxError(
          `closing tag </${name}> does not match <${open.name}> opened on line ${open.line}`,
          tagLine,
        );
      }
    } else {
      const el: XmlElement = { name: '', attrs: [], children: [], line };
      advance(pos + 1);
      el.name = readName('element');
      for (;;) {
        skipSpace();
        if (text.startsWith('/>', pos)) {
          advance(pos + 2);
          attach(el, false);
          break;
        }
        if (text[pos] === '>') {
          advance(pos + 1);
          attach(el, true);
          break;
        }
        if (pos >= text.length) throw new XmlSyntaxError(`unterminated start tag <${el.name}>`, el.line);
        const attrLine = line;
        const attr = readName(`attribute of <${el.name}>`);
        skipSpace();
        if (text[pos] !== '=')
          throw new XmlSyntaxError(`attribute '${attr}' of <${el.name}> has no value`, line);
        advance(pos + 1);
        skipSpace();
        const quote = text[pos];
        if (quote !== '"' && quote !== "'") {
          throw new XmlSyntaxError(`attribute '${attr}' of <${el.name}> is not quoted`, line);
        }
        const end = text.indexOf(quote, pos + 1);
        if (end < 0) throw new XmlSyntaxError(`unterminated value of attribute '${attr}'`, attrLine);
        const raw = text.slice(pos + 1, end);
        if (raw.includes('<')) throw new XmlSyntaxError(`'<' in the value of attribute '${attr}'`, attrLine);
        if (el.attrs.some(([k]) => k === attr)) {
          throw new XmlSyntaxError(`duplicate attribute '${attr}' on <${el.name}>`, attrLine);
        }
        el.attrs.push([attr, decode(raw, attrLine)]);
        advance(end + 1);
      }
    }
  }
  const open = stack.pop();
  if (open)
    throw new XmlSyntaxError(`element <${open.name}> opened on line ${open.line} is never closed`, line);
  if (!root) throw new XmlSyntaxError('no root element', line);
  return root;

  function attach(el: XmlElement, opens: boolean) {
    const parent = stack[stack.length - 1];
    if (parent) parent.children.push(el);
    else if (root) throw new XmlSyntaxError(`second root element <${el.name}>`, el.line);
    else root = el;
    if (opens) stack.push(el);
  }
}

export function attr(el: XmlElement, name: string): string | undefined {
  return el.attrs.find(([k]) => k === name)?.[1];
}

export function setAttr(el: XmlElement, name: string, value: string): void {
  const entry = el.attrs.find(([k]) => k === name);
  if (entry) entry[1] = value;
  else el.attrs.push([name, value]);
}

export function removeAttr(el: XmlElement, name: string): void {
  el.attrs = el.attrs.filter(([k]) => k !== name);
}

export function childElements(el: XmlElement, name?: string): XmlElement[] {
  return el.children.filter(
    (c): c is XmlElement => typeof c !== 'string' && (name === undefined || c.name === name),
  );
}

/** Every element of the tree, depth first, with its parent (null for the root). */
export function* walk(
  el: XmlElement,
  parent: XmlElement | null = null,
): Generator<[XmlElement, XmlElement | null]> {
  yield [el, parent];
  for (const c of childElements(el)) yield* walk(c, el);
}

const escapeAttr = (v: string) =>
  v.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/"/g, '&quot;').replace(/\n/g, '&#10;');
const escapeText = (v: string) => v.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');

/**
 * Writes the tree back as XML: one element per line, two-space indentation, whitespace-only text dropped.
 * The output depends only on the tree, so it is also the normalized form that model ids are hashed from.
 */
export function serializeXml(el: XmlElement, indent = ''): string {
  const attrs = el.attrs.map(([k, v]) => ` ${k}="${escapeAttr(v)}"`).join('');
  const kids = el.children.filter((c) => typeof c !== 'string' || c.trim() !== '');
  if (kids.length === 0) return `${indent}<${el.name}${attrs}/>`;
  if (kids.every((c) => typeof c === 'string')) {
    return `${indent}<${el.name}${attrs}>${escapeText((kids as string[]).join('').trim())}</${el.name}>`;
  }
  const inner = kids.map((c) =>
    typeof c === 'string' ? `${indent}  ${escapeText(c.trim())}` : serializeXml(c, `${indent}  `),
  );
  return [`${indent}<${el.name}${attrs}>`, ...inner, `${indent}</${el.name}>`].join('\n');
}
