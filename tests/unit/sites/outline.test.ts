// @vitest-environment happy-dom
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { beforeEach, describe, expect, it } from 'vitest';
import { findExchangesByShape, outlinePage } from '../../../sites/index';
import { shapeOf } from '../../../sites/outline';
import { SITES } from '../../../sites/registry';
import { loadFixture } from './load';

/** Words that appear only as the page's content (text and attribute values), never in markup names. */
const SECRETS = [
  'Zanzibar', 'Quetzalcoatl', 'hunter2', 'alice@example.com', '4111-1111-1111-1111', 'Borodino', 'Kilimanjaro',
  'Ouagadougou', 'Xylophone', 'Jabberwock', 'Snarkhunt', 'Vorpal', 'Brillig', 'Tumtum', 'Mimsy', 'Frabjous',
  'Callooh', 'Uffish', 'Bandersnatch', 'Jubjub', '20260502', '0xdeadbeef', 'Gyre', 'Wabe',
];

const PAGE = `
<html><head><title>Zanzibar chat</title><meta name="description" content="Quetzalcoatl"></head>
<body>
<nav aria-label="Borodino history"><a href="https://example.com/c/Kilimanjaro" title="Ouagadougou">Xylophone trip</a></nav>
<main id="conv-Jabberwock-42" class="thread w-full user-8812 Message_botMessageBubble__aYctV">
  <article role="article" aria-label="Snarkhunt said" data-message-author-role="user" data-testid="conversation-turn-3" data-raw="Vorpal sword">
    <div class="whitespace-pre-wrap" dir="auto" title="Brillig">My password is hunter2 and my card 4111-1111-1111-1111</div>
    <img src="https://cdn.example.com/Tumtum.png" alt="Mimsy portrait" srcset="Tumtum-2x.png 2x">
    <input type="text" value="Frabjous" placeholder="Callooh callay">
    <textarea placeholder="Uffish">Bandersnatch draft</textarea>
    <select><option>Jubjub</option></select>
    <button aria-label="Copy alice@example.com" data-id="20260502">Copy</button>
    <!-- Gyre comment -->
    <script>var secret = "0xdeadbeef";</script>
    <style>.Wabe { color: red }</style>
    <svg aria-label="Gyre"><text>Wabe</text></svg>
  </article>
  <article role="article" data-message-author-role="assistant" aria-busy="false" data-state="Bandersnatch">
    <div class="markdown prose"><p dir="rtl">Brillig and the slithy toves</p><pre><code class="language-python">print("Mimsy")</code></pre></div>
  </article>
</main>
<div contenteditable="true"><p>Jabberwock typed but unsent</p></div>
</body></html>`;

beforeEach(() => {
  document.head.innerHTML = '';
  document.body.innerHTML = '';
});

describe('outlinePage: privacy', () => {
  it('never writes the page text, nor attribute values that can hold text (aria-label, title, alt, href, src, placeholder, value, data-*)', () => {
    const doc = new DOMParser().parseFromString(PAGE, 'text/html');
    const outline = outlinePage(doc);
    for (const secret of SECRETS) expect(outline, secret).not.toContain(secret);
    // Not even in another case or split across markup.
    for (const secret of SECRETS) expect(outline.toLowerCase(), secret).not.toContain(secret.toLowerCase());
  });

  it('writes no text of a real fixture page: its only text is the … marker, page words only as code words of class names', () => {
    for (const site of SITES) {
      const doc = loadFixture(site.id);
      const rebuilt = new DOMParser().parseFromString(outlinePage(doc), 'text/html');
      const walker = rebuilt.createTreeWalker(rebuilt.body, 4);
      for (let node = walker.nextNode(); node !== null; node = walker.nextNode()) {
        expect(['…', ''], site.id).toContain((node.textContent ?? '').trim());
      }
      // Outside class names and test ids (code words), an attribute value is a bare shape ("a-Aa-9") or
      // one word of a fixed vocabulary (role="article", dir="rtl", data-message-author-role="user").
      for (const el of Array.from(rebuilt.body.querySelectorAll('*'))) {
        for (const name of el.getAttributeNames()) {
          if (name === 'class' || name === 'data-testid') continue;
          const value = el.getAttribute(name) ?? '';
          const bareShape = /^[-_./:[\]%9aA ]*$/.test(value);
          const vocabularyWord = /^[a-z]+(?:-[a-z]+)*(?: [a-z]+)*$/.test(value);
          expect(bareShape || vocabularyWord, `${site.id}: ${name}="${value}"`).toBe(true);
        }
      }
    }
  });
});

