/**
 * "Report a broken site": a privacy-safe outline of a chat page that a maintainer can turn into a
 * fixture. It is an HTML-like skeleton of the body: tag names, attribute names, class-name and
 * test-id shapes, and the values of a few attributes that can only hold a fixed vocabulary
 * (role, dir, aria-hidden, contenteditable...). Never any text: text nodes become `…`, and the
 * values of attributes that can hold text (aria-label, title, alt, href, src, placeholder, value,
 * data-* payloads...) are dropped, keeping only the attribute's name.
 *
 * Class names and test ids are developers' identifiers, not the person's words, but numbers and
 * hashes in them can still identify a conversation or an account. So they are written as shapes:
 * each part that reads as a code word (lowercase letters, or camelCase/PascalCase words, no digits)
 * is kept, as those are what a fixture (and the shape adapter) needs; every other part (digits,
 * hashes, mixed tokens) becomes its shape, with runs of lowercase letters as `a`, capitals as `A`,
 * digits as `9` (`Message_botMessageBubble__aYctV` → `Message_botMessageBubble__aAaA`, `turn-42` →
 * `turn-9`). Element ids (and name/for/slot) are per-instance and the likeliest place for a value
 * made from content (a title slug, a user name), so they are written as bare shapes, words and all
 * (`conv-Jabberwock-42` → `a-Aa-9`).
 *
 * Depth-limited and size-capped: long lists keep their first and last children and say how many
 * were left out; the whole outline stops at a fixed number of elements.
 */

export interface OutlineOptions {
  /** Deepest level written (body is 0); deeper boxes become a marker. Default 48. */
  maxDepth?: number;
  /** Elements written at most; the rest is summarised. Default 4000. */
  maxElements?: number;
  /** Children written per element: the first `headChildren` and the last `tailChildren`. */
  headChildren?: number;
  tailChildren?: number;
}

/** Subtrees written as an empty tag: their insides are either text-like or irrelevant to layout. */
const OPAQUE = new Set(['script', 'style', 'noscript', 'template', 'svg', 'math', 'iframe', 'object', 'canvas', 'video', 'audio', 'textarea', 'select']);
const VOID = new Set(['area', 'base', 'br', 'col', 'embed', 'hr', 'img', 'input', 'link', 'meta', 'source', 'track', 'wbr']);

/** ARIA roles (WAI-ARIA 1.2): a role's value is one of these words or is dropped. */
const ROLES = new Set(
  (
    'alert alertdialog application article banner blockquote button caption cell checkbox code columnheader combobox ' +
    'complementary contentinfo definition deletion dialog directory document emphasis feed figure form generic grid ' +
    'gridcell group heading img insertion link list listbox listitem log main marquee math meter menu menubar menuitem ' +
    'menuitemcheckbox menuitemradio navigation none note option paragraph presentation progressbar radio radiogroup ' +
    'region row rowgroup rowheader scrollbar search searchbox separator slider spinbutton status strong subscript ' +
    'superscript switch tab table tablist tabpanel term textbox time timer toolbar tooltip tree treegrid treeitem'
  ).split(' '),
);

/** Attributes whose values are a fixed vocabulary: written when the value is one of these words. */
const ENUMERATED: Record<string, Set<string>> = {
  dir: new Set(['ltr', 'rtl', 'auto']),
  contenteditable: new Set(['true', 'false', 'plaintext-only', '']),
  draggable: new Set(['true', 'false']),
  translate: new Set(['yes', 'no']),
  'aria-live': new Set(['off', 'polite', 'assertive']),
  'aria-current': new Set(['page', 'step', 'location', 'date', 'time', 'true', 'false']),
  'aria-haspopup': new Set(['true', 'false', 'menu', 'listbox', 'tree', 'grid', 'dialog']),
  'aria-orientation': new Set(['horizontal', 'vertical']),
};
const STATES = new Set(['true', 'false', 'mixed', 'undefined']);
/** Values of data attributes that are role or state words, safe and useful in a fixture. */
const DATA_WORDS = new Set([
  'true', 'false', 'user', 'assistant', 'human', 'bot', 'model', 'system', 'ai', 'tool', 'function', 'me', 'you',
  'left', 'right', 'start', 'end', 'open', 'closed', 'on', 'off', 'markdown', 'highlighter', 'instruct', 'chat',
]);
const TYPES = new Set([
  'button', 'submit', 'reset', 'text', 'search', 'checkbox', 'radio', 'file', 'hidden', 'email', 'number', 'range', 'url', 'password',
]);
/** Test ids: written as shapes, code words kept (like class names). */
const TEST_IDS = new Set(['data-testid', 'data-test-id', 'data-qa', 'data-cy']);
/** Per-instance identifiers, the likeliest place for a value made from content: written as bare shapes. */
const IDENTIFIERS = new Set(['id', 'name', 'for', 'slot']);

/** A code word: lowercase letters, or camelCase / PascalCase words (no digits). */
const CODE_WORD = /^(?:[a-z]+|[A-Z]?[a-z]+(?:[A-Z][a-z]+)*)$/;
const MAX_WORD = 24;

