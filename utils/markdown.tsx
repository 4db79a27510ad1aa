// Safe rendering of untrusted, Markdown-ish model output to Preact VNodes.
//
// marked's lexer turns the text into tokens; this file builds the elements itself. There is no
// HTML string anywhere, no innerHTML, no dangerouslySetInnerHTML. Raw HTML shows as the literal
// characters typed; entities are never decoded ("&lt;" shows as "&lt;"); images never load (they
// show as "[image: alt] (url)"); links carry no href: they show their URL and open it, only if it
// is http(s) or mailto, from a click (window.open with noopener,noreferrer).
//
// Bounded and total for any input: text over MARKDOWN_MAX_CHARS, or whose nesting would make
// marked's block lexing costly (blockWork), is shown as plain paragraphs; an inline run whose emphasis
// delimiters would make marked's matching quadratic is shown as its text; nesting past
// MAX_MARKDOWN_DEPTH is shown as text; and any exception falls back to plain paragraphs.
//
// How the panel uses it: `renderMarkdownCached(text)`, called at most once a frame with the text
// to show. Equal texts give the same VNodes back
// without lexing again, so re-renders for other reasons (a tab switch, a status line) cost nothing.
import { Lexer, type Token, type Tokens } from 'marked';
import type { ComponentChildren, JSX } from 'preact';
import type { DiffPart } from './diff';

/**
 * Above this many characters an answer is shown as plain paragraphs. marked is linear on most
 * text but with large constants (up to ~3 ms per KB on some shapes in Node): 40,000 characters
 * keeps lexing and building under ~100 ms, and real answers are far shorter.
 */
export const MARKDOWN_MAX_CHARS = 40_000;
/** Blockquotes, lists and inline elements nested deeper than this are shown as their text. */
export const MAX_MARKDOWN_DEPTH = 32;
/** Container markers at one line's start beyond which the text is not lexed (marked recurses once per level). */
const MAX_LINE_NESTING = 2 * MAX_MARKDOWN_DEPTH;
/**
 * Above this blockWork the text is shown as plain paragraphs. marked takes ~1.5 ms per KB of a
 * flat list and several times that for nested ones; 160,000 keeps any accepted text near 100 ms
 * while an ordinary 40 KB answer (lists 2–3 deep) stays well under it.
 */
export const MAX_BLOCK_WORK = 160_000;
/**
 * marked matches emphasis delimiters (`*`, `_`) by scanning ahead from each one: an inline run
 * costs about delimiters × length (`_a_a…` of 60 KB took 3.5 s; ~5 ns per unit). A run over the
 * first limit, or once the text's total passes the second, is shown as its plain text.
 */
export const MAX_INLINE_EMPHASIS_WORK = 2_000_000;
const MAX_TOTAL_EMPHASIS_WORK = 8_000_000;

const CLICKABLE = new Set(['http:', 'https:', 'mailto:']);

/** The URL to open for a link target, or null when it must stay inert (javascript:, data:, relative...). */
export function safeLinkUrl(href: string): string | null {
  try {
    const url = new URL(href.trim());
    return CLICKABLE.has(url.protocol) ? url.href : null;
  } catch {
    return null;
  }
}

function openLink(url: string, e: Event): void {
  e.preventDefault();
  e.stopPropagation();
  window.open(url, '_blank', 'noopener,noreferrer');
}

function Link({ href, children }: { href: string; children: ComponentChildren }): JSX.Element {
  const url = safeLinkUrl(href);
  const shown = <span class="rl-url"> ({href})</span>;
  if (!url) {
    return (
      <span class="rl-link rl-link-inert">
        {children}
        {shown}
      </span>
    );
  }
  return (
    <span class="rl-link">
      <a
        role="link"
        tabIndex={0}
        title={url}
        onClick={(e) => openLink(url, e)}
        onKeyDown={(e) => {
          if (e.key === 'Enter') openLink(url, e);
        }}
      >
        {children}
      </a>
      {shown}
    </span>
  );
}

function inline(tokens: Token[] | undefined, depth: number): ComponentChildren[] {
  return (tokens ?? []).map((t, i) => inlineToken(t, i, depth));
}

