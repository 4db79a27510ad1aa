// @vitest-environment happy-dom
import { render } from 'preact';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { Markdown, renderDiff, renderMarkdown, safeLinkUrl } from '../../../utils/markdown';

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

  it('the Markdown component wraps the same output in a div', () => {
    const root = document.createElement('div');
    render(<Markdown text={'**x**'} />, root);
    expect(root.querySelector('div.rl-markdown > p > strong')!.textContent).toBe('x');
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