function bareShape(part: string): string {
  return part.replace(/[a-z]+/g, 'a').replace(/[A-Z]+/g, 'A').replace(/[0-9]+/g, '9');
}

/** The shape of a class name or test id: code words kept, every other part reduced to `a`/`A`/`9` runs. */
export function shapeOf(token: string): string {
  return token.replace(/[A-Za-z0-9]+/g, (part) => (part.length <= MAX_WORD && CODE_WORD.test(part) ? part : bareShape(part)));
}

function escapeAttr(value: string): string {
  return value.replace(/&/g, '&amp;').replace(/"/g, '&quot;').replace(/</g, '&lt;');
}

function attributeOut(el: Element, name: string): string {
  const value = el.getAttribute(name) ?? '';
  if (!/^[a-z_:][-a-z0-9_:.]*$/i.test(name)) return '';
  if (name === 'role') {
    const roles = value.split(/\s+/).filter((role) => ROLES.has(role));
    return roles.length > 0 ? ` role="${roles.join(' ')}"` : ' role';
  }
  if (name === 'class') {
    const shapes = value.split(/\s+/).filter(Boolean).map(shapeOf);
    return shapes.length > 0 ? ` class="${escapeAttr(shapes.join(' '))}"` : '';
  }
  if (TEST_IDS.has(name)) return value === '' ? ` ${name}` : ` ${name}="${escapeAttr(value.split(/\s+/).map(shapeOf).join(' '))}"`;
  if (IDENTIFIERS.has(name)) return value === '' ? ` ${name}` : ` ${name}="${escapeAttr(bareShape(value))}"`;
  const enumerated = ENUMERATED[name];
  if (enumerated !== undefined) return enumerated.has(value) ? ` ${name}="${value}"` : ` ${name}`;
  if (name.startsWith('aria-') && STATES.has(value)) return ` ${name}="${value}"`;
  if (name === 'type' && TYPES.has(value)) return ` type="${value}"`;
  if (name.startsWith('data-') && DATA_WORDS.has(value)) return ` ${name}="${value}"`;
  // Everything else (aria-label, title, alt, href, src, style, placeholder, value, data-* payloads): name only.
  return ` ${name}`;
}

function startTag(el: Element): string {
  let out = `<${el.localName}`;
  for (const name of el.getAttributeNames()) out += attributeOut(el, name);
  return `${out}>`;
}

function hasDirectText(el: Element): boolean {
  for (let child = el.firstChild; child !== null; child = child.nextSibling) {
    if (child.nodeType === 3 && (child as Text).data.trim() !== '') return true;
  }
  return false;
}

/**
 * A privacy-safe outline of the page (or of `root`): structure, roles, attribute names and class
 * shapes, never text. Never throws.
 */
export function outlinePage(root: ParentNode, options: OutlineOptions = {}): string {
  const maxDepth = options.maxDepth ?? 48;
  const maxElements = options.maxElements ?? 4000;
  const head = options.headChildren ?? 24;
  const tail = options.tailChildren ?? 6;
  const lines: string[] = ['<!-- Realign page outline v1: tags, roles, attribute names, class shapes; no text. -->'];
  let written = 0;
  let truncated = false;

  const write = (el: Element, depth: number): void => {
    if (written >= maxElements) {
      truncated = true;
      return;
    }
    written++;
    const pad = '  '.repeat(depth);
    const tag = startTag(el);
    const name = el.localName;
    if (VOID.has(name)) {
      lines.push(pad + tag);
      return;
    }
    if (OPAQUE.has(name)) {
      lines.push(`${pad}${tag}</${name}>`);
      return;
    }
    const kids = Array.from(el.children);
    const text = hasDirectText(el) ? '…' : '';
    if (kids.length === 0) {
      lines.push(`${pad}${tag}${text}</${name}>`);
      return;
    }
    if (depth >= maxDepth) {
      lines.push(`${pad}${tag}<!-- ${kids.length} children below the depth limit --></${name}>`);
      return;
    }
    lines.push(pad + tag + text);
    const shown = kids.length > head + tail ? [...kids.slice(0, head), null, ...kids.slice(-tail)] : kids;
    for (const kid of shown) {
      if (kid === null) lines.push(`${pad}  <!-- ${kids.length - head - tail} more children -->`);
      else write(kid, depth + 1);
    }
    lines.push(`${pad}</${name}>`);
  };

  try {
    const node = root as unknown as Node;
    const start: Element | null =
      node.nodeType === 9 ? ((root as Document).body ?? (root as Document).documentElement) : node.nodeType === 1 ? (root as Element) : null;
    if (start !== null) write(start, 0);
    else for (const child of Array.from((root as ParentNode).children)) write(child, 0);
  } catch (error) {
    lines.push(`<!-- outline stopped: ${error instanceof Error ? error.name : 'error'} -->`);
  }
  if (truncated) lines.push(`<!-- outline cut at ${maxElements} elements -->`);
  return `${lines.join('\n')}\n`;
}
