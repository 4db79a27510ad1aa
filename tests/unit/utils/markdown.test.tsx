// @vitest-environment happy-dom
import fc from 'fast-check';
import { Lexer, type Token } from 'marked';
import { render } from 'preact';
import { useState } from 'preact/hooks';
import { act } from 'preact/test-utils';
import { afterEach, describe, expect, it, vi } from 'vitest';
import {
  lexMarkdown,
  MARKDOWN_MAX_CHARS,
  MAX_INLINE_EMPHASIS_WORK,
  MAX_MARKDOWN_DEPTH,
  blockWork,
  MAX_BLOCK_WORK,
  renderDiff,
  renderMarkdown,
  renderMarkdownCached,
  safeLinkUrl,
} from '../../../utils/markdown';
import { generateAnswer, seededRandom } from '../../support/prose';

function mount(text: string): HTMLDivElement {
  const root = document.createElement('div');
  document.body.appendChild(root);
  render(<>{renderMarkdown(text)}</>, root);
  return root;
}

afterEach(() => {
  document.body.innerHTML = '';
  vi.restoreAllMocks();
});

const DANGEROUS = 'script, img, iframe, style, svg, object, embed, link, meta, base, form, input, video, audio, source, picture, frame, math';

/** Asserts nothing in `root` can run code or fetch anything. */
function expectInert(root: Element): void {
  expect(root.querySelectorAll(DANGEROUS).length).toBe(0);
  for (const el of Array.from(root.querySelectorAll('*'))) {
    for (const attr of Array.from(el.attributes)) {
      expect(attr.name.toLowerCase().startsWith('on'), `${el.tagName} has ${attr.name}`).toBe(false);
      expect(['href', 'src', 'srcset', 'style', 'action', 'formaction', 'background', 'poster', 'xlink:href']).not.toContain(
        attr.name.toLowerCase(),
      );
    }
  }
}

const HOSTILE: Array<[string, string]> = [
  ['script block', '<script>alert(1)</script>'],
  ['inline script', 'Hello <script>alert(1)</script> world'],
  ['img onerror', '<img src=x onerror=alert(1)>'],
  ['inline img onerror', 'see <img src=x onerror=alert(1)> here'],
  ['javascript link', '[x](javascript:alert(1))'],
  ['style', '<style>body{background:url(https://evil.example/t.png)}</style>'],
  ['iframe', '<iframe src="https://evil.example/"></iframe>'],
  ['image', '![t](https://evil.example/p.png)'],
  ['entities', '&lt;b&gt;bold&lt;/b&gt; &amp; &#60;script&#62;'],
  ['data link', '[click](data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==)'],
  ['svg', '<svg onload=alert(1)><circle r=1 /></svg>'],
  ['anchor tag', '<a href="https://evil.example/" onclick="alert(1)">hi</a>'],
  ['encoded javascript', '[b](&#106;avascript:alert(1)) [c](jav&#x09;ascript:alert(1)) [d]( JAVASCRIPT:alert(1))'],
  ['vbscript and file', '[v](vbscript:msgbox(1)) [f](file:///etc/passwd)'],
  ['autolink javascript', '<javascript:alert(1)>'],
  ['reference image', '![alt][p]\n\n[p]: https://evil.example/p.png'],
];

