/**
 * The shape adapter: question/answer pairs on a chat page found from its structure alone, with
 * no site's selectors. It survives a site's redesign and works on chat sites no adapter knows.
 *
 * How it reads a page (plain DOM, no layout, so it gives the same result in happy-dom):
 * 1. Message bodies: rendered Markdown is a box of paragraphs, lists, code blocks, quotes,
 *    headings and tables. The parent of such blocks is a body; bodies nested in a body are part
 *    of it (a code block's wrapper, a callout), unless they sit deep inside a box that holds
 *    little of its own (a page with a stray paragraph around the conversation).
 *    Never bodies: the composer (text areas, contenteditable), page landmarks (nav, aside, page
 *    header/footer, dialogs, menus), hidden or collapsed boxes and reasoning panels.
 * 2. Turns: the conversation is the box whose children hold bodies in the most repeated, most
 *    alike containers (a list of turns). When every child holds a question AND an answer (pair
 *    layouts), each pair is split into its parts. A child with text but no Markdown (a plain
 *    question bubble) is a turn too when it looks like the other turns.
 * 3. Roles: words in tag names, class names and data/role attributes (user, human, query,
 *    prompt... vs assistant, bot, model, response...) and bubbles laid out on the right, kept only
 *    where they tell turns apart; rich Markdown and reasoning panels say "answer"; and turns
 *    alternate, starting with the person. A two-state best path (Viterbi) weighs all of it.
 * 4. Text: the same extraction as the site adapters (answer-text.ts), leaving out, besides what
 *    it always leaves out, reasoning panels, citation chips, closed <details>, collapsed boxes,
 *    clickable chrome and the chrome around a code block (language label, copy button).
 *    A question without Markdown is read from the element in its turn that holds the most text.
 * 5. Streaming: aria-busy, data-(is-)streaming="true" or a "streaming" class on one of the last
 *    answers; a visible stop control (the composer's "Stop generating") means the last one streams.
 */
import { extractAnswerText, isHiddenElement, type ExtractOptions } from './answer-text';
import type { Located, LocatedAnswer } from './core';
import type { Exchange } from './types';

/** Site id carried by exchanges the shape adapter found. */
export const SHAPE_SITE = 'shape';

/** A page read by shape: user turns (in page order), answers, and where each question's text lives. */
export interface ShapeLocated extends Located {
  /** For each user turn in `users`, the element its question is read from. */
  questions: Map<Element, Element>;
}

const BLOCKS = 'p, pre, ul, ol, h1, h2, h3, h4, h5, h6, blockquote, table';
const HEADINGS = new Set(['h1', 'h2', 'h3', 'h4', 'h5', 'h6']);
/** Blocks a site often wraps on their own (code, tables): their wrapper is never a body of its own. */
const WRAPPED_BLOCKS = new Set(['pre', 'table']);
/** Blocks that make an answer look like an answer. */
const RICH_BLOCKS = new Set(['pre', 'ul', 'ol', 'table', 'h2', 'h3', 'h4']);
const NEVER_CONTENT = new Set([
  'nav', 'aside', 'dialog', 'button', 'textarea', 'select', 'input', 'template', 'svg', 'script', 'style', 'noscript', 'menu',
]);
const CHROME_ROLES = new Set([
  'navigation', 'banner', 'complementary', 'contentinfo', 'dialog', 'alertdialog', 'menu', 'menubar', 'tooltip', 'search',
]);
const REASONING_WORDS = new Set(['think', 'thinking', 'thought', 'thoughts', 'reasoning']);
const CITATION_WORDS = new Set(['citation', 'citations', 'cite', 'cited', 'footnote', 'footnotes', 'reference', 'references', 'sources']);
const SOURCE_CHIP_WORDS = new Set(['chip', 'pill', 'badge', 'card', 'carousel', 'footnote', 'link']);
/** Cheap first test before splitting class names into words. */
const CHROME_HINT = /think|thought|reason|cit(?:e|ation)|footnote|reference|source|cursor|invisible|hidden/i;
const COLLAPSED_STYLE = /(?:^|;)\s*(?:(?:max-)?height\s*:\s*0(?:px)?\s*(?:!important\s*)?(?:;|$)|grid-template-rows\s*:\s*0fr)/i;
const TIME_TEXT = /^\s*\d{1,2}:\d{2}(?::\d{2})?\s*(?:[ap]\.?m\.?)?\s*$/i;
const STREAMING_MARKERS = '[aria-busy="true"], [data-is-streaming="true"], [data-streaming="true"], [class*="streaming"], [class*="Streaming"]';
const STOP_CONTROLS =
  'button[aria-label*="stop" i], button[title*="stop" i], button[data-testid*="stop" i], button[class*="stop" i], button[id*="stop" i], [role="button"][aria-label*="stop" i]';
