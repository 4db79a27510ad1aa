// @vitest-environment happy-dom
import { describe, expect, it } from 'vitest';
import { SITES, SITE_MATCHES, adapterForUrl } from '../../../sites/index';
import { compile } from '../../../sites/core';
import { matchesPattern } from '../../../sites/registry';
import { DEMO_MATCHES } from '../../../utils/build-constants';

describe('site registry', () => {
  it.each([
    ['https://chatgpt.com/c/1', 'chatgpt'],
    ['https://chat.openai.com/c/1', 'chatgpt'],
    ['https://claude.ai/new', 'claude'],
    ['https://gemini.google.com/app', 'gemini'],
    ['https://copilot.microsoft.com/', 'copilot'],
    ['https://www.perplexity.ai/search/x', 'perplexity'],
    ['https://perplexity.ai/search/x', 'perplexity'],
    ['https://chat.deepseek.com/', 'deepseek'],
    ['https://grok.com/chat/1', 'grok'],
    ['https://chat.mistral.ai/chat', 'mistral'],
    ['https://poe.com/Assistant', 'poe'],
    ['https://huggingface.co/chat', 'huggingchat'],
    ['https://huggingface.co/chat/conversation/1', 'huggingchat'],
    ['https://aistudio.google.com/prompts/new_chat', 'aistudio'],
    ['http://127.0.0.1:8080/demo.html', 'demo'],
    ['http://localhost:3000/', 'demo'],
  ])('%s belongs to %s', (url, id) => {
    expect(adapterForUrl(new URL(url))?.id).toBe(id);
  });

  it.each(['https://huggingface.co/models', 'https://huggingface.co/chatty', 'https://example.com/', 'http://chatgpt.com/'])(
    '%s belongs to no site',
    (url) => {
      expect(adapterForUrl(new URL(url))).toBeUndefined();
    },
  );

  it('claims a local page for the demo only when the demo markers are present', () => {
    const url = new URL('http://localhost:5173/other.html');
    const plain = new DOMParser().parseFromString('<p>hello</p>', 'text/html');
    const demo = new DOMParser().parseFromString('<meta name="realign-demo"><p>hi</p>', 'text/html');
    expect(adapterForUrl(url, plain)).toBeUndefined();
    expect(adapterForUrl(url, demo)?.id).toBe('demo');
  });

  it('lists every pattern of every site once, the demo origins included', () => {
    for (const site of SITES) for (const m of site.matches) expect(SITE_MATCHES).toContain(m);
    expect(new Set(SITE_MATCHES).size).toBe(SITE_MATCHES.length);
    for (const m of DEMO_MATCHES) expect(SITE_MATCHES).toContain(m);
    expect(new Set(SITES.map((s) => s.id)).size).toBe(SITES.length);
  });

  it('every selector of every adapter parses in this DOM engine (none silently dropped)', () => {
    for (const site of SITES) {
      const c = compile(site, document);
      expect(c.user, site.id).toEqual(site.user);
      expect(c.assistant, site.id).toEqual(site.assistant);
      expect(c.answerText, site.id).toEqual(site.answerText ?? []);
      expect(c.strip?.split(', ').length ?? 0, site.id).toBe(site.strip?.length ?? 0);
    }
  });

  it('match patterns ignore ports and honour wildcard subdomains and paths', () => {
    expect(matchesPattern('http://localhost/*', new URL('http://localhost:1234/a?b'))).toBe(true);
    expect(matchesPattern('https://*.example.com/*', new URL('https://a.b.example.com/x'))).toBe(true);
    expect(matchesPattern('https://*.example.com/*', new URL('https://example.com/'))).toBe(true);
    expect(matchesPattern('https://*.example.com/*', new URL('https://badexample.com/'))).toBe(false);
    expect(matchesPattern('https://huggingface.co/chat*', new URL('https://huggingface.co/models'))).toBe(false);
    expect(matchesPattern('not a pattern', new URL('https://a.com/'))).toBe(false);
  });
});
