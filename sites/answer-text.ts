/**
 * Answer text extraction: the text a person reads in a chat answer, from its DOM.
 *
 * Walks the DOM itself (no innerText): it must give the same result in a real browser and in
 * happy-dom, which has no layout. Format, chosen to be what a reader sees and what a model reads well:
 * - paragraphs, headings, block quotes, tables, lists (as a whole) and code blocks are separated
 *   by a blank line ("\n\n"); other block boxes (div, section, ...) and `<br>` by "\n";
 * - list items one per line, "- " for `<ul>`, "1. " for `<ol>` (honouring `start`/`value`),
 *   nested lists indented by two spaces per level;
 * - code blocks (`<pre>`) verbatim, fenced with ``` and the language when the page names it
 *   (`language-xxx` class or `data-language`); inline code is plain text;
 * - table cells joined by " | ", one row per line;
 * - KaTeX math as its TeX source ($…$), since the rendered glyphs are aria-hidden;
 * - whitespace collapsed as CSS does outside `<pre>`;
 * - left out: scripts, styles, buttons, form controls, media, hidden elements (`hidden`,
 *   `aria-hidden="true"`, inline `display:none` / `visibility:hidden`, screen-reader-only classes)
 *   and whatever matches the caller's `strip` selector.
 */

export interface ExtractOptions {
  /** A selector list (comma-joined) for site chrome to leave out, with its subtree. */
  strip?: string;
  /** Chrome to leave out that no selector can name (the shape adapter decides by structure). */
  skip?: (el: Element) => boolean;
}

/** Elements never read as answer text. */
const SKIP_TAGS = new Set([
  'script', 'style', 'noscript', 'template', 'button', 'svg', 'input', 'textarea', 'select',
  'option', 'iframe', 'frame', 'object', 'embed', 'canvas', 'video', 'audio', 'img', 'picture',
  'source', 'track', 'map', 'head', 'link', 'meta', 'title',
]);

/** Blocks separated by a blank line. */
const PARAGRAPH_TAGS = new Set([
  'p', 'h1', 'h2', 'h3', 'h4', 'h5', 'h6', 'blockquote', 'ul', 'ol', 'table', 'hr', 'dl', 'figure', 'details',
]);

/** Blocks separated by a single line break. */
const LINE_TAGS = new Set([
  'div', 'section', 'article', 'header', 'footer', 'main', 'aside', 'nav', 'li', 'tr', 'dt', 'dd',
  'summary', 'figcaption', 'address', 'caption', 'form', 'fieldset', 'legend', 'thead', 'tbody', 'tfoot',
]);

const HIDDEN_CLASSES = ['sr-only', 'visually-hidden', 'cdk-visually-hidden', 'screen-reader-only'];
const HIDDEN_STYLE = /(?:^|;)\s*(?:display\s*:\s*none|visibility\s*:\s*hidden)\b/i;
const COLLAPSIBLE = /[ \t\n\r\f\u00a0]+/g;
/** Deeper than this is pathological markup: read it as flat text instead of recursing further. */
const MAX_DEPTH = 256;

/** True when the element is hidden by markup alone (no layout needed). */
export function isHiddenElement(el: Element): boolean {
  if (el.hasAttribute('hidden')) return true;
  if (el.getAttribute('aria-hidden') === 'true') return true;
  const style = el.getAttribute('style');
  if (style !== null && HIDDEN_STYLE.test(style)) return true;
  const list = el.classList;
  if (list !== undefined && list.length > 0) {
    for (const name of HIDDEN_CLASSES) if (list.contains(name)) return true;
  }
  return false;
}

class TextOut {
  private parts: string[] = [];
  private started = false;
  /** Line breaks owed before the next text (0, 1 or 2). */
  private pending = 0;
  private space = false;
  private prefix = '';

  breakBefore(n: 1 | 2): void {
    if (this.started && n > this.pending) this.pending = n;
  }

  lineBreak(): void {
    if (this.started) this.pending = Math.min(this.pending + 1, 2);
  }

  listItem(prefix: string): void {
    this.breakBefore(1);
    this.prefix = prefix;
    this.space = false;
  }

  /** Text already free of collapsible whitespace at its ends is written as is. */
  text(raw: string): void {
    if (raw.length === 0) return;
    const s = raw.replace(COLLAPSIBLE, ' ');
    const lead = s.charCodeAt(0) === 32;
    const trail = s.length > 1 && s.charCodeAt(s.length - 1) === 32;
    const body = s.slice(lead ? 1 : 0, trail ? s.length - 1 : s.length);
    if (lead) this.space = true;
    if (body.length > 0) {
      this.emit(body);
      if (trail) this.space = true;
    }
  }

  /** Separator such as " | " between table cells: only between two pieces of text on a line. */
  separator(sep: string): void {
    if (this.started && this.pending === 0) {
      this.parts.push(sep);
      this.space = false;
    }
  }

  /** Verbatim block (code): its own paragraph. */
  block(s: string): void {
    this.breakBefore(2);
    this.space = false;
    this.emit(s);
    this.breakBefore(2);
  }

  private emit(s: string): void {
    if (this.started) {
      if (this.pending > 0) this.parts.push(this.pending === 2 ? '\n\n' : '\n');
      else if (this.space) this.parts.push(' ');
    }
    if (this.prefix !== '') {
      this.parts.push(this.prefix);
      this.prefix = '';
    }
    this.parts.push(s);
    this.started = true;
    this.pending = 0;
    this.space = false;
  }

  toString(): string {
    return this.parts.join('').trim();
  }
}

