/**
 * The generic adapter: common chat markup on pages no site adapter knows, and "realign this":
 * a selection, the answer under the caret, or the last answer on the page.
 */
import { extractAnswerText } from './answer-text';
import { compile, exchangeFor, locate, questionTextOf, userBefore } from './core';
import { adapterForUrl } from './registry';
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
    const hit = located.answers.find((item) => item.turn.contains(inside) || item.answer.contains(inside));
    if (hit !== undefined) return exchangeFor(adapter, root, located, hit);
    if (range.collapsed) return null;
    const answer = extractAnswerText(range.cloneContents(), { strip: compile(adapter, root).strip });
    const answerElement = elementOf(inside);
    if (answer === '' || answerElement === null) return null;
    const user = userBefore(located.users, range.startContainer);
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

/** The last answer on the page ("no selection: realign the last answer"), or null. Never throws. */
export function lastExchange(root: ParentNode, url: URL): Exchange | null {
  try {
    const adapter = adapterFor(root, url);
    const located = locate(adapter, root);
    const last = located.answers[located.answers.length - 1];
    return last === undefined ? null : exchangeFor(adapter, root, located, last);
  } catch (error) {
    console.debug('[realign] last answer', error);
    return null;
  }
}
