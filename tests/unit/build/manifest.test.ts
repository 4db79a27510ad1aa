import { describe, expect, test } from 'vitest';
import config from '../../../wxt.config';

type Manifest = Record<string, unknown>;
const manifestFor = (browser: string, mode: string): Manifest =>
  (config.manifest as (env: { browser: string; mode: string; manifestVersion: 3; command: 'build' }) => Manifest)({ browser, mode, manifestVersion: 3, command: 'build' });

describe('manifest (issue 12)', () => {
  test('Chrome builds require Chrome 116 (offscreen documents are found with runtime.getContexts)', () => {
    for (const mode of ['production', 'demo']) expect(manifestFor('chrome', mode).minimum_chrome_version).toBe('116');
  });

  test('Firefox builds keep their own minimum and carry no Chrome key', () => {
    const firefox = manifestFor('firefox', 'production');
    expect(firefox.minimum_chrome_version).toBeUndefined();
    expect(firefox).toMatchObject({ browser_specific_settings: { gecko: { strict_min_version: '128.0' } } });
  });
});
