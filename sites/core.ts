/** Turning a site adapter (data) into the page's turns and exchanges. Plain DOM, no layout. */
import { extractAnswerText } from './answer-text';
import type { Exchange, SiteAdapter } from './types';

export interface LocatedAnswer {
  /** The assistant turn element matched by `adapter.assistant`. */
  turn: Element;
  /** Where the answer text lives (`adapter.answerText` inside the turn, else the turn). */
  answer: Element;
  streaming: boolean;
}

export interface Located {
  users: Element[];
  answers: LocatedAnswer[];
  status: 'ok' | 'fallback' | 'no-conversation';
}

interface Compiled {
  user: string[];
  assistant: string[];
  answerText: string[];
  userText: string[];
  notInside: string | undefined;
  strip: string | undefined;
  streamingAnswer: string | undefined;
  streamingPage: string | undefined;
  requires: string | undefined;
}

const compiled = new WeakMap<SiteAdapter, Compiled>();

function docOf(root: ParentNode): Document | null {
  const node = root as unknown as Node;
  if (node.nodeType === 9) return node as Document;
  return node.ownerDocument;
}

/** Drops selectors this DOM engine cannot parse, so one exotic selector cannot break a site. */
function valid(doc: Document | null, list: string[] | undefined): string[] {
  if (list === undefined || doc === null) return list ?? [];
  const probe = doc.createDocumentFragment();
  return list.filter((sel) => {
    try {
      probe.querySelector(sel);
      return true;
    } catch {
      return false;
    }
  });
}

function joined(list: string[]): string | undefined {
  return list.length === 0 ? undefined : list.join(', ');
}

export function compile(adapter: SiteAdapter, root: ParentNode): Compiled {
  let c = compiled.get(adapter);
  if (c === undefined) {
    const doc = docOf(root);
    c = {
      user: valid(doc, adapter.user),
      assistant: valid(doc, adapter.assistant),
      answerText: valid(doc, adapter.answerText),
      userText: valid(doc, adapter.userText),
      notInside: joined(valid(doc, adapter.notInside)),
      strip: joined(valid(doc, adapter.strip)),
      streamingAnswer: joined(valid(doc, adapter.streaming?.answer)),
      streamingPage: joined(valid(doc, adapter.streaming?.page)),
      requires: joined(valid(doc, adapter.requires)),
    };
    compiled.set(adapter, c);
  }
  return c;
}

/** Whether the page carries the adapter's required markers (adapters without any always pass). */
export function hasRequiredMarkers(adapter: SiteAdapter, root: ParentNode): boolean {
  if (adapter.requires === undefined || adapter.requires.length === 0) return true;
  const sel = compile(adapter, root).requires;
  return sel !== undefined && root.querySelector(sel) !== null;
}

/** First selector (in fallback order) that matches; outermost elements only, in document order. */
function firstMatching(root: ParentNode, selectors: string[], notInside: string | undefined): { els: Element[]; index: number } {
  for (let i = 0; i < selectors.length; i++) {
    const found = root.querySelectorAll(selectors[i]);
    if (found.length === 0) continue;
    const els: Element[] = [];
    let last: Element | null = null;
    for (const el of Array.from(found)) {
      if (last !== null && last.contains(el)) continue;
      if (notInside !== undefined && el.parentElement?.closest(notInside)) continue;
      els.push(el);
      last = el;
    }
    if (els.length > 0) return { els, index: i };
  }
  return { els: [], index: -1 };
}

function firstInside(el: Element, selectors: string[]): Element | null {
  for (const sel of selectors) {
    const found = el.querySelector(sel);
    if (found !== null) return found;
  }
  return null;
}

/** The page's user and assistant turns for this adapter, without reading any text (cheap). */
export function locate(adapter: SiteAdapter, root: ParentNode): Located {
  const c = compile(adapter, root);
  const users = firstMatching(root, c.user, c.notInside);
  const turns = firstMatching(root, c.assistant, c.notInside);
  const answers: LocatedAnswer[] = turns.els.map((turn) => {
    const answer = firstInside(turn, c.answerText) ?? turn;
    let streaming = false;
    if (c.streamingAnswer !== undefined) {
      streaming = answer.closest(c.streamingAnswer) !== null || turn.querySelector(c.streamingAnswer) !== null;
    }
    return { turn, answer, streaming };
  });
  if (answers.length > 0 && c.streamingPage !== undefined && root.querySelector(c.streamingPage) !== null) {
    answers[answers.length - 1].streaming = true;
  }
  let status: Located['status'];
  if (answers.length === 0 && users.els.length === 0) status = 'no-conversation';
  else if (turns.index > 0 || users.index > 0 || answers.length === 0) status = 'fallback';
  else status = 'ok';
  return { users: users.els, answers, status };
}

/** `a` comes before `b` in document order. */
export function precedes(a: Node, b: Node): boolean {
  return (a.compareDocumentPosition(b) & 4) !== 0; // Node.DOCUMENT_POSITION_FOLLOWING
}

/** The nearest user turn before `node` (users in document order), by binary search. */
export function userBefore(users: Element[], node: Node): Element | undefined {
  let lo = 0;
  let hi = users.length - 1;
  let best: Element | undefined;
  while (lo <= hi) {
    const mid = (lo + hi) >> 1;
    const user = users[mid];
    if (user !== node && precedes(user, node) && !user.contains(node)) {
      best = user;
      lo = mid + 1;
    } else {
      hi = mid - 1;
    }
  }
  return best;
}

export function answerTextOf(adapter: SiteAdapter, root: ParentNode, answer: Element): string {
  return extractAnswerText(answer, { strip: compile(adapter, root).strip });
}

export function questionTextOf(adapter: SiteAdapter, root: ParentNode, user: Element | undefined): string {
  if (user === undefined) return '';
  const c = compile(adapter, root);
  const textEl = firstInside(user, c.userText) ?? user;
  return extractAnswerText(textEl, { strip: c.strip });
}

export function exchangeFor(adapter: SiteAdapter, root: ParentNode, located: Located, item: LocatedAnswer): Exchange {
  const user = userBefore(located.users, item.turn);
  return {
    site: adapter.id,
    question: questionTextOf(adapter, root, user),
    answer: answerTextOf(adapter, root, item.answer),
    answerElement: item.answer,
    streaming: item.streaming,
    ...(user !== undefined ? { questionElement: user } : {}),
  };
}

export function exchangesWith(adapter: SiteAdapter, root: ParentNode): Exchange[] {
  const located = locate(adapter, root);
  return located.answers.map((item) => exchangeFor(adapter, root, located, item));
}
