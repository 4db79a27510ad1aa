import { describe, expect, test } from 'vitest';
import { classifySender, senderAllowed } from '../../../utils/sender-policy';

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
    for (const name of ['port:correct', 'pageConfig', 'setSiteView', 'pageHealth'] as const) expect(senderAllowed(name, content, self), name).toBe(true);
    for (const name of ['saveSettings', 'testRemote', 'setCustomSite', 'clearModels', 'loadModel', 'modelStorage', 'realignInTab', 'port:engine-host'] as const) {
      expect(senderAllowed(name, content, self), name).toBe(false);
      if (name !== 'port:engine-host') expect(senderAllowed(name, page, self), name).toBe(true);
    }
    // Extension pages do not correct through the content port, nor pose as the engine.
    expect(senderAllowed('port:correct', page, self)).toBe(false);
    expect(senderAllowed('port:engine-host', page, self)).toBe(false);
    expect(senderAllowed('port:engine-host', { id: 'abc', url: 'chrome-extension://abc/offscreen.html' }, self)).toBe(true);
  });
});
