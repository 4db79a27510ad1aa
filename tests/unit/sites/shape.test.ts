// @vitest-environment happy-dom
import { beforeEach, describe, expect, it } from 'vitest';
import { findExchangesByShape, locateByShape } from '../../../sites/index';
import { wordsOf } from '../../../sites/shape';

const pairs = (root: ParentNode = document) => findExchangesByShape(root).map((e) => [e.question, e.answer]);

/** A chat list with hashed class names only: nothing but structure tells the roles. */
function anonymousChat(turns: string[]): string {
  return `<main><div class="k1">${turns.map((t) => `<div class="k2"><div class="k3">${t}</div></div>`).join('')}</div></main>`;
}

beforeEach(() => {
  document.head.innerHTML = '';
  document.body.innerHTML = '';
});

describe('findExchangesByShape: what is and is not a conversation', () => {
  it('finds nothing on a page with no conversation, an empty page or an odd root, and never throws', () => {
    document.body.innerHTML = '<p>hello</p>';
    expect(findExchangesByShape(document)).toEqual([]);
    document.body.innerHTML = '<article><h1>Blog post</h1><p>One.</p><ul><li>two</li></ul><p>Three.</p></article>';
    expect(findExchangesByShape(document)).toEqual([]);
    document.body.innerHTML = '';
    expect(findExchangesByShape(document)).toEqual([]);
    expect(findExchangesByShape(document.createDocumentFragment())).toEqual([]);
    expect(locateByShape(document).status).toBe('no-conversation');
  });

  it('reads a first exchange whose question is a plain bubble (no Markdown) by its look-alike turn', () => {
    document.body.innerHTML =
      '<div class="thread"><section class="turn a"><div class="bubble">What is 2 + 2?</div></section>' +
      '<section class="turn b"><div class="md"><p>It is <strong>4</strong>.</p></div></section></div>';
    expect(pairs()).toEqual([['What is 2 + 2?', 'It is 4.']]);
    expect(locateByShape(document).status).toBe('ok');
  });

  it('alternates turns starting with the person when no word says who speaks', () => {
    document.body.innerHTML = anonymousChat(['<p>Q1</p>', '<p>A1</p>', '<p>Q2</p>', '<p>A2</p>']);
    expect(pairs()).toEqual([['Q1', 'A1'], ['Q2', 'A2']]);
  });

  it('lets rich Markdown outweigh alternation: a code answer after a plain question', () => {
    document.body.innerHTML = anonymousChat(['<p>Code?</p>', '<p>Here:</p><pre><code class="language-sh">ls</code></pre><ul><li>lists files</li></ul>', '<p>Thanks</p>', '<p>Welcome</p>']);
    expect(pairs()).toEqual([['Code?', 'Here:\n\n```sh\nls\n```\n\n- lists files'], ['Thanks', 'Welcome']]);
  });

  it('follows role words in class names and data attributes, an assistant greeting first included', () => {
    document.body.innerHTML =
      '<div class="log">' +
      '<div class="msg from-bot"><p>Hi! Ask me anything.</p></div>' +
      '<div class="msg from-user"><p>Capital of Peru?</p></div>' +
      '<div class="msg from-bot"><p>Lima.</p></div>' +
      '</div>';
    expect(pairs()).toEqual([['', 'Hi! Ask me anything.'], ['Capital of Peru?', 'Lima.']]);
  });

  it("takes a bubble laid out on the right (inline flex style) as the person's, even after an opening greeting", () => {
    const row = (text: string, mine: boolean) => `<div class="k2"${mine ? ' style="display:flex;flex-direction:row-reverse"' : ''}><div class="k3"><p>${text}</p></div></div>`;
    document.body.innerHTML = `<main><div class="k1">${row('Welcome!', false)}${row('Hi, a question', true)}${row('An answer', false)}${row('Another', true)}${row('Another answer', false)}</div></main>`;
    expect(pairs()).toEqual([['', 'Welcome!'], ['Hi, a question', 'An answer'], ['Another', 'Another answer']]);
  });

  it('pairs two answers in a row (a regeneration shown beside the first) with the same question', () => {
    document.body.innerHTML =
      '<div class="log"><div data-author="human"><p>Name a colour</p></div>' +
      '<div data-author="assistant"><p>Red</p></div><div data-author="assistant"><p>Blue</p></div></div>';
    expect(pairs()).toEqual([['Name a colour', 'Red'], ['Name a colour', 'Blue']]);
  });

  it('splits pair layouts (one box per question and its answer) into their turns', () => {
    document.body.innerHTML =
      '<div class="history">' +
      ['One', 'Two'].map((n) => `<div class="pair"><div class="q"><span>Question ${n}</span></div><div class="a"><p>Answer ${n}</p></div></div>`).join('') +
      '</div>';
    expect(pairs()).toEqual([['Question One', 'Answer One'], ['Question Two', 'Answer Two']]);
  });

  it('ignores page chrome: a stray paragraph, the sidebar, page header and footer, the composer', () => {
    document.body.innerHTML =
      '<header><h1>ChatApp</h1><p>Welcome back</p></header>' +
      '<nav><ul><li>Old chat one</li><li>Old chat two</li></ul></nav>' +
      '<p class="banner">Maintenance tonight.</p>' +
      '<main><div class="list">' +
      '<div class="row user"><div class="text">Why is the sky blue?</div></div>' +
      '<div class="row"><div class="md"><p>Rayleigh scattering.</p><p>Blue light scatters most.</p></div></div>' +
      '</div></main>' +
      '<form><div contenteditable="true"><p>draft question</p></div><textarea>draft</textarea></form>' +
      '<footer><p>Answers may be wrong.</p></footer>';
    expect(pairs()).toEqual([['Why is the sky blue?', 'Rayleigh scattering.\n\nBlue light scatters most.']]);
  });

  it('reads a question without the labels, times and buttons around it', () => {
    document.body.innerHTML =
      '<div class="list">' +
      '<div class="row user"><h5>You said:</h5><span class="time">10:42</span><div class="text">Hi there</div><button>Edit</button></div>' +
      '<div class="row bot"><h6>Bot said:</h6><div class="md"><p>Hello!</p></div></div>' +
      '</div>';
    expect(pairs()).toEqual([['Hi there', 'Hello!']]);
  });
});