describe('renderMarkdown never renders active or fetching elements', () => {
  for (const [name, text] of HOSTILE) {
    it(`keeps hostile input inert: ${name}`, () => {
      expectInert(mount(text));
    });
  }

  it('shows raw HTML as the literal characters typed', () => {
    const root = mount('<script>alert(1)</script>');
    expect(root.textContent).toContain('<script>alert(1)</script>');
    const inlineRoot = mount('see <img src=x onerror=alert(1)> here');
    expect(inlineRoot.textContent).toBe('see <img src=x onerror=alert(1)> here');
  });

  it('shows HTML entities as typed, never decoded', () => {
    const root = mount('&lt;b&gt;bold&lt;/b&gt; &amp; &#60;script&#62;');
    expect(root.textContent).toBe('&lt;b&gt;bold&lt;/b&gt; &amp; &#60;script&#62;');
    expect(root.querySelector('b')).toBeNull();
  });

  it('shows numeric entities as typed inside emphasis, headings, list items and image alt text', () => {
    const root = mount('# &#60;h\n\n**&#60;s&#62;** [&#60;x](https://a.example/)\n\n- item &#60; one\n\n![a &#60; b](https://x.example/)');
    expect(root.querySelector('h1')!.textContent).toBe('&#60;h');
    expect(root.querySelector('strong')!.textContent).toBe('&#60;s&#62;');
    expect(root.querySelector('a')!.textContent).toBe('&#60;x');
    expect(root.querySelector('li')!.textContent).toBe('item &#60; one');
    expect(root.textContent).toContain('[image: a &#60; b] (https://x.example/)');
  });

  it('shows an image as inert text with its alt and URL', () => {
    const root = mount('![tracking pixel](https://evil.example/p.png)');
    expect(root.textContent).toBe('[image: tracking pixel] (https://evil.example/p.png)');
    expect(root.querySelector('img')).toBeNull();
  });

  it('shows a javascript: link as plain text with its URL, not clickable', () => {
    const open = vi.spyOn(window, 'open').mockReturnValue(null);
    const root = mount('[x](javascript:alert(1))');
    expect(root.querySelector('a')).toBeNull();
    expect(root.textContent).toBe('x (javascript:alert(1))');
    (root.querySelector('.rl-link') as HTMLElement).click();
    expect(open).not.toHaveBeenCalled();
  });

  it('shows a data: link as plain text, not clickable', () => {
    const root = mount('[click](data:text/html,hi)');
    expect(root.querySelector('a')).toBeNull();
    expect(root.textContent).toBe('click (data:text/html,hi)');
  });
});

describe('links', () => {
  it('shows an https link with its URL and opens it only from a click, without opener or referrer', () => {
    const open = vi.spyOn(window, 'open').mockReturnValue(null);
    const root = mount('Read [the docs](https://example.com/docs?a=1).');
    const a = root.querySelector('a')!;
    expect(a.textContent).toBe('the docs');
    expect(a.hasAttribute('href')).toBe(false);
    expect(root.textContent).toBe('Read the docs (https://example.com/docs?a=1).');
    expect(open).not.toHaveBeenCalled();
    a.click();
    expect(open).toHaveBeenCalledWith('https://example.com/docs?a=1', '_blank', 'noopener,noreferrer');
    expectInert(root);
  });

  it('opens a mailto autolink from the keyboard (Enter)', () => {
    const open = vi.spyOn(window, 'open').mockReturnValue(null);
    const root = mount('Write to a@b.com');
    const a = root.querySelector('a')!;
    a.dispatchEvent(new KeyboardEvent('keydown', { key: 'Enter', bubbles: true }));
    expect(open).toHaveBeenCalledWith('mailto:a@b.com', '_blank', 'noopener,noreferrer');
  });

  it('safeLinkUrl allows only absolute http, https and mailto URLs', () => {
    expect(safeLinkUrl('https://example.com/x')).toBe('https://example.com/x');
    expect(safeLinkUrl('http://example.com')).toBe('http://example.com/');
    expect(safeLinkUrl('mailto:a@b.com')).toBe('mailto:a@b.com');
    for (const bad of ['javascript:alert(1)', ' JavaScript:alert(1)', 'java\tscript:alert(1)', 'data:text/html,x', 'vbscript:x', 'file:///etc/passwd', '/relative', '&#106;avascript:alert(1)', 'ftp://x.example/']) {
      expect(safeLinkUrl(bad), bad).toBeNull();
    }
  });
});

