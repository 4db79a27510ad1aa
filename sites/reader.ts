/**
 * A page reader: what the watcher asks of "an adapter", whether it is a site's adapter (data, see
 * core.ts), the generic role markers, or the shape adapter (structure alone, see shape.ts).
 */
import { answerTextOf, compile, exchangeFor, locate, type Located, type LocatedAnswer } from './core';
import { locateByShape, shapeAnswerText, shapeExchange, SHAPE_SITE, SHAPE_SIGNALS, type ShapeLocated } from './shape';
import type { Exchange, SiteAdapter } from './types';

export interface PageReader {
  /** The adapter id carried by exchanges ('chatgpt', 'generic', 'shape'). */
  id: string;
  kind: 'site' | 'shape';
  /** The site's adapter, for site readers. */
  adapter?: SiteAdapter;
  /** Turns and answers, without reading any text (cheap). */
  locate(root: ParentNode): Located;
  answerText(root: ParentNode, answer: Element): string;
  exchange(root: ParentNode, located: Located, item: LocatedAnswer): Exchange;
  /** Elements whose presence says something streams (for the watcher's quick check), if known. */
  signalSelector(root: ParentNode): string | undefined;
}

const readers = new WeakMap<SiteAdapter, PageReader>();

/** The reader for a site's adapter (or the generic role markers). */
export function siteReader(adapter: SiteAdapter): PageReader {
  let reader = readers.get(adapter);
  if (reader === undefined) {
    reader = {
      id: adapter.id,
      kind: 'site',
      adapter,
      locate: (root) => locate(adapter, root),
      answerText: (root, answer) => answerTextOf(adapter, root, answer),
      exchange: (root, located, item) => exchangeFor(adapter, root, located, item),
      signalSelector: (root) => {
        const c = compile(adapter, root);
        const parts = [c.streamingAnswer, c.streamingPage].filter((sel): sel is string => sel !== undefined);
        return parts.length > 0 ? parts.join(', ') : undefined;
      },
    };
    readers.set(adapter, reader);
  }
  return reader;
}

/** The shape adapter as a reader. */
export const shapeReader: PageReader = {
  id: SHAPE_SITE,
  kind: 'shape',
  locate: (root) => locateByShape(root),
  answerText: (_root, answer) => shapeAnswerText(answer),
  exchange: (_root, located, item) => shapeExchange(located as ShapeLocated, item),
  signalSelector: () => SHAPE_SIGNALS,
};

function overlaps(a: LocatedAnswer, b: LocatedAnswer): boolean {
  return a.turn.contains(b.answer) || b.turn.contains(a.answer) || a.answer.contains(b.answer) || b.answer.contains(a.answer);
}

/**
 * The cross-check: a site's adapter looks stale when the shape adapter sees at least two answers
 * it misses, and misses outnumber what the adapter still finds.
 */
export function looksStale(bySite: Located, byShape: Located): boolean {
  let missed = 0;
  for (const answer of byShape.answers) if (!bySite.answers.some((found) => overlaps(found, answer))) missed++;
  return missed >= 2 && missed >= bySite.answers.length;
}