describe('findExchangesByShape: text rules (as the site adapters, plus chrome found by structure)', () => {
  const chat = (answer: string, question = 'Q?') =>
    `<div class="list"><div class="row user"><div class="text">${question}</div></div><div class="row assistant">${answer}</div></div>`;

  it('leaves out reasoning: closed <details>, collapsed boxes, boxes named thinking/thought/reasoning', () => {
    document.body.innerHTML = chat(
      '<details><summary>Reasoning</summary><p>secret plan</p></details>' +
        '<div style="height: 0px; overflow: hidden"><p>collapsed plan</p></div>' +
        '<div class="model-thoughts"><p>more plan</p></div>' +
        '<div class="md"><p>The answer.</p></div>',
    );
    expect(pairs()).toEqual([['Q?', 'The answer.']]);
  });

  it('leaves out citation chips and markers, by name or by shape', () => {
    document.body.innerHTML = chat(
      '<div class="md"><p>Fact one.<span class="citation-pill">wiki</span></p>' +
        '<p>Fact two.<a href="https://example.org/a">[2]</a></p>' +
        '<p>Fact three.<a href="https://www.example.org/b">example.org</a></p>' +
        '<p>See <a href="https://example.org/guide">the guide</a>.</p></div>',
    );
    expect(pairs()).toEqual([['Q?', 'Fact one.\n\nFact two.\n\nFact three.\n\nSee the guide.']]);
  });

  it("fences code with its language and leaves out the code block's label and buttons", () => {
    document.body.innerHTML = chat(
      '<div class="md"><p>Run:</p><div class="code"><div class="head"><span>bash</span><span role="button">Copy</span></div>' +
        '<pre><code class="language-bash">echo hi\n</code></pre></div></div>',
    );
    expect(pairs()).toEqual([['Q?', 'Run:\n\n```bash\necho hi\n```']]);
  });

  it('leaves out clickable chrome and boxes hidden by utility classes, but not boxes shown at a breakpoint', () => {
    document.body.innerHTML = chat(
      '<div class="md"><div class="cursor-pointer">Thought for 3 seconds</div><p>Shown.</p>' +
        '<p class="invisible">Hover only.</p><p class="hidden">Never.</p><p class="hidden md:block">Desktop.</p></div>',
    );
    expect(pairs()).toEqual([['Q?', 'Shown.\n\nDesktop.']]);
  });

  it('keeps right-to-left text and its order', () => {
    document.body.innerHTML = chat('<div class="md"><p dir="rtl">عاصمة فرنسا هي باريس.</p></div>', 'ما هي عاصمة فرنسا؟');
    expect(pairs()).toEqual([['ما هي عاصمة فرنسا؟', 'عاصمة فرنسا هي باريس.']]);
  });
});

describe('findExchangesByShape: streaming', () => {
  const page = (extra: string, last = '<div class="md"><p>Partial</p></div>') =>
    '<div class="list"><div class="row user"><div class="text">One?</div></div><div class="row assistant"><div class="md"><p>Done.</p></div></div>' +
    `<div class="row user"><div class="text">Two?</div></div><div class="row assistant">${last}</div></div>${extra}`;

  it('sees a visible stop button: the last answer streams', () => {
    document.body.innerHTML = page('<form><textarea></textarea><button aria-label="Stop generating"><svg></svg></button></form>');
    expect(findExchangesByShape(document).map((e) => e.streaming)).toEqual([false, true]);
  });

  it('ignores a hidden stop button and words that merely contain "stop" (desktop)', () => {
    document.body.innerHTML = page('<form><textarea></textarea><button class="stop-btn" hidden>Stop</button><button class="desktop-only">Send</button></form>');
    expect(findExchangesByShape(document).map((e) => e.streaming)).toEqual([false, false]);
  });

  it('sees streaming markers on the answer itself: aria-busy, data-streaming, a streaming class', () => {
    for (const last of [
      '<div class="md" aria-busy="true"><p>Partial</p></div>',
      '<div class="md" data-streaming="true"><p>Partial</p></div>',
      '<div class="md result-streaming"><p>Partial</p></div>',
    ]) {
      document.body.innerHTML = page('', last);
      expect(findExchangesByShape(document).map((e) => e.streaming), last).toEqual([false, true]);
    }
  });
});

describe('wordsOf', () => {
  it('splits class names, tags and values into words at punctuation and case changes', () => {
    expect(wordsOf('Message_botMessageBubble__aYctV')).toEqual(['message', 'bot', 'message', 'bubble', 'a', 'yct', 'v']);
    expect(wordsOf('group/user-message items-end')).toEqual(['group', 'user', 'message', 'items', 'end']);
  });
});