interface ListState {
  ordered: boolean;
  next: number;
}

class Walker {
  private readonly out = new TextOut();
  private readonly lists: ListState[] = [];
  private strip: string | undefined;
  private readonly skip: ((el: Element) => boolean) | undefined;

  constructor(strip: string | undefined, skip: ((el: Element) => boolean) | undefined) {
    this.strip = strip !== undefined && strip.trim() !== '' ? strip : undefined;
    this.skip = skip;
  }

  run(root: Node): string {
    this.children(root, 0);
    return this.out.toString();
  }

  /** Whether the element (and its subtree) is left out. */
  skipped(el: Element): boolean {
    if (SKIP_TAGS.has(el.localName)) return true;
    if (el.getAttribute('role') === 'button') return true;
    if (isHiddenElement(el)) return true;
    if (this.strip !== undefined) {
      try {
        if (el.matches(this.strip)) return true;
      } catch {
        // A selector this engine cannot parse: stop stripping rather than lose the answer.
        this.strip = undefined;
      }
    }
    return this.skip !== undefined && this.skip(el);
  }

  private children(node: Node, depth: number): void {
    for (let child = node.firstChild; child !== null; child = child.nextSibling) {
      if (child.nodeType === 3) this.out.text((child as Text).data);
      else if (child.nodeType === 1) this.element(child as Element, depth + 1);
      else if (child.nodeType === 11) this.children(child, depth + 1);
    }
  }

  private element(el: Element, depth: number): void {
    const tag = el.localName;
    if (tag === 'br') {
      this.out.lineBreak();
      return;
    }
    if (el.classList !== undefined && el.classList.contains('katex')) {
      const tex = el.querySelector('annotation[encoding="application/x-tex"]');
      if (tex !== null) {
        const display = el.parentElement?.classList.contains('katex-display') === true;
        const source = (tex.textContent ?? '').trim();
        if (display) this.out.block(`$$${source}$$`);
        else this.out.text(`$${source}$`);
        return;
      }
    }
    if (this.skipped(el)) return;
    if (depth > MAX_DEPTH) {
      this.out.text(el.textContent ?? '');
      return;
    }
    if (tag === 'pre') {
      this.out.block(this.codeBlock(el));
      return;
    }
    const inList = this.lists.length > 0;
    let weight: 0 | 1 | 2 = PARAGRAPH_TAGS.has(tag) ? 2 : LINE_TAGS.has(tag) ? 1 : 0;
    // Inside a list item, paragraphs and nested lists stay on their own lines, not blank-line apart.
    if (inList && weight === 2) weight = 1;
    if (weight > 0) this.out.breakBefore(weight as 1 | 2);

    if (tag === 'ul' || tag === 'ol') {
      const start = Number.parseInt(el.getAttribute('start') ?? '', 10);
      this.lists.push({ ordered: tag === 'ol', next: Number.isFinite(start) ? start : 1 });
      this.children(el, depth);
      this.lists.pop();
    } else if (tag === 'li') {
      const list = this.lists[this.lists.length - 1];
      const indent = '  '.repeat(Math.max(0, this.lists.length - 1));
      if (list === undefined) {
        this.out.listItem(`${indent}- `);
      } else if (list.ordered) {
        const value = Number.parseInt(el.getAttribute('value') ?? '', 10);
        const n = Number.isFinite(value) ? value : list.next;
        list.next = n + 1;
        this.out.listItem(`${indent}${n}. `);
      } else {
        this.out.listItem(`${indent}- `);
      }
      this.children(el, depth);
    } else if ((tag === 'td' || tag === 'th') && el.previousElementSibling !== null) {
      this.out.separator(' | ');
      this.children(el, depth);
    } else {
      this.children(el, depth);
    }
    if (weight > 0) this.out.breakBefore(weight as 1 | 2);
  }

  /** A `<pre>`: its code verbatim, fenced, without the site's header (language label, copy button). */
  private codeBlock(pre: Element): string {
    const code = pre.querySelector('code');
    const source = code ?? pre;
    const raw = this.rawText(source).replace(/\r\n?/g, '\n').replace(/\n$/, '');
    const lang = languageOf(code) || languageOf(pre);
    return '```' + lang + '\n' + raw + '\n```';
  }

  /** Text with whitespace kept (code), still leaving out hidden parts and chrome. */
  private rawText(root: Element): string {
    const parts: string[] = [];
    const visit = (node: Node, depth: number): void => {
      for (let child = node.firstChild; child !== null; child = child.nextSibling) {
        if (child.nodeType === 3) parts.push((child as Text).data);
        else if (child.nodeType === 1) {
          const el = child as Element;
          if (el.localName === 'br') parts.push('\n');
          else if (!this.skipped(el)) {
            if (depth > MAX_DEPTH) parts.push(el.textContent ?? '');
            else visit(el, depth + 1);
          }
        }
      }
    };
    visit(root, 0);
    return parts.join('');
  }
}

function languageOf(el: Element | null): string {
  if (el === null) return '';
  const data = el.getAttribute('data-language');
  if (data !== null && /^[\w#+.-]{1,32}$/.test(data)) return data.toLowerCase();
  const match = /(?:^|\s)(?:language|lang)-([\w#+.-]{1,32})/.exec(el.getAttribute('class') ?? '');
  return match === null ? '' : match[1].toLowerCase();
}

/** The text a person reads in `root` (an element, a fragment such as a selection's contents, a document). */
export function extractAnswerText(root: Node, options: ExtractOptions = {}): string {
  return new Walker(options.strip, options.skip).run(root);
}