/**
 * Where a streaming signal shows on a page read by shape, for the watcher's frequent quick check:
 * the attribute markers and stop controls (class-name markers are left to `locateByShape`, as a
 * class substring test over the whole page costs too much to run every 250 ms).
 */
export const SHAPE_SIGNALS = `[aria-busy="true"], [data-is-streaming="true"], [data-streaming="true"], ${STOP_CONTROLS}`;

/** Role words: positive says "answer", negative says "question". */
const ROLE_WORDS: Record<string, number> = {
  assistant: 3, bot: 3, ai: 3, model: 3, response: 3, answer: 3, reply: 3, agent: 3, gpt: 3, llm: 3, chatbot: 3,
  incoming: 2, received: 2, machine: 2, char: 1, markdown: 1, prose: 1, streaming: 2,
  think: 3, thinking: 3, thought: 3, thoughts: 3, reasoning: 3, regenerate: 1, retry: 1, refresh: 1, rewrite: 1,
  left: 1, start: 1,
  user: -3, human: -3, me: -3, you: -3, self: -2, mine: -2, query: -3, prompt: -3, question: -3, sender: -2,
  outgoing: -2, sent: -1, right: -1, end: -1, reverse: -1,
};
/** Inline styles that put a bubble on the right. */
const RIGHT_ALIGNED = /flex-direction\s*:\s*row-reverse|align-items\s*:\s*flex-end|margin-left\s*:\s*auto|justify-content\s*:\s*flex-end/i;
/** A question turn is usually a plain text bubble (white-space kept as typed). */
const PLAIN_TEXT_WORDS = new Set(['pre-wrap', 'pre-line', 'break-spaces']);

/** Turns switching role cost less than two in a row of the same role; conversations start with the person. */
const SAME_ROLE_PENALTY = 1.5;
const START_WITH_PERSON = 0.75;
/** A nested body this deep inside another body is a separate message, not part of it. */
const NESTED_BODY_DEPTH = 2;
/** Elements read for role words per turn (outside its message bodies). */
const MAX_HINT_ELEMENTS = 300;
/** Answers (from the last) looked at for a streaming marker. */
const RECENT_ANSWERS = 2;
/** Text next to a code block that is still its chrome (a language label, "Copy"). */
const MAX_CODE_CHROME_CHARS = 40;

/** Split class strings, remembered: a page repeats the same few class names on every turn. */
const wordCache = new Map<string, string[]>();
const WORD_CACHE_SIZE = 4000;

/** Words of a class name, tag or attribute value: split at punctuation and case changes. */
export function wordsOf(value: string): string[] {
  let words = wordCache.get(value);
  if (words === undefined) {
    words = value
      .replace(/([a-z0-9])([A-Z])/g, '$1 $2')
      .toLowerCase()
      .split(/[^a-z0-9]+/)
      .filter((word) => word.length > 0);
    if (wordCache.size >= WORD_CACHE_SIZE) wordCache.clear();
    wordCache.set(value, words);
  }
  return words;
}

function classWords(el: Element): string[] {
  return wordsOf(`${el.localName} ${el.getAttribute('class') ?? ''} ${el.getAttribute('data-testid') ?? ''}`);
}

function hasWord(words: string[], set: Set<string>): boolean {
  for (const word of words) if (set.has(word)) return true;
  return false;
}

function isReasoning(words: string[]): boolean {
  return hasWord(words, REASONING_WORDS);
}

function isCitation(words: string[]): boolean {
  if (hasWord(words, CITATION_WORDS)) return true;
  return words.includes('source') && hasWord(words, SOURCE_CHIP_WORDS);
}

/** Tailwind-style classes that hide a box from a reader (unless a breakpoint shows it again). */
function hiddenByClass(el: Element): boolean {
  const list = el.classList;
  if (list === undefined || list.length === 0) return false;
  if (list.contains('invisible')) return true;
  if (!list.contains('hidden')) return false;
  for (const name of Array.from(list)) if (/^[a-z0-9-]+:(?:block|flex|grid|inline|inline-block|inline-flex|table|contents)$/.test(name)) return false;
  return true;
}

