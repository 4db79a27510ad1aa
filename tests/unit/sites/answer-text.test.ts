// @vitest-environment happy-dom
import { describe, expect, it } from 'vitest';
import { extractAnswerText, isHiddenElement } from '../../../sites/answer-text';

function html(markup: string): HTMLElement {
  const div = document.createElement('div');
  div.innerHTML = markup;
  return div;
}

describe('extractAnswerText', () => {
  it('separates paragraphs by a blank line and collapses whitespace as CSS does', () => {
    expect(extractAnswerText(html('<p>  One\n   two  </p>\n  <p>Three <b>four</b> five</p>'))).toBe('One two\n\nThree four five');
  });

  it('puts plain block boxes and <br> on their own lines', () => {
    expect(extractAnswerText(html('<div>a</div><div>b<br>c<br><br>d</div>'))).toBe('a\nb\nc\n\nd');
  });

  it('writes list items one per line, numbered from `start`, nested lists indented', () => {
    const el = html('<ol start="3"><li>three<ul><li>inner</li></ul></li><li><p>four</p></li></ol><p>after</p>');
    expect(extractAnswerText(el)).toBe('3. three\n  - inner\n4. four\n\nafter');
  });

  it('keeps code blocks verbatim and fenced with their language', () => {
    const el = html('<p>x</p><pre><code class="hljs language-TypeScript">  const a = 1;\n\n  if (a) {  b(); }\n</code></pre>');
    expect(extractAnswerText(el)).toBe('x\n\n```typescript\n  const a = 1;\n\n  if (a) {  b(); }\n```');
  });

  it('reads a <pre> without <code> verbatim, without its copy button', () => {
    expect(extractAnswerText(html('<pre><button>Copy</button>a  b\nc</pre>'))).toBe('```\na  b\nc\n```');
  });

  it('leaves out hidden elements: hidden, aria-hidden, inline display:none / visibility:hidden, sr-only', () => {
    const el = html(
      '<p>seen<span hidden>h1</span><span aria-hidden="true">h2</span><span style="color:red; display: none">h3</span>' +
        '<span style="visibility:hidden">h4</span><span class="sr-only">h5</span></p>',
    );
    expect(extractAnswerText(el)).toBe('seen');
    expect(isHiddenElement(el.querySelector('[hidden]')!)).toBe(true);
    expect(isHiddenElement(el.querySelector('p')!)).toBe(false);
  });

  it('leaves out buttons, role=button chips, scripts, styles, images and form controls', () => {
    const el = html('<p>a<button>Copy</button><span role="button">Thought for 5 s</span><script>x()</script><style>p{}</style><img alt="i"><input value="v"> b</p>');
    expect(extractAnswerText(el)).toBe('a b');
  });

  it('leaves out whatever matches the strip selector', () => {
    expect(extractAnswerText(html('<p>text<sup class="citation">[1]</sup></p>'), { strip: '.citation' })).toBe('text');
  });

  it('ignores a strip selector this engine cannot parse instead of failing', () => {
    expect(extractAnswerText(html('<p>kept</p>'), { strip: ':::nonsense(' })).toBe('kept');
  });

  it('joins table cells with " | ", one row per line', () => {
    const el = html('<table><thead><tr><th>k</th><th>v</th></tr></thead><tbody><tr><td>a</td><td>1</td></tr></tbody></table>');
    expect(extractAnswerText(el)).toBe('k | v\na | 1');
  });

  it('reads KaTeX as its TeX source', () => {
    const el = html(
      '<p>Area <span class="katex"><span class="katex-mathml"><math><semantics><mrow><mi>r</mi></mrow>' +
        '<annotation encoding="application/x-tex">\\pi r^2</annotation></semantics></math></span>' +
        '<span class="katex-html" aria-hidden="true">πr2</span></span> here.</p>',
    );
    expect(extractAnswerText(el)).toBe('Area $\\pi r^2$ here.');
  });

  it('keeps right-to-left text and its order', () => {
    expect(extractAnswerText(html('<p dir="rtl">مرحبا بالعالم</p><p dir="rtl">שלום עולם</p>'))).toBe('مرحبا بالعالم\n\nשלום עולם');
  });

  it('reads a document fragment (a selection clone)', () => {
    const frag = document.createDocumentFragment();
    frag.append(html('<p>one</p>'), html('<p>two</p>'));
    expect(extractAnswerText(frag)).toBe('one\n\ntwo');
  });

  it('survives pathologically deep markup', () => {
    let markup = 'deep';
    for (let i = 0; i < 600; i++) markup = `<span>${markup}</span>`;
    expect(extractAnswerText(html(`<p>${markup}</p>`))).toBe('deep');
  });
});