function inlineToken(t: Token, key: number, depth: number): ComponentChildren {
  // Past the depth cap an element is shown as the characters it was written with.
  if (depth >= MAX_MARKDOWN_DEPTH && 'tokens' in t && Array.isArray(t.tokens) && t.tokens.length > 0) return t.raw;
  const inner = depth + 1;
  switch (t.type) {
    case 'text': {
      // `raw`, not `text`: the lexer decodes numeric entities (&#60;) in `text`, and what the
      // user sees must be the characters the model wrote.
      const tt = t as Tokens.Text;
      return tt.tokens ? <>{inline(tt.tokens, inner)}</> : tt.raw;
    }
    case 'escape':
      return (t as Tokens.Escape).text;
    case 'strong':
      return <strong key={key}>{inline((t as Tokens.Strong).tokens, inner)}</strong>;
    case 'em':
      return <em key={key}>{inline((t as Tokens.Em).tokens, inner)}</em>;
    case 'del':
      return <del key={key}>{inline((t as Tokens.Del).tokens, inner)}</del>;
    case 'codespan':
      return <code key={key}>{(t as Tokens.Codespan).text}</code>;
    case 'br':
      return <br key={key} />;
    case 'link': {
      const lt = t as Tokens.Link;
      return (
        <Link key={key} href={lt.href}>
          {inline(lt.tokens, inner)}
        </Link>
      );
    }
    case 'image': {
      const it = t as Tokens.Image;
      return <span key={key} class="rl-image">{`[image: ${it.text}] (${it.href})`}</span>;
    }
    case 'checkbox':
      return (t as Tokens.Checkbox).checked ? '[x] ' : '[ ] ';
    default:
      // Raw HTML (`html`) and anything unknown: the characters as typed.
      return t.raw;
  }
}

function block(t: Token, key: number, depth: number): ComponentChildren {
  const inner = depth + 1;
  if (depth >= MAX_MARKDOWN_DEPTH && (t.type === 'blockquote' || t.type === 'list')) {
    // Deeper nesting is shown flat, as the characters it was written with.
    return (
      <p key={key} class="rl-raw">
        {t.raw}
      </p>
    );
  }
  switch (t.type) {
    case 'space':
    case 'def':
      return null;
    case 'paragraph':
      return <p key={key}>{inline((t as Tokens.Paragraph).tokens, inner)}</p>;
    case 'heading': {
      const ht = t as Tokens.Heading;
      const H = `h${Math.min(6, Math.max(1, ht.depth))}` as 'h1';
      return <H key={key}>{inline(ht.tokens, inner)}</H>;
    }
    case 'code':
      return (
        <pre key={key}>
          <code>{(t as Tokens.Code).text}</code>
        </pre>
      );
    case 'blockquote':
      return <blockquote key={key}>{blocks((t as Tokens.Blockquote).tokens, inner)}</blockquote>;
    case 'hr':
      return <hr key={key} />;
    case 'list': {
      const lt = t as Tokens.List;
      const items = lt.items.map((item, i) => <li key={i}>{blocks(item.tokens, inner)}</li>);
      if (!lt.ordered) return <ul key={key}>{items}</ul>;
      const start = typeof lt.start === 'number' && lt.start !== 1 ? lt.start : undefined;
      return (
        <ol key={key} start={start}>
          {items}
        </ol>
      );
    }
    case 'table': {
      const tt = t as Tokens.Table;
      return (
        <table key={key}>
          <thead>
            <tr>
              {tt.header.map((c, i) => (
                <th key={i}>{inline(c.tokens, inner)}</th>
              ))}
            </tr>
          </thead>
          <tbody>
            {tt.rows.map((row, r) => (
              <tr key={r}>
                {row.map((c, i) => (
                  <td key={i}>{inline(c.tokens, inner)}</td>
                ))}
              </tr>
            ))}
          </tbody>
        </table>
      );
    }
    case 'text': {
      // Block-level text (tight list items).
      const tt = t as Tokens.Text;
      return <span key={key}>{tt.tokens ? inline(tt.tokens, inner) : tt.raw}</span>;
    }
    case 'html':
      // Raw HTML block: shown as the literal characters.
      return (
        <p key={key} class="rl-raw">
          {t.raw}
        </p>
      );
    default:
      return 'tokens' in t && Array.isArray(t.tokens) ? inline(t.tokens as Token[], inner) : t.raw;
  }
}

function blocks(tokens: Token[], depth: number): ComponentChildren[] {
  return tokens.map((t, i) => block(t, i, depth));
}

/** Delimiters that open or close emphasis, times the run's length: what marked's emphasis matching costs. */
function emphasisWork(run: string): number {
  let delimiters = 0;
  for (let i = 0; i < run.length; i++) {
    const c = run.charCodeAt(i);
    if (c === 42 || c === 95) delimiters++;
  }
  return delimiters * run.length;
}

/**
 * What lexing the text's block structure costs, roughly: each line's length times one plus its
 * nesting (container markers `>`, `-`/`*`/`+`, `1.` at its start, and indentation / 2 outside
 * fenced code), since marked lexes a container's content again at every level. Infinity when a
 * line starts with more than MAX_LINE_NESTING markers (marked would also recurse that deep).
 * One pass.
 */