describe('renderMarkdown renders ordinary Markdown into the right elements', () => {
  it('paragraphs, emphasis, strong, inline code, strikethrough', () => {
    const root = mount('Hello **bold** and *em* and `a < b` and ~~old~~.\n\nSecond paragraph.');
    expect(root.querySelectorAll('p').length).toBe(2);
    expect(root.querySelector('strong')!.textContent).toBe('bold');
    expect(root.querySelector('em')!.textContent).toBe('em');
    expect(root.querySelector('code')!.textContent).toBe('a < b');
    expect(root.querySelector('del')!.textContent).toBe('old');
  });

  it('headings, lists (nested, ordered with start), task items', () => {
    const root = mount('## Title\n\n- one\n- two\n  1. inner\n\n3. three\n4. four\n\n- [x] done');
    expect(root.querySelector('h2')!.textContent).toBe('Title');
    const ul = root.querySelector('ul')!;
    expect(ul.children.length).toBe(2);
    expect(ul.querySelector('ol li')!.textContent).toBe('inner');
    const ols = root.querySelectorAll(':scope > ol');
    expect(ols[0].getAttribute('start')).toBe('3');
    expect(root.textContent).toContain('[x] done');
  });

  it('fenced and indented code blocks as pre/code with their text untouched', () => {
    const root = mount('```js\nif (a < b && c) { alert("<b>") }\n```\n\n    indented &amp; code');
    const codes = root.querySelectorAll('pre > code');
    expect(codes.length).toBe(2);
    expect(codes[0].textContent).toBe('if (a < b && c) { alert("<b>") }');
    expect(codes[1].textContent).toBe('indented &amp; code');
  });

  it('blockquotes, line breaks, rules and tables', () => {
    const root = mount('> quoted\n\nline one  \nline two\n\n---\n\n| a | b |\n|---|---|\n| 1 | 2 |');
    expect(root.querySelector('blockquote p')!.textContent).toBe('quoted');
    expect(root.querySelector('br')).not.toBeNull();
    expect(root.querySelector('hr')).not.toBeNull();
    expect(Array.from(root.querySelectorAll('th')).map((th) => th.textContent)).toEqual(['a', 'b']);
    expect(Array.from(root.querySelectorAll('td')).map((td) => td.textContent)).toEqual(['1', '2']);
  });
});

describe('renderDiff', () => {
  it('renders added parts as ins.rl-added, removed as del.rl-removed, keeping text and line breaks', () => {
    const root = document.createElement('div');
    render(
      <>
        {renderDiff([
          { kind: 'same', text: 'This is ' },
          { kind: 'removed', text: 'bad\n' },
          { kind: 'added', text: '<b>good</b>\n' },
          { kind: 'same', text: '.' },
        ])}
      </>,
      root,
    );
    expect(root.querySelector('del.rl-removed')!.textContent).toBe('bad\n');
    expect(root.querySelector('ins.rl-added')!.textContent).toBe('<b>good</b>\n');
    expect(root.querySelector('b')).toBeNull();
    expect(root.textContent).toBe('This is bad\n<b>good</b>\n.');
  });
});

/** The deepest element nesting under `root` (iterative: the tree may be deep). */
function domDepth(root: Element): number {
  let deepest = 0;
  const stack: Array<[Element, number]> = [[root, 0]];
  while (stack.length > 0) {
    const [element, depth] = stack.pop()!;
    deepest = Math.max(deepest, depth);
    for (const child of Array.from(element.children)) stack.push([child, depth + 1]);
  }
  return deepest;
}

const DEPTH_BOUND = 2 * MAX_MARKDOWN_DEPTH + 8;

