// Safe rendering of untrusted, Markdown-ish model output to Preact VNodes.
//
// marked's lexer turns the text into tokens; this file builds the elements itself. There is no
// HTML string anywhere, no innerHTML, no dangerouslySetInnerHTML. Raw HTML shows as the literal
// characters typed; entities are never decoded ("&lt;" shows as "&lt;"); images never load (they
// show as "[image: alt] (url)"); links carry no href: they show their URL and open it, only if it
// is http(s) or mailto, from a click (window.open with noopener,noreferrer).
import { Lexer, type Token, type Tokens } from 'marked';
import type { ComponentChildren, JSX } from 'preact';
import type { DiffPart } from './diff';

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

function inline(tokens: Token[] | undefined): ComponentChildren[] {
  return (tokens ?? []).map((t, i) => inlineToken(t, i));
}

function inlineToken(t: Token, key: number): ComponentChildren {
  switch (t.type) {
    case 'text': {
      // `raw`, not `text`: the lexer decodes numeric entities (&#60;) in `text`, and what the
      // user sees must be the characters the model wrote.
      const tt = t as Tokens.Text;
      return tt.tokens ? <>{inline(tt.tokens)}</> : tt.raw;
    }
    case 'escape':
      return (t as Tokens.Escape).text;
    case 'strong':
      return <strong key={key}>{inline((t as Tokens.Strong).tokens)}</strong>;
    case 'em':
      return <em key={key}>{inline((t as Tokens.Em).tokens)}</em>;
    case 'del':
      return <del key={key}>{inline((t as Tokens.Del).tokens)}</del>;
    case 'codespan':
      return <code key={key}>{(t as Tokens.Codespan).text}</code>;
    case 'br':
      return <br key={key} />;
    case 'link': {
      const lt = t as Tokens.Link;
      return (
        <Link key={key} href={lt.href}>
          {inline(lt.tokens)}
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

function block(t: Token, key: number): ComponentChildren {
  switch (t.type) {
    case 'space':
    case 'def':
      return null;
    case 'paragraph':
      return <p key={key}>{inline((t as Tokens.Paragraph).tokens)}</p>;
    case 'heading': {
      const ht = t as Tokens.Heading;
      const H = `h${Math.min(6, Math.max(1, ht.depth))}` as 'h1';
      return <H key={key}>{inline(ht.tokens)}</H>;
    }
    case 'code':
      return (
        <pre key={key}>
          <code>{(t as Tokens.Code).text}</code>
        </pre>
      );
    case 'blockquote':
      return <blockquote key={key}>{blocks((t as Tokens.Blockquote).tokens)}</blockquote>;
    case 'hr':
      return <hr key={key} />;
    case 'list': {
      const lt = t as Tokens.List;
      const items = lt.items.map((item, i) => <li key={i}>{blocks(item.tokens)}</li>);
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
                <th key={i}>{inline(c.tokens)}</th>
              ))}
            </tr>
          </thead>
          <tbody>
            {tt.rows.map((row, r) => (
              <tr key={r}>
                {row.map((c, i) => (
                  <td key={i}>{inline(c.tokens)}</td>
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
      return <span key={key}>{tt.tokens ? inline(tt.tokens) : tt.raw}</span>;
    }
    case 'html':
      // Raw HTML block: shown as the literal characters.
      return (
        <p key={key} class="rl-raw">
          {t.raw}
        </p>
      );
    default:
      return 'tokens' in t && Array.isArray(t.tokens) ? inline(t.tokens as Token[]) : t.raw;
  }
}

function blocks(tokens: Token[]): ComponentChildren[] {
  return tokens.map((t, i) => block(t, i));
}

/** Renders untrusted Markdown-ish text as Preact VNodes (no raw HTML, no images, inert links). */
export function renderMarkdown(text: string): ComponentChildren {
  let tokens: Token[];
  try {
    tokens = new Lexer({ gfm: true, breaks: false }).lex(text);
  } catch {
    return <p>{text}</p>;
  }
  return blocks(tokens);
}

/** `<Markdown text="..." />`: the component form of renderMarkdown. */
export function Markdown({ text }: { text: string }): JSX.Element {
  return <div class="rl-markdown">{renderMarkdown(text)}</div>;
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
