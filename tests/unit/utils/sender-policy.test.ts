import { describe, expect, test } from 'vitest';
import * as v from 'valibot';
import { BACKGROUND_MESSAGE_DATA } from '../../../utils/messaging';
import { classifySender, SENDER_POLICY, senderAllowed, type PolicyName } from '../../../utils/sender-policy';
import { PRIVILEGED_ATTEMPTS } from '../../support/privileged';

const self = { id: 'abc', baseUrl: 'chrome-extension://abc/' };

describe('who may send what', () => {
  test('senders are told apart by URL and tab, not by the extension id they all carry', () => {
    expect(classifySender({ id: 'abc', url: 'https://chatgpt.com/c/1', tab: { id: 4 } }, self)).toBe('content');
    expect(classifySender({ id: 'abc', url: 'chrome-extension://abc/popup.html?tab=4' }, self)).toBe('extension-page');
    // The popup opened in a tab is still an extension page.
    expect(classifySender({ id: 'abc', url: 'chrome-extension://abc/options.html', tab: { id: 9 } }, self)).toBe('extension-page');
    expect(classifySender({ id: 'abc', url: 'chrome-extension://abc/offscreen.html' }, self)).toBe('engine-page');
    expect(classifySender({ id: 'abc', url: 'chrome-extension://abc/background.js' }, self)).toBe('background');
    // Another extension, or no tab and no page of ours: nobody.
    expect(classifySender({ id: 'evil', url: 'chrome-extension://abc/popup.html' }, self)).toBeNull();
    expect(classifySender({ id: 'abc', url: 'https://chatgpt.com/' }, self)).toBeNull();
    expect(classifySender(undefined, self)).toBeNull();
  });

  test('content scripts may ask for corrections and their site\'s settings, nothing privileged', () => {
    const content = { id: 'abc', url: 'https://chatgpt.com/', tab: { id: 1 } };
    const page = { id: 'abc', url: 'chrome-extension://abc/options.html' };
    const names = Object.keys(SENDER_POLICY) as PolicyName[];
    // The whole of what a page's script can reach: a new entry here is a decision to review.
    expect(names.filter((name) => senderAllowed(name, content, self)).sort()).toEqual(['pageConfig', 'pageHealth', 'port:correct', 'setSiteView']);
    for (const name of Object.keys(BACKGROUND_MESSAGE_DATA) as (keyof typeof BACKGROUND_MESSAGE_DATA)[]) {
      if (!senderAllowed(name, content, self)) expect(senderAllowed(name, page, self), name).toBe(true);
    }
    // Extension pages do not correct through the content port, nor pose as the engine.
    expect(senderAllowed('port:correct', page, self)).toBe(false);
    expect(senderAllowed('port:engine-host', page, self)).toBe(false);
    expect(senderAllowed('port:engine-host', content, self)).toBe(false);
    expect(senderAllowed('port:engine-host', { id: 'abc', url: 'chrome-extension://abc/offscreen.html' }, self)).toBe(true);
  });

  test('the e2e suites try every privileged request, each well-formed (so only the sender check can refuse it)', () => {
    const content = { id: 'abc', url: 'https://chatgpt.com/', tab: { id: 1 } };
    const privileged = (Object.keys(BACKGROUND_MESSAGE_DATA) as (keyof typeof BACKGROUND_MESSAGE_DATA)[]).filter((name) => !senderAllowed(name, content, self));
    expect(PRIVILEGED_ATTEMPTS.map(([name]) => name).sort()).toEqual(privileged.sort());
    for (const [name, data] of PRIVILEGED_ATTEMPTS) expect(v.safeParse(BACKGROUND_MESSAGE_DATA[name], data).success, name).toBe(true);
  });
});