export function blockWork(text: string): number {
  const n = text.length;
  let work = 0;
  let inFence = false;
  let lineStart = 0;
  const isBlankAt = (at: number) => at >= n || text.charCodeAt(at) === 32 || text.charCodeAt(at) === 9 || text.charCodeAt(at) === 10;
  while (lineStart < n) {
    let markers = 0;
    let columns = 0;
    let j = lineStart;
    for (;;) {
      while (j < n && (text.charCodeAt(j) === 32 || text.charCodeAt(j) === 9)) {
        // Indentation before the first marker nests lists; spaces after a marker do not.
        if (markers === 0) columns += text.charCodeAt(j) === 9 ? 4 : 1;
        j++;
      }
      const c = text.charCodeAt(j);
      if (c === 62) {
        markers++;
        j++;
      } else if ((c === 45 || c === 42 || c === 43) && isBlankAt(j + 1)) {
        markers++;
        j++;
      } else {
        let k = j;
        while (k < n && k - j < 9 && text.charCodeAt(k) >= 48 && text.charCodeAt(k) <= 57) k++;
        const after = text.charCodeAt(k);
        if (k > j && (after === 46 || after === 41) && isBlankAt(k + 1)) {
          markers++;
          j = k + 1;
        } else break;
      }
      if (markers > MAX_LINE_NESTING) return Infinity;
    }
    if (text.startsWith('```', j) || text.startsWith('~~~', j)) inFence = !inFence;
    let end = text.indexOf('\n', j);
    if (end === -1) end = n;
    // Indentation in fenced code is code, not nesting.
    work += (end - lineStart + 1) * (1 + markers + (inFence ? 0 : Math.floor(columns / 2)));
    lineStart = end + 1;
  }
  return work;
}

/**
 * marked's `lex`, with the inline step guarded: block tokens first, then each inline run, except
 * that a run whose emphasis work is over the limits becomes one plain text token. (The same
 * steps as `Lexer.lex` in marked 18; a unit test checks they give the same tokens on ordinary text.)
 */
export function lexMarkdown(text: string): Token[] {
  const lexer = new Lexer({ gfm: true, breaks: false });
  const tokens = lexer.blockTokens(text.replace(/\r\n|\r/g, '\n'), lexer.tokens);
  let total = 0;
  for (let i = 0; i < lexer.inlineQueue.length; i++) {
    const run = lexer.inlineQueue[i]!;
    lexer.state.inRawBlock = false;
    const work = emphasisWork(run.src);
    if (work > MAX_INLINE_EMPHASIS_WORK || total + work > MAX_TOTAL_EMPHASIS_WORK) {
      run.tokens.push({ type: 'text', raw: run.src, text: run.src } satisfies Tokens.Text);
      continue;
    }
    total += work;
    lexer.inlineTokens(run.src, run.tokens);
  }
  lexer.inlineQueue = [];
  return tokens;
}

/**
 * Plain paragraphs: blank lines separate them, each one's text as written (no Markdown). Line
 * breaks stay in the text (`.rl-plain` wants `white-space: pre-wrap`). One pass; never throws.
 */
export function renderPlainText(text: string): ComponentChildren {
  const source = typeof text === 'string' ? text : String(text);
  const paragraphs: string[] = [];
  let current: string[] = [];
  for (const line of source.split('\n')) {
    if (line.trim() === '') {
      if (current.length > 0) paragraphs.push(current.join('\n'));
      current = [];
    } else current.push(line);
  }
  if (current.length > 0) paragraphs.push(current.join('\n'));
  return paragraphs.map((paragraph, i) => (
    <p key={i} class="rl-plain">
      {paragraph}
    </p>
  ));
}

/**
 * Renders untrusted Markdown-ish text as Preact VNodes (no raw HTML, no images, inert links).
 * Total: on any input it returns VNodes (plain paragraphs when the text is too large, nested too
 * deep, or anything throws). Lexes every call: the panel wants renderMarkdownCached/useMarkdown.
 */
export function renderMarkdown(text: string): ComponentChildren {
  try {
    if (text.length > MARKDOWN_MAX_CHARS || blockWork(text) > MAX_BLOCK_WORK) return renderPlainText(text);
    return blocks(lexMarkdown(text), 0);
  } catch {
    return renderPlainText(text);
  }
}

/** Texts rendered lately, most recent last: a streamed text's frames and the finished views. */
const rendered = new Map<string, ComponentChildren>();
const RENDERED_KEPT = 4;

/**
 * renderMarkdown, remembered per text: the same text gives the same VNodes without lexing again
 * (the last few texts are kept). Call it at most once a frame with the text to show.
 */
export function renderMarkdownCached(text: string): ComponentChildren {
  const hit = rendered.get(text);
  if (hit !== undefined) {
    rendered.delete(text);
    rendered.set(text, hit);
    return hit;
  }
  const nodes = renderMarkdown(text);
  rendered.set(text, nodes);
  if (rendered.size > RENDERED_KEPT) rendered.delete(rendered.keys().next().value!);
  return nodes;
}

/**
 * Renders a word diff as text with `<ins class="rl-added">` and `<del class="rl-removed">`
 * spans. Line breaks stay in the text nodes (the caller's CSS applies white-space: pre-wrap).
 */
export function renderDiff(parts: DiffPart[]): ComponentChildren {
  return parts.map((p, i) =>
    p.kind === 'added' ? (
      <ins key={i} class="rl-added">
        {p.text}
      </ins>
    ) : p.kind === 'removed' ? (
      <del key={i} class="rl-removed">
        {p.text}
      </del>
    ) : (
      p.text
    ),
  );
}
