/**
 * The generic adapter: common chat markup on pages no site adapter knows, and "realign this":
 * a selection, the answer under the caret, or the last answer on the page.
 */
import { extractAnswerText } from './answer-text';
import { compile, exchangeFor, locate, questionTextOf, userBefore, type Located } from './core';
import { adapterForUrl } from './registry';
import { locateByShape, shapeAnswerText, shapeExchange, type ShapeLocated } from './shape';
import type { Exchange, SiteAdapter } from './types';

/** Role markers that open-source chat UIs share (Open WebUI, LibreChat, chat-ui forks...). */
export const generic: SiteAdapter = {
  id: 'generic',
  name: 'Any page',
  matches: [],
  user: ['[data-message-author-role="user"]', '[data-message-role="user"]', '[data-role="user"]', '[data-author="user"]'],
  assistant: [
    '[data-message-author-role="assistant"]',
    '[data-message-role="assistant"]',
    '[data-role="assistant"]',
    '[data-author="assistant"]',
  ],
  answerText: ['.markdown', '.prose', '.answer-text'],
  strip: ['[class*="citation"]', '.sr-only'],
  streaming: {
    answer: ['[data-streaming="true"]', '[data-is-streaming="true"]', '[aria-busy="true"]'],
    attributes: ['data-streaming', 'data-is-streaming', 'aria-busy'],
  },
};

/** The site adapter for this page, else the generic one. */
export function adapterFor(root: ParentNode, url: URL): SiteAdapter {
  return adapterForUrl(url, root) ?? generic;
}

function elementOf(node: Node): Element | null {
  return node.nodeType === 1 ? (node as Element) : node.parentElement;
}

/**
 * What to realign for a selection: the whole exchange when the selection (or caret) lies inside
 * one answer the adapter knows; else the selected text as the answer, with the nearest preceding
 * user turn as the question where the page has known turns ('' otherwise). Null when there is
 * nothing to realign. Never throws.
 */
export function exchangeFromSelection(selection: Selection | null, root: ParentNode, url: URL): Exchange | null {
  try {
    if (selection === null || selection.rangeCount === 0) return null;
    const range = selection.getRangeAt(0);
    const adapter = adapterFor(root, url);
    const located = locate(adapter, root);
    const inside = range.commonAncestorContainer;
    const within = (found: Located) => found.answers.find((item) => item.turn.contains(inside) || item.answer.contains(inside));
    const hit = within(located);
    if (hit !== undefined) return exchangeFor(adapter, root, located, hit);
    // The adapter finds no answer here: the shape adapter may (a site that changed, a page no adapter knows).
    const byShape = located.answers.length === 0 ? locateByShape(root) : undefined;
    const shapeHit = byShape === undefined ? undefined : within(byShape);
    if (byShape !== undefined && shapeHit !== undefined) return shapeExchange(byShape, shapeHit);
    if (range.collapsed) return null;
    const answer = extractAnswerText(range.cloneContents(), { strip: compile(adapter, root).strip });
    const answerElement = elementOf(inside);
    if (answer === '' || answerElement === null) return null;
    const user = userBefore(located.users, range.startContainer);
    if (user === undefined && byShape !== undefined && byShape.answers.length > 0) {
      const shapeUser = userBefore(byShape.users, range.startContainer);
      const questionElement = shapeUser === undefined ? undefined : byShape.questions.get(shapeUser);
      if (shapeUser !== undefined && questionElement !== undefined) {
        return { site: adapter.id, question: shapeAnswerText(questionElement), answer, answerElement, streaming: false, questionElement: shapeUser };
      }
    }
    return {
      site: adapter.id,
      question: questionTextOf(adapter, root, user),
      answer,
      answerElement,
      streaming: false,
      ...(user !== undefined ? { questionElement: user } : {}),
    };
  } catch (error) {
    console.debug('[realign] selection', error);
    return null;
  }
}

/**
 * The last answer on the page ("no selection: realign the last answer"), by the site's adapter (or
 * the generic markers), else by the shape adapter; null when there is none. Never throws.
 */
export function lastExchange(root: ParentNode, url: URL): Exchange | null {
  try {
    const adapter = adapterFor(root, url);
    const located = locate(adapter, root);
    const last = located.answers[located.answers.length - 1];
    if (last !== undefined) return exchangeFor(adapter, root, located, last);
    const byShape: ShapeLocated = locateByShape(root);
    const lastByShape = byShape.answers[byShape.answers.length - 1];
    return lastByShape === undefined ? null : shapeExchange(byShape, lastByShape);
  } catch (error) {
    console.debug('[realign] last answer', error);
    return null;
  }
}