describe('outlinePage: what a maintainer needs to rebuild the page', () => {
  it('keeps tag names, roles, attribute names, role words in data attributes and class shapes', () => {
    const doc = new DOMParser().parseFromString(PAGE, 'text/html');
    const outline = outlinePage(doc);
    expect(outline).toContain('<main id="a-Aa-9"'); // ids: bare shapes, words and all
    expect(outline).toContain('class="thread w-full user-9 Message_botMessageBubble__aAaA"');
    expect(outline).toContain('role="article" aria-label data-message-author-role="user" data-testid="conversation-turn-9" data-raw>');
    expect(outline).toContain('<div class="whitespace-pre-wrap" dir="auto" title>…</div>');
    expect(outline).toContain('<img src alt srcset>');
    expect(outline).toContain('<input type="text" value placeholder>');
    expect(outline).toContain('aria-busy="false" data-state>');
    expect(outline).toContain('<p dir="rtl">…</p>');
    expect(outline).toContain('<code class="language-python">…</code>');
    expect(outline).toContain('<script></script>');
    expect(outline).toContain('<div contenteditable="true">');
  });

  it('parses back into the same tree of elements as the page (a fixture skeleton)', () => {
    for (const site of SITES) {
      const doc = loadFixture(site.id);
      const rebuilt = new DOMParser().parseFromString(outlinePage(doc), 'text/html');
      const tags = (root: Element) => Array.from(root.querySelectorAll('*'), (el) => el.localName).filter((t) => !['svg', 'path'].includes(t));
      const skip = (t: string) => t !== 'path' && t !== 'text';
      expect(tags(rebuilt.body).filter(skip), site.id).toEqual(tags(doc.body).filter(skip));
    }
  });

  it("keeps what the shape adapter reads: it finds as many answers in the outline as in the page", () => {
    for (const site of SITES) {
      const doc = loadFixture(site.id);
      const rebuilt = new DOMParser().parseFromString(outlinePage(doc), 'text/html');
      expect(findExchangesByShape(rebuilt).length, site.id).toBe(findExchangesByShape(doc).length);
    }
    const oss = readFileSync(resolve(__dirname, '../../fixtures/sites/oss/open-webui.html'), 'utf8');
    const page = new DOMParser().parseFromString(oss, 'text/html');
    expect(findExchangesByShape(new DOMParser().parseFromString(outlinePage(page), 'text/html'))).toHaveLength(3);
  });
});

describe('outlinePage: size', () => {
  it('writes the first and last children of a long list and says how many it left out', () => {
    document.body.innerHTML = `<ul>${Array.from({ length: 100 }, (_, i) => `<li class="item-${i}">x</li>`).join('')}</ul>`;
    const outline = outlinePage(document, { headChildren: 5, tailChildren: 2 });
    expect(outline.match(/<li /g)).toHaveLength(7);
    expect(outline).toContain('<!-- 93 more children -->');
  });

  it('stops at the depth limit and at the element cap, and says so', () => {
    let deep = '<span>end</span>';
    for (let i = 0; i < 100; i++) deep = `<div>${deep}</div>`;
    document.body.innerHTML = deep;
    const limited = outlinePage(document, { maxDepth: 10 });
    expect(limited).toContain('1 children below the depth limit');
    expect(limited.match(/<div>/g)!.length).toBeLessThanOrEqual(10);
    const capped = outlinePage(document, { maxElements: 20 });
    expect(capped).toContain('<!-- outline cut at 20 elements -->');
    expect(capped.match(/<div>/g)!.length).toBeLessThanOrEqual(20);
  });

  it('stays small on a large page with the default caps', () => {
    document.body.innerHTML = `<main>${Array.from({ length: 2000 }, () => '<div class="turn"><div class="md"><p>t</p><ul><li>a</li><li>b</li></ul></div></div>').join('')}</main>`;
    expect(outlinePage(document).length).toBeLessThan(20_000);
  });
});

describe('shapeOf', () => {
  it('keeps code words and reduces the rest to letter/digit shapes', () => {
    expect(shapeOf('markdown')).toBe('markdown');
    expect(shapeOf('group/user-message')).toBe('group/user-message');
    expect(shapeOf('Message_botMessageBubble__aYctV')).toBe('Message_botMessageBubble__aAaA');
    expect(shapeOf('conversation-turn-42')).toBe('conversation-turn-9');
    expect(shapeOf('_9663006')).toBe('_9');
    expect(shapeOf('acss-1kyw2bt')).toBe('acss-9a9a');
    expect(shapeOf('max-w-[90%]')).toBe('max-w-[9%]');
    expect(shapeOf('message-5c1f9e04')).toBe('message-9a9a9a9');
  });
});
