/** One question/answer pair found on a chat page (the seam described in DESIGN.md). */
export interface Exchange {
  /** Adapter id, e.g. 'chatgpt'; 'generic' for a selection on an unknown page; 'shape' when found by structure alone. */
  site: string;
  /** Text of the user turn this answer replies to ('' when unknown). */
  question: string;
  /** The answer as a person reads it: blocks separated by line breaks, code kept verbatim. */
  answer: string;
  /** The site's element holding the answer; never modified by Realign. */
  answerElement: Element;
  /** True while the site is still streaming this answer. */
  streaming: boolean;
  /** The user turn the question was read from, when one was found. */
  questionElement?: Element;
}

/**
 * How an adapter says "still streaming". Any one signal that fires means streaming.
 * Every list is tried as a whole (they are alternatives, not fallbacks).
 */
export interface StreamingSignal {
  /** The answer element or an ancestor (closest) or a descendant of its turn matches: that answer streams. */
  answer?: string[];
  /** Present anywhere on the page (e.g. a stop button): the LAST answer on the page streams. */
  page?: string[];
  /** Attributes whose changes the watcher must observe to see the signal flip. */
  attributes?: string[];
}

/**
 * A chat site described as data. Selector lists are ordered fallbacks: the first selector that
 * matches anything wins; a later one winning is reported as `fallback` health.
 */
export interface SiteAdapter {
  /** Stable id, sent with corrections ('chatgpt', 'claude', ...). */
  id: string;
  /** Name a person reads in the popup. */
  name: string;
  /** WebExtension match patterns (ports are ignored, as in the manifest). */
  matches: string[];
  /** Extra path filter where a match pattern cannot say it (e.g. huggingface.co/chat only). */
  pathPrefix?: string;
  /** The adapter claims the page only when one of these is present (e.g. the local demo page). */
  requires?: string[];
  /** User turn elements (the question). */
  user: string[];
  /** Assistant turn elements (one per answer). */
  assistant: string[];
  /** Inside an assistant turn: where the answer text lives (first match); else the turn itself. */
  answerText?: string[];
  /** Inside a user turn: where the question text lives; else the turn itself. */
  userText?: string[];
  /** Candidates inside one of these are not turns (e.g. a reasoning block rendered like an answer). */
  notInside?: string[];
  /** Chrome to drop from the text: buttons, citations, "Thought for 5 s", labels. */
  strip?: string[];
  streaming?: StreamingSignal;
}

/**
 * How well a site's adapter fits the page, as the watcher sees it:
 * - `ok`: the adapter's primary selectors find the conversation (and the shape cross-check agrees);
 * - `fallback`: only a fallback selector of the adapter matched;
 * - `no-conversation`: neither the adapter nor the shape adapter finds a conversation;
 * - `shape`: the adapter finds no answer but the shape adapter (structure alone) finds the
 *   conversation, so the watcher runs on the shape adapter (also on a page no adapter knows);
 * - `stale`: the adapter finds answers, but the shape adapter finds clearly more that it misses:
 *   the adapter looks out of date, and the watcher runs on the shape adapter until it agrees again.
 */
export type AdapterStatus = 'ok' | 'fallback' | 'no-conversation' | 'shape' | 'stale';

/** What the watcher tells the popup about how well the adapter fits the page. */
export interface AdapterHealth {
  /** The site's adapter id ('generic' on a page no adapter knows). */
  site: string;
  status: AdapterStatus;
}