describe('renderMarkdown is bounded and total (issue 12)', () => {
  it('3.2 KB of nested "> " renders without overflowing, nested no deeper than the cap', () => {
    const text = '> '.repeat(1600) + 'deep';
    const root = mount(text);
    expect(root.textContent).toContain('deep');
    expect(domDepth(root)).toBeLessThanOrEqual(DEPTH_BOUND);
  });

  it('nesting past the cap (but lexed) is shown as its text, not as deeper elements', () => {
    for (const prefix of ['> ', '- ', '1. ', '> - ']) {
      const text = `${prefix.repeat(50)}inner **words**`;
      const root = mount(text);
      expect(root.textContent).toContain('inner');
      expect(domDepth(root)).toBeLessThanOrEqual(DEPTH_BOUND);
    }
    const lists = Array.from({ length: 60 }, (_, i) => `${'  '.repeat(i)}- level ${i}`).join('\n');
    const root = mount(lists);
    expect(root.textContent).toContain('level 59');
    expect(domDepth(root)).toBeLessThanOrEqual(DEPTH_BOUND);
  });

  it('an inline run whose emphasis matching would be quadratic is never lexed inline: shown as its text', () => {
    const inlineRuns: string[] = [];
    const original = Lexer.prototype.inlineTokens;
    vi.spyOn(Lexer.prototype, 'inlineTokens').mockImplementation(function (this: Lexer, src: string, tokens?: Token[]) {
      inlineRuns.push(src);
      return original.call(this, src, tokens);
    });
    const hostile = '_a'.repeat(10_000); // 20 KB; 60 KB of it took marked 3.5 s
    const root = mount(`Intro with *emphasis*.\n\n${hostile}\n\nOutro **bold**.`);
    const work = (run: string) => run.length * (run.match(/[*_]/g)?.length ?? 0);
    expect(Math.max(...inlineRuns.map(work))).toBeLessThanOrEqual(MAX_INLINE_EMPHASIS_WORK);
    expect(root.textContent).toContain(hostile);
    // The ordinary paragraphs around it keep their Markdown.
    expect(root.querySelector('em')!.textContent).toBe('emphasis');
    expect(root.querySelector('strong')!.textContent).toBe('bold');
  });

  it('text over MARKDOWN_MAX_CHARS is shown as plain paragraphs, without lexing', () => {
    const lex = vi.spyOn(Lexer.prototype, 'blockTokens');
    const paragraph = 'Some **bold** text and a [link](https://x.example/).';
    const text = Array.from({ length: Math.ceil(MARKDOWN_MAX_CHARS / paragraph.length) + 1 }, () => paragraph).join('\n\n');
    const root = mount(text);
    expect(lex).not.toHaveBeenCalled();
    expect(root.querySelector('strong')).toBeNull();
    expect(root.querySelectorAll('p.rl-plain').length).toBe(text.split('\n\n').length);
    expect(root.querySelector('p')!.textContent).toBe(paragraph);
    expectInert(root);
  });

  it('falls back to plain paragraphs when lexing or building throws', () => {
    const lex = vi.spyOn(Lexer.prototype, 'blockTokens').mockImplementation(() => {
      throw new RangeError('Maximum call stack size exceeded');
    });
    expect(mount('# Title\n\nBody').textContent).toBe('# TitleBody');
    // A token the renderer cannot build (a list without items) is caught too.
    lex.mockImplementation(() => Object.assign([{ type: 'list', raw: '- x' } as unknown as Token], { links: {} }));
    expect(mount('- x').querySelector('p.rl-plain')!.textContent).toBe('- x');
  });

  it('never throws, stays inert and shallow, for any Markdown-ish input (property)', () => {
    const piece = fc.oneof(
      fc.constantFrom('> ', '- ', '* ', '+ ', '1. ', '  ', '\t', '\n', '\n\n', '_', '*', '**', '__', '~~', '`', '```', '[', ']', '(', ')', '<', '>', '!', '#', '|', '\\', '&#60;', 'a', 'word ', 'http://x.example/', '<script>', '😀', '\r\n'),
      fc.string({ maxLength: 4 }),
    );
    const nested = fc.tuple(fc.constantFrom('> ', '- ', '1. ', '  - ', '> * '), fc.integer({ min: 0, max: 200 }), fc.string({ maxLength: 10 })).map(([prefix, times, tail]) => prefix.repeat(times) + tail);
    const text = fc.oneof(fc.array(piece, { maxLength: 80 }).map((parts) => parts.join('')), nested);
    fc.assert(
      fc.property(text, (markdown) => {
        const root = mount(markdown);
        expectInert(root);
        expect(domDepth(root)).toBeLessThanOrEqual(DEPTH_BOUND);
        root.remove();
      }),
      { numRuns: 400 },
    );
  });

  it('lexMarkdown gives the same tokens as marked on ordinary Markdown (it follows Lexer.lex)', () => {
    const text = '# T\n\nHello **bold** and *em*, `code`, [l](https://a.example/) and ~~x~~.\n\n- one\n- two\n  1. inner\n\n> quote\n\n| a | b |\n|---|---|\n| 1 | 2 |\n\n```js\nx\n```\n\n[r]: https://r.example/\n\nSee [r].';
    expect([...lexMarkdown(text)]).toEqual([...new Lexer({ gfm: true, breaks: false }).lex(text)]);
  });

  it('blockWork weighs each line by its nesting, in one pass', () => {
    expect(blockWork('> '.repeat(100) + 'x')).toBe(Infinity);
    const prose = 'text with > > > and - dashes '.repeat(100);
    expect(blockWork(prose)).toBe(prose.length + 1);
    expect(blockWork('- - item')).toBe(9 * 3);
    expect(blockWork('      - item')).toBe(13 * (1 + 1 + 3));
    // Indentation inside fenced code is not nesting.
    expect(blockWork('```\n        code\n```')).toBe(4 + 13 + 4 * 1);
  });

  it('text whose nesting would make lexing costly is shown as plain paragraphs, without lexing', () => {
    const lex = vi.spyOn(Lexer.prototype, 'blockTokens');
    const lines: string[] = [];
    for (let i = 0; lines.join('\n').length < 30_000; i++) lines.push(`${'- '.repeat(1 + (i % 16))}item ${i}`);
    const text = lines.join('\n');
    expect(text.length).toBeLessThan(MARKDOWN_MAX_CHARS);
    expect(blockWork(text)).toBeGreaterThan(MAX_BLOCK_WORK);
    const root = mount(text);
    expect(lex).not.toHaveBeenCalled();
    expect(root.querySelector('ul')).toBeNull();
    expect(root.querySelector('p.rl-plain')!.textContent).toBe(text);
  });

  it('an ordinary answer just under the size limit keeps its Markdown', () => {
    const text = generateAnswer(seededRandom(5), MARKDOWN_MAX_CHARS - 2_000);
    expect(blockWork(text)).toBeLessThan(MAX_BLOCK_WORK);
    const root = mount(text);
    expect(root.querySelectorAll('ul, ol').length).toBeGreaterThan(5);
    expect(root.querySelectorAll('pre > code').length).toBeGreaterThan(1);
    expect(root.querySelectorAll('h2').length).toBeGreaterThan(1);
  });
});