const CITATION_MARK = /^\s*[[(]?\d{1,3}[\])]?\s*$/;

/** A link (or superscript link) that is a citation marker by its shape: "[1]", "2", or its own host name. */
function isCitationLink(el: Element): boolean {
  const tag = el.localName;
  if (tag !== 'a' && tag !== 'sup') return false;
  const text = el.textContent ?? '';
  if (tag === 'sup') return el.querySelector('a') !== null && CITATION_MARK.test(text);
  if (CITATION_MARK.test(text)) return true;
  const href = el.getAttribute('href') ?? '';
  const host = /^https?:\/\/(?:www\.)?([^/?#:]+)/i.exec(href)?.[1];
  return host !== undefined && text.trim().replace(/^www\./i, '').toLowerCase() === host.toLowerCase();
}

/** Chrome inside a message, by structure and common vocabulary: left out of texts and never a body. */
function isMessageChrome(el: Element): boolean {
  if (el.localName === 'details' && !el.hasAttribute('open')) return true;
  const style = el.getAttribute('style');
  if (style !== null && COLLAPSED_STYLE.test(style)) return true;
  const cls = el.getAttribute('class') ?? '';
  const probe = `${el.localName} ${cls} ${el.getAttribute('data-testid') ?? ''}`;
  if (!CHROME_HINT.test(probe)) return false;
  if (hiddenByClass(el)) return true;
  const words = classWords(el);
  if (isReasoning(words) || isCitation(words)) return true;
  // A clickable box that is not a link (a collapsible's header such as "Thought for 5 seconds").
  return words.includes('cursor') && words.includes('pointer') && el.localName !== 'a';
}

/** Page chrome: never part of a conversation. */
function isPageChrome(el: Element): boolean {
  const tag = el.localName;
  if (NEVER_CONTENT.has(tag)) return true;
  if ((tag === 'header' || tag === 'footer') && el.parentElement?.closest('article, section, main') == null) return true;
  const role = el.getAttribute('role');
  if (role !== null && CHROME_ROLES.has(role)) return true;
  const editable = el.getAttribute('contenteditable');
  if (editable !== null && editable !== 'false') return true;
  if (el.getAttribute('aria-modal') === 'true') return true;
  return false;
}

/** Per-call memo of "this element or an ancestor is not conversation content". */
class Zones {
  private readonly memo = new Map<Element, boolean>();

  excluded(el: Element | null): boolean {
    if (el === null) return false;
    const known = this.memo.get(el);
    if (known !== undefined) return known;
    const result = isHiddenElement(el) || isPageChrome(el) || isMessageChrome(el) || this.excluded(el.parentElement);
    this.memo.set(el, result);
    return result;
  }
}

function docOrder(a: Node, b: Node): number {
  if (a === b) return 0;
  return a.compareDocumentPosition(b) & 4 ? -1 : 1; // DOCUMENT_POSITION_FOLLOWING: a first
}

function depthBelow(el: Element, ancestor: Element): number {
  let depth = 0;
  for (let n: Element | null = el; n !== null && n !== ancestor; n = n.parentElement) depth++;
  return depth;
}

/** Lowest common ancestor of elements (all inside `within`). */
function commonAncestor(els: Element[], within: Element): Element {
  let lca: Element = els[0];
  for (const el of els) {
    while (lca !== within && !lca.contains(el)) lca = lca.parentElement ?? within;
  }
  return lca;
}

/** Step 1: the message bodies (outermost rendered-Markdown boxes), in page order. */
function findBodies(root: ParentNode, zones: Zones): Element[] {
  const own = new Map<Element, { blocks: number; wrappedOnly: boolean; headingsOnly: boolean }>();
  for (const block of Array.from(root.querySelectorAll(BLOCKS))) {
    const parent = block.parentElement;
    if (parent === null || zones.excluded(block)) continue;
    let rec = own.get(parent);
    if (rec === undefined) {
      rec = { blocks: 0, wrappedOnly: true, headingsOnly: true };
      own.set(parent, rec);
    }
    rec.blocks++;
    if (!WRAPPED_BLOCKS.has(block.localName)) rec.wrappedOnly = false;
    if (!HEADINGS.has(block.localName)) rec.headingsOnly = false;
  }
  // A box whose only blocks are headings, beside text of its own, is a labelled box ("You said:"
  // above a plain question), not Markdown: its text is read as a plain turn instead.
  for (const [box, rec] of own) {
    if (!rec.headingsOnly) continue;
    const labelled = Array.from(box.children).some((kid) => !HEADINGS.has(kid.localName) && !kid.matches(BLOCKS) && hasVisibleText(kid, zones));
    if (labelled) rec.wrappedOnly = true;
  }
  if (own.size === 0) return [];
  // Nearest candidate ancestor of each candidate (memoised walk up).
  const nearest = new Map<Element, Element | null>();
  const nearestCandidate = (el: Element): Element | null => {
    const parent = el.parentElement;
    if (parent === null) return null;
    if (own.has(parent)) return parent;
    const known = nearest.get(parent);
    if (known !== undefined) return known;
    const found = nearestCandidate(parent);
    nearest.set(parent, found);
    return found;
  };
  const nested = new Map<Element, Element[]>();
  const tops: Element[] = [];
  for (const candidate of own.keys()) {
    const outer = nearestCandidate(candidate);
    if (outer === null) tops.push(candidate);
    else {
      const list = nested.get(outer);
      if (list === undefined) nested.set(outer, [candidate]);
      else list.push(candidate);
    }
  }
  const bodies: Element[] = [];
  const resolve = (candidate: Element): void => {
    const inner = (nested.get(candidate) ?? []).filter((el) => !own.get(el)!.wrappedOnly);
    const deep = inner.filter((el) => depthBelow(el, candidate) > NESTED_BODY_DEPTH);
    const rec = own.get(candidate)!;
    // A box holding separate messages deep inside and little of its own is a container, not a body.
    if (deep.length > 0 && (deep.length >= 2 || rec.blocks <= 2)) {
      for (const el of deep) resolve(el);
    } else if (rec.wrappedOnly) {
      // Not a body itself (a code wrapper, a labelled box): the bodies inside it still count.
      for (const el of inner) resolve(el);
    } else {
      bodies.push(candidate);
    }
  };
  for (const top of tops) resolve(top);
  return bodies.sort(docOrder);
}

function attributeNames(el: Element): string {
  return el.getAttributeNames().filter((n) => n !== 'style' && n !== 'id').sort().join(' ');
}

/** Whether two sibling containers look like turns of the same list (same tag, and the same attributes or a shared class). */
function alike(a: Element, b: Element): boolean {
  if (a.localName !== b.localName) return false;
  if (attributeNames(a) === attributeNames(b)) return true;
  const other = b.classList;
  for (const name of Array.from(a.classList)) if (other.contains(name)) return true;
  return false;
}

/** The siblings among `els` that look like at least one other (as `alike`, in one pass). */
function lookAlikes(els: Element[]): Set<Element> {
  const counts = new Map<string, number>();
  const keys = els.map((el) => {
    const own = [`${el.localName}|${attributeNames(el)}`, ...Array.from(new Set(Array.from(el.classList)), (name) => `${el.localName}.${name}`)];
    for (const key of own) counts.set(key, (counts.get(key) ?? 0) + 1);
    return own;
  });
  const result = new Set<Element>();
  els.forEach((el, i) => {
    if (keys[i].some((key) => counts.get(key)! >= 2)) result.add(el);
  });
  return result;
}

/** Whether an element shows any text a reader sees (outside chrome). */
function hasVisibleText(el: Element, zones: Zones): boolean {
  const doc = el.ownerDocument;
  const walker = doc.createTreeWalker(el, 4 /* NodeFilter.SHOW_TEXT */);
  for (let node = walker.nextNode(); node !== null; node = walker.nextNode()) {
    const data = (node as Text).data;
    if (data.trim() === '' || TIME_TEXT.test(data)) continue;
    const parent = node.parentElement;
    if (parent !== null && parent !== el && zones.excluded(parent)) continue;
    if (parent !== null && textSkipped(parent, el)) continue;
    return true;
  }
  return false;
}

/** Whether a text's element (up to `within`) is chrome answer-text leaves out (buttons, role=button). */
function textSkipped(el: Element, within: Element): boolean {
  for (let n: Element | null = el; n !== null && n !== within; n = n.parentElement) {
    if (n.localName === 'button' || n.getAttribute('role') === 'button' || isMessageChrome(n)) return true;
  }
  return false;
}

/**
 * The element of a turn holding the most directly written text: a plain question bubble. A
 * heading there is a label ("You said:"), read only when nothing else holds text.
 */
function textLeaf(turn: Element, zones: Zones): Element | null {
  let best: Element | null = null;
  let bestLength = 0;
  let label: Element | null = null;
  const visit = (el: Element): void => {
    let length = 0;
    for (let child = el.firstChild; child !== null; child = child.nextSibling) {
      if (child.nodeType === 3) {
        const data = (child as Text).data;
        if (!TIME_TEXT.test(data)) length += data.trim().length;
      } else if (child.nodeType === 1) {
        const inner = child as Element;
        if (inner.localName === 'br' || zones.excluded(inner) || inner.getAttribute('role') === 'button') continue;
        visit(inner);
      }
    }
    if (length === 0) return;
    if (HEADINGS.has(el.localName)) label ??= el;
    else if (length > bestLength) {
      best = el;
      bestLength = length;
    }
  };
  if (!zones.excluded(turn)) visit(turn);
  return best ?? label;
}

interface Turn {
  el: Element;
  bodies: Element[];
  /** Positive: looks like an answer; negative: like a question. */
  score: number;
  words: Set<string>;
  role?: 'user' | 'assistant';
}

/** Step 2: the conversation's turns, in page order. */
function findTurns(root: ParentNode, bodies: Element[], zones: Zones): Turn[] {
  if (bodies.length === 0) return [];
  const rootEl = (root as Node).nodeType === 9 ? (root as Document).documentElement : (root as Element);
  // For each ancestor of a body: its children that hold bodies.
  const branches = new Map<Element, Set<Element>>();
  for (const body of bodies) {
    let child: Element = body;
    for (let parent = body.parentElement; parent !== null; child = parent, parent = parent.parentElement) {
      let set = branches.get(parent);
      if (set === undefined) branches.set(parent, (set = new Set()));
      else if (set.has(child)) break;
      set.add(child);
      if (parent === rootEl) break;
    }
  }
  let list: Element | null = null;
  let bestScore = 0;
  let bestDepth = Infinity;
  for (const [el, children] of branches) {
    if (children.size < 2) continue;
    const score = children.size + lookAlikes([...children]).size;
    const depth = depthBelow(el, rootEl);
    if (score > bestScore || (score === bestScore && depth < bestDepth)) {
      list = el;
      bestScore = score;
      bestDepth = depth;
    }
  }
  if (list === null) list = listAroundLoneBody(bodies[0], zones);
  if (list === null) return [];

  // Each body under the list child that holds it.
  const heldBy = new Map<Element, Element[]>();
  for (const body of bodies) {
    let child: Element | null = body;
    while (child !== null && child.parentElement !== list) child = child.parentElement;
    if (child === null) continue;
    const held = heldBy.get(child);
    if (held === undefined) heldBy.set(child, [body]);
    else held.push(body);
  }
  const children = Array.from(list.children).filter((child) => !zones.excluded(child));
  const holding = children.map((child) => ({ child, held: heldBy.get(child) ?? [] }));
  const similar = lookAlikes(children);
  const withBodies = holding.filter((h) => h.held.length > 0);
  const plainTurns = holding.filter((h) => h.held.length === 0 && hasVisibleText(h.child, zones)).length;
  // Pair layouts: every child holds a question and its answer (both Markdown, or a plain question
  // before a Markdown answer, and no plain turn of its own beside them): split each into its parts.
  const pairs =
    withBodies.length > 0 &&
    (withBodies.filter((h) => h.held.length >= 2).length * 2 >= withBodies.length ||
      (withBodies.length >= 2 &&
        plainTurns === 0 &&
        !roleWordsDiffer(withBodies.map((h) => h.child)) &&
        withBodies.every((h) => questionBeforeBody(h.child, h.held, zones))));
  const turns: Turn[] = [];
  const add = (el: Element, held: Element[]): void => {
    turns.push({ el, bodies: held, score: 0, words: new Set() });
  };
  for (const { child, held } of holding) {
    if (pairs && held.length >= 1) {
      for (const part of Array.from(pairBox(child, held, zones).children)) {
        if (zones.excluded(part)) continue;
        const partBodies = held.filter((body) => part === body || part.contains(body));
        if (partBodies.length > 0 || hasVisibleText(part, zones)) add(part, partBodies);
      }
    } else if (held.length > 0) {
      add(child, held);
    } else if (hasVisibleText(child, zones)) {
      // A turn with text but no Markdown (a plain question) counts when it looks like the other turns.
      if (pairs || similar.has(child)) add(child, []);
    }
  }
  return turns;
}

/** Whether role words set some of these boxes apart from others (then they are turns, not pairs). */
function roleWordsDiffer(boxes: Element[]): boolean {
  const sets = boxes.map((el) => {
    const turn: Turn = { el, bodies: [], score: 0, words: new Set() };
    collectWords(turn, 3);
    return turn.words;
  });
  const all = new Set(sets.flatMap((set) => [...set]));
  for (const word of all) {
    if ((ROLE_WORDS[word] ?? 0) === 0) continue;
    if (sets.some((set) => !set.has(word))) return true;
  }
  return false;
}

/** The box a pair's parts sit in: down through wrappers that hold all of its text alone. */
function pairBox(box: Element, held: Element[], zones: Zones): Element {
  for (;;) {
    const kids = Array.from(box.children).filter((kid) => !zones.excluded(kid));
    const full = kids.filter((kid) => held.some((body) => kid === body || kid.contains(body)));
    if (full.length === 1 && full[0] !== held[0] && kids.every((kid) => kid === full[0] || !hasVisibleText(kid, zones))) box = full[0];
    else return box;
  }
}

/** Whether a box holding one answer body also holds, before it, a part with a plain question. */
function questionBeforeBody(child: Element, held: Element[], zones: Zones): boolean {
  if (held.length !== 1) return false;
  const parts = Array.from(pairBox(child, held, zones).children).filter((part) => !zones.excluded(part) && hasVisibleText(part, zones));
  const last = parts[parts.length - 1];
  if (parts.length < 2 || last === undefined || !(last === held[0] || last.contains(held[0]))) return false;
  return parts.slice(0, -1).some((part) => {
    const leaf = textLeaf(part, zones);
    return leaf !== null && !HEADINGS.has(leaf.localName);
  });
}

/** With one body on the page, the list is where its turn has a look-alike sibling with text. */
function listAroundLoneBody(body: Element, zones: Zones): Element | null {
  for (let turn: Element = body; turn.parentElement !== null; turn = turn.parentElement) {
    const parent = turn.parentElement;
    for (const sibling of Array.from(parent.children)) {
      if (sibling !== turn && !zones.excluded(sibling) && alike(turn, sibling) && hasVisibleText(sibling, zones)) return parent;
    }
  }
  return null;
}

/** Role words of a turn: from its own markup (down to `maxDepth` levels), not from inside its message bodies. */
function collectWords(turn: Turn, maxDepth = Infinity): void {
  const stack: Array<[Element, number]> = [[turn.el, 0]];
  let seen = 0;
  while (stack.length > 0 && seen < MAX_HINT_ELEMENTS) {
    const [el, depth] = stack.pop()!;
    seen++;
    for (const word of classWords(el)) turn.words.add(word);
    for (const name of el.getAttributeNames()) {
      if (name !== 'role' && (!name.startsWith('data-') || name === 'data-testid')) continue;
      if (name !== 'role') for (const word of wordsOf(name.slice(5))) turn.words.add(word);
      // Identifier-like values only: a value with spaces is content (some UIs keep the raw message there).
      const value = el.getAttribute(name) ?? '';
      if (value.length <= 40 && !/\s/.test(value)) for (const word of wordsOf(value)) turn.words.add(word);
    }
    // A bubble laid out on the right (inline flex styles) is the person's.
    const style = el.getAttribute('style');
    if (style !== null && RIGHT_ALIGNED.test(style)) turn.words.add('end');
    const cls = el.getAttribute('class') ?? '';
    for (const token of cls.split(/\s+/)) {
      const bare = token.replace(/^.*:/, '').replace(/^whitespace-/, '');
      if (PLAIN_TEXT_WORDS.has(bare)) turn.words.add('plain-text');
    }
    if (turn.bodies.includes(el) || depth >= maxDepth) continue;
    for (let i = el.children.length - 1; i >= 0; i--) stack.push([el.children[i], depth + 1]);
  }
  for (const word of [...turn.words]) if (/\d/.test(word)) turn.words.delete(word);
}

/** Step 3: roles by words that tell turns apart, rich Markdown, reasoning panels, and alternation. */
function assignRoles(turns: Turn[]): void {
  for (const turn of turns) collectWords(turn);
  const counts = new Map<string, number>();
  for (const turn of turns) for (const word of turn.words) counts.set(word, (counts.get(word) ?? 0) + 1);
  const n = turns.length;
  const telling = (word: string): boolean => {
    const count = counts.get(word) ?? 0;
    return n < 2 || (n < 5 ? count < n : count < 0.8 * n);
  };
  for (const turn of turns) {
    let score = 0;
    for (const word of turn.words) {
      if (!telling(word)) continue;
      if (word === 'plain-text') score -= 1;
      else score += ROLE_WORDS[word] ?? 0;
    }
    // Rich Markdown says "answer", and so does a closed reasoning panel (<details>) in the message.
    const rich = new Set<string>();
    for (const body of turn.bodies) {
      for (const child of Array.from(body.querySelectorAll('pre, ul, ol, table, h2, h3, h4, details'))) rich.add(child.localName);
    }
    for (const tag of rich) if (RICH_BLOCKS.has(tag)) score += tag === 'pre' ? 2 : 1;
    if (rich.has('details')) score += 3;
    turn.score = score;
  }
  // Two-state best path: answer (A) or question (U) per turn.
  const a: number[] = [];
  const u: number[] = [];
  const fromA: boolean[][] = [];
  for (let i = 0; i < n; i++) {
    const s = turns[i].score;
    if (i === 0) {
      a.push(s);
      u.push(-s + START_WITH_PERSON);
      fromA.push([false, false]);
      continue;
    }
    const aa = a[i - 1] - SAME_ROLE_PENALTY;
    const ua = u[i - 1];
    const au = a[i - 1];
    const uu = u[i - 1] - SAME_ROLE_PENALTY;
    a.push(s + Math.max(aa, ua));
    u.push(-s + Math.max(au, uu));
    fromA.push([aa >= ua, au >= uu]);
  }
  let isA = a[n - 1] > u[n - 1];
  for (let i = n - 1; i >= 0; i--) {
    turns[i].role = isA ? 'assistant' : 'user';
    isA = isA ? fromA[i][0] : fromA[i][1];
  }
}

function isStreamingMarker(el: Element): boolean {
  if (el.getAttribute('aria-busy') === 'true' || el.getAttribute('data-is-streaming') === 'true' || el.getAttribute('data-streaming') === 'true') return true;
  return wordsOf(el.getAttribute('class') ?? '').includes('streaming');
}

/** Whether an answer turn carries a streaming marker (on it, inside it, or on the box holding it). */
function markedStreaming(turn: Element): boolean {
  if (isStreamingMarker(turn)) return true;
  for (const marker of Array.from(turn.querySelectorAll(STREAMING_MARKERS))) if (isStreamingMarker(marker)) return true;
  for (let n = turn.parentElement; n !== null; n = n.parentElement) {
    if (n.matches(STREAMING_MARKERS) && isStreamingMarker(n)) return true;
  }
  return false;
}

/** A visible stop control (a composer's "Stop generating"): the last answer is still streaming. */
function stopShown(root: ParentNode): boolean {
  for (const control of Array.from(root.querySelectorAll(STOP_CONTROLS))) {
    if (isHiddenElement(control) || hiddenByClass(control)) continue;
    let hiddenAbove = false;
    for (let n = control.parentElement; n !== null; n = n.parentElement) {
      if (isHiddenElement(n) || hiddenByClass(n)) {
        hiddenAbove = true;
        break;
      }
    }
    if (hiddenAbove) continue;
    const words = [
      ...wordsOf(control.getAttribute('aria-label') ?? ''),
      ...wordsOf(control.getAttribute('title') ?? ''),
      ...wordsOf(control.getAttribute('data-testid') ?? ''),
      ...wordsOf(control.getAttribute('class') ?? ''),
      ...wordsOf(control.getAttribute('id') ?? ''),
    ];
    if (words.some((word) => word === 'stop' || word === 'stoppable' || word === 'stopping')) return true;
  }
  return false;
}

/** Tag names from a body up to its turn: where in the turn's layout the body sits. */
function placeIn(body: Element, turn: Element): string {
  const tags: string[] = [];
  for (let n: Element | null = body; n !== null && n !== turn; n = n.parentElement) tags.push(n.localName);
  return tags.join('<');
}

/**
 * The message element of a turn: its bodies' common box, else its main text. With several bodies,
 * only those laid out like the last one count: an answer comes last, and a reasoning box before
 * it sits elsewhere in the turn's layout even when no class name says so.
 */
function answerElementOf(turn: Turn, zones: Zones): Element | null {
  if (turn.bodies.length === 1) return turn.bodies[0];
  if (turn.bodies.length > 1) {
    const last = placeIn(turn.bodies[turn.bodies.length - 1], turn.el);
    const alikeBodies = turn.bodies.filter((body) => placeIn(body, turn.el) === last);
    return alikeBodies.length === 1 ? alikeBodies[0] : commonAncestor(alikeBodies, turn.el);
  }
  return textLeaf(turn.el, zones);
}

/** Where the page's turns and answers are, by shape (no text read beyond what roles need). Never throws. */
export function locateByShape(root: ParentNode): ShapeLocated {
  const empty: ShapeLocated = { users: [], answers: [], status: 'no-conversation', questions: new Map() };
  try {
    const zones = new Zones();
    const bodies = findBodies(root, zones);
    const turns = findTurns(root, bodies, zones);
    if (turns.length === 0) return empty;
    assignRoles(turns);
    const located: ShapeLocated = { users: [], answers: [], status: 'no-conversation', questions: new Map() };
    for (const turn of turns) {
      if (turn.role === 'user') {
        const question = answerElementOf(turn, zones);
        if (question === null) continue;
        located.users.push(turn.el);
        located.questions.set(turn.el, question);
      } else {
        const answer = answerElementOf(turn, zones);
        if (answer === null) continue;
        located.answers.push({ turn: turn.el, answer, streaming: false });
      }
    }
    if (located.answers.length > 0) {
      located.status = 'ok';
      // Only the latest answers can still stream (an edit or a regeneration replaces what follows).
      for (const item of located.answers.slice(-RECENT_ANSWERS)) item.streaming = markedStreaming(item.turn);
      if (stopShown(root)) located.answers[located.answers.length - 1].streaming = true;
    }
    return located;
  } catch (error) {
    console.debug('[realign] shape', error);
    return empty;
  }
}

/** Code-block chrome: the boxes beside a <pre> inside its wrapper (language label, copy button). */
function codeChrome(answer: Element): Set<Element> {
  const chrome = new Set<Element>();
  for (const pre of Array.from(answer.querySelectorAll('pre'))) {
    let inner: Element = pre;
    for (let wrapper = pre.parentElement; wrapper !== null && wrapper !== answer; inner = wrapper, wrapper = wrapper.parentElement) {
      const others = Array.from(wrapper.children).filter((kid) => kid !== inner);
      if (others.some((kid) => kid.matches(BLOCKS) || kid.querySelector(BLOCKS) !== null)) break;
      const extra = others.reduce((sum, kid) => sum + (kid.textContent ?? '').trim().length, 0);
      if (extra > MAX_CODE_CHROME_CHARS) break;
      for (const kid of others) chrome.add(kid);
    }
  }
  return chrome;
}

function textOptions(el: Element): ExtractOptions {
  const chrome = codeChrome(el);
  return { skip: (node) => chrome.has(node) || hiddenByClass(node) || isMessageChrome(node) || isCitationLink(node) };
}

/** An answer's text by the shape adapter's rules (the site adapters' rules plus structural chrome). */
export function shapeAnswerText(answer: Element): string {
  return extractAnswerText(answer, textOptions(answer));
}

/** A located answer as an exchange (question from the nearest user turn before it). */
export function shapeExchange(located: ShapeLocated, item: LocatedAnswer): Exchange {
  let user: Element | undefined;
  for (const candidate of located.users) {
    if (candidate.compareDocumentPosition(item.turn) & 4 && !candidate.contains(item.turn)) user = candidate;
    else break;
  }
  const questionEl = user === undefined ? undefined : located.questions.get(user);
  return {
    site: SHAPE_SITE,
    question: questionEl === undefined ? '' : shapeAnswerText(questionEl),
    answer: shapeAnswerText(item.answer),
    answerElement: item.answer,
    streaming: item.streaming,
    ...(user !== undefined ? { questionElement: user } : {}),
  };
}

/**
 * Every question/answer pair on the page found from its structure alone (no site's selectors),
 * in page order, with `site: 'shape'`. [] when it sees no conversation. Never throws.
 */
export function findExchangesByShape(root: ParentNode): Exchange[] {
  try {
    const located = locateByShape(root);
    return located.answers.map((item) => shapeExchange(located, item));
  } catch (error) {
    console.debug('[realign] shape', error);
    return [];
  }
}