describe('renderMarkdownCached (issue 12)', () => {
  it('the same text gives the same VNodes back without lexing again', () => {
    const lex = vi.spyOn(Lexer.prototype, 'blockTokens');
    const text = `Cached **text** ${Math.random()}`;
    const first = renderMarkdownCached(text);
    expect(renderMarkdownCached(text)).toBe(first);
    expect(lex).toHaveBeenCalledTimes(1);
    renderMarkdownCached(`${text} and more`);
    expect(lex).toHaveBeenCalledTimes(2);
  });

  it('a component re-rendered for other reasons lexes its text once', async () => {
    const lex = vi.spyOn(Lexer.prototype, 'blockTokens');
    const text = `Hook **text** ${Math.random()}`;
    let setTick: (n: number) => void = () => undefined;
    function View() {
      const [tick, set] = useState(0);
      setTick = set;
      const body = renderMarkdownCached(text);
      return (
        <div data-tick={tick}>
          <div class="rl-markdown">{body}</div>
        </div>
      );
    }
    const root = document.createElement('div');
    document.body.appendChild(root);
    render(<View />, root);
    for (let i = 1; i <= 5; i++) {
      act(() => setTick(i));
    }
    expect(root.querySelector('[data-tick="5"] strong')!.textContent).toBe('text');
    expect(lex).toHaveBeenCalledTimes(1);
  });
});
