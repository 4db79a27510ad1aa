import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative, resolve } from 'node:path';
import { describe, expect, test } from 'vitest';
import { SITE_MATCHES } from '../../sites/index';
import { DEMO_MATCHES, SOURCE_FILES, SOURCE_FOLDERS } from '../../utils/build-constants';
import { execFileSync } from 'node:child_process';

// Audits the PRODUCTION packages (`npx wxt build && npx wxt build -b firefox`), the ones that
// go to the stores: what they ask for, what they may load, and what code they carry.

const BUILDS = [
  { browser: 'chrome', dir: resolve('.output/chrome-mv3') },
  { browser: 'firefox', dir: resolve('.output/firefox-mv3') },
] as const;

const CHAT_SITES = SITE_MATCHES.filter((pattern) => !DEMO_MATCHES.includes(pattern));
const BASE_PERMISSIONS = ['storage', 'contextMenus', 'scripting', 'activeTab'];

interface Manifest {
  permissions?: string[];
  host_permissions?: string[];
  optional_host_permissions?: string[];
  content_scripts?: Array<{ matches: string[]; js?: string[] }>;
  content_security_policy?: { extension_pages?: string; sandbox?: string };
  externally_connectable?: unknown;
  web_accessible_resources?: unknown;
  browser_specific_settings?: { gecko?: { id?: string } };
}

function readManifest(dir: string): Manifest {
  const file = join(dir, 'manifest.json');
  if (!existsSync(file)) throw new Error(`No production build at ${dir}: run \`npx wxt build && npx wxt build -b firefox\` first.`);
  return JSON.parse(readFileSync(file, 'utf8')) as Manifest;
}

function filesUnder(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    return statSync(path).isDirectory() ? filesUnder(path) : [path];
  });
}

const CODE = /\.(m?js|html|css|json)$/;
const CDN = /cdn\.jsdelivr\.net|unpkg\.com|cdnjs\.cloudflare\.com|cdnjs\.com|esm\.sh|esm\.run|skypack\.dev|jspm\.io|fonts\.googleapis\.com|fonts\.gstatic\.com|ajax\.googleapis\.com/;
const DYNAMIC_CODE = /\beval\s*\(|\bnew\s+Function\b/g;

/**
 * The one dynamic-code site ONNX Runtime's Emscripten glue (embind's emval method caller) has:
 * `new Function(Object.keys(x), "return function (handle, methodName, destructorsRef, args) {…")`,
 * with `emval_returnValue` just before it and the `methodCaller<…>` name just after.
 * Anything else that evaluates strings is a finding.
 */
function isOrtEmbindMethodCaller(code: string, at: number): boolean {
  const before = code.slice(Math.max(0, at - 400), at);
  const after = code.slice(at, at + 250);
  return (
    /^new\s+Function\(Object\.keys\(\w+\),\s*\w+\)/.test(after) &&
    before.includes('emval_returnValue') &&
    before.includes('return function (handle, methodName, destructorsRef, args)') &&
    /methodCaller</.test(after)
  );
}

describe.each(BUILDS)('production manifest and package: $browser', ({ browser, dir }) => {
  const manifest = readManifest(dir);

  test('asks for exactly the permissions it uses (offscreen on Chrome only)', () => {
    const expected = browser === 'chrome' ? [...BASE_PERMISSIONS, 'offscreen'] : BASE_PERMISSIONS;
    expect([...(manifest.permissions ?? [])].sort()).toEqual([...expected].sort());
  });

  test('host permissions are exactly the supported chat sites, and the content script runs only there', () => {
    expect(CHAT_SITES.length).toBeGreaterThan(5);
    expect(manifest.host_permissions).toEqual(CHAT_SITES);
    expect(manifest.content_scripts?.length).toBe(1);
    for (const script of manifest.content_scripts ?? []) expect(script.matches).toEqual(manifest.host_permissions);
  });

  test('no local (demo or test) origin anywhere in the manifest', () => {
    const text = JSON.stringify(manifest);
    expect(text).not.toMatch(/127\.0\.0\.1|localhost|\[::1\]/);
  });

  test('extension pages may run only the package\'s own scripts (plus WebAssembly), no remote source', () => {
    const csp = manifest.content_security_policy?.extension_pages;
    expect(csp).toBe("script-src 'self' 'wasm-unsafe-eval'; object-src 'self';");
    expect(csp).not.toMatch(/https?:|\*|'unsafe-eval'|'unsafe-inline'/);
    expect(manifest.content_security_policy?.sandbox).toBeUndefined();
  });

  test('web pages cannot reach the extension: no externally_connectable, no web-accessible resources', () => {
    expect(manifest.externally_connectable).toBeUndefined();
    expect(manifest.web_accessible_resources).toBeUndefined();
  });

  test('Firefox has a fixed add-on id', () => {
    if (browser === 'firefox') expect(manifest.browser_specific_settings?.gecko?.id).toMatch(/^[\w.-]+@[\w.-]+$/);
    else expect(manifest.browser_specific_settings).toBeUndefined();
  });

  test('no file in the package points at a CDN', () => {
    const offenders = filesUnder(dir)
      .filter((file) => CODE.test(file))
      .filter((file) => CDN.test(readFileSync(file, 'utf8')))
      .map((file) => relative(dir, file));
    expect(offenders).toEqual([]);
  });

  test('no eval or new Function except ONNX Runtime\'s Emscripten method caller', () => {
    const findings: string[] = [];
    let ortGlueSites = 0;
    for (const file of filesUnder(dir).filter((f) => /\.(m?js|html)$/.test(f))) {
      const code = readFileSync(file, 'utf8');
      const name = relative(dir, file);
      for (const match of code.matchAll(DYNAMIC_CODE)) {
        const inOrtGlue = (name.startsWith('ort/') || name.startsWith('chunks/')) && isOrtEmbindMethodCaller(code, match.index!);
        if (inOrtGlue) ortGlueSites += 1;
        else findings.push(`${name}@${match.index}: …${code.slice(Math.max(0, match.index! - 60), match.index! + 60)}…`);
      }
    }
    expect(findings).toEqual([]);
    // The allowance above is really used (the markers still match the shipped glue): the ort/
    // module, and on Chrome the copy bundled into the offscreen document's chunk.
    expect(ortGlueSites).toBeGreaterThanOrEqual(1);
  });

  test('the content script carries no model runtime', () => {
    const scripts = (manifest.content_scripts ?? []).flatMap((script) => script.js ?? []);
    expect(scripts.length).toBeGreaterThan(0);
    for (const script of scripts) {
      const code = readFileSync(join(dir, script), 'utf8');
      expect(code).not.toMatch(/InferenceSession|onnxruntime|@huggingface\/transformers|\.wasm\b/);
    }
  });
});

describe('the test hook ships only in the test build', () => {
  // Strings only the hook module has (the message name itself is part of the one message table).
  const hookMarkers = /__realignTest|bodyHtml/;
  const contentScript = (dir: string) => readFileSync(join(dir, 'content-scripts/content.js'), 'utf8');

  test.each([
    ['production Chrome', '.output/chrome-mv3'],
    ['production Firefox', '.output/firefox-mv3'],
    ['demo (npm start)', '.output/chrome-mv3-demo'],
  ])('%s: no test hook in the content script', (_name, dir) => {
    expect(contentScript(resolve(dir))).not.toMatch(hookMarkers);
  });

  test('the test build does carry it (so the check above can fail)', () => {
    expect(contentScript(resolve('.output/chrome-mv3-e2e'))).toMatch(hookMarkers);
  });
});

describe('store readiness', () => {
  const locales = resolve('.output/chrome-mv3/_locales');
  const english = JSON.parse(readFileSync(join(locales, 'en/messages.json'), 'utf8')) as Record<string, { message: string }>;

  test('the manifest is localised: English by default and at least one more language, each with every string', () => {
    const manifest = readManifest(resolve('.output/chrome-mv3'));
    expect((manifest as { default_locale?: string }).default_locale).toBe('en');
    const languages = readdirSync(locales);
    expect(languages).toContain('en');
    expect(languages.length).toBeGreaterThanOrEqual(2);
    for (const language of languages) {
      const messages = JSON.parse(readFileSync(join(locales, language, 'messages.json'), 'utf8')) as Record<string, { message: string }>;
      expect(Object.keys(messages).sort(), language).toEqual(Object.keys(english).sort());
      // The Chrome Web Store takes at most 132 characters of description.
      expect(messages.extDescription!.message.length, language).toBeLessThanOrEqual(132);
    }
    // Every __MSG_…__ the manifest names exists.
    const used = [...JSON.stringify(manifest).matchAll(/__MSG_(\w+)__/g)].map((match) => match[1]!);
    expect(used.length).toBeGreaterThan(0);
    for (const key of used) expect(english[key], key).toBeDefined();
  });

  test('icons at 16, 32, 48 and 128 px', () => {
    const manifest = readManifest(resolve('.output/chrome-mv3')) as { icons?: Record<string, string> };
    expect(Object.keys(manifest.icons ?? {}).sort()).toEqual(['128', '16', '32', '48']);
    for (const [size, file] of Object.entries(manifest.icons!)) {
      const png = readFileSync(join(resolve('.output/chrome-mv3'), file));
      // PNG width and height, big-endian at bytes 16 and 20.
      expect([png.readUInt32BE(16), png.readUInt32BE(20)]).toEqual([Number(size), Number(size)]);
    }
  });

  test('Chrome needs 116 or later (offscreen getContexts); Firefox 128 or later', () => {
    expect((readManifest(resolve('.output/chrome-mv3')) as { minimum_chrome_version?: string }).minimum_chrome_version).toBe('116');
    expect(readManifest(resolve('.output/firefox-mv3')).browser_specific_settings?.gecko).toMatchObject({ strict_min_version: '128.0' });
  });
});

describe('the sources zip (Firefox review)', () => {
  test('holds exactly what rebuilding needs: every tracked file of the code folders, the build config and the lock file', async () => {
    const { default: JSZip } = await import('jszip');
    const zips = readdirSync(resolve('.output')).filter((name) => name.endsWith('-sources.zip'));
    expect(zips).toHaveLength(1);
    const zip = await JSZip.loadAsync(readFileSync(resolve('.output', zips[0]!)));
    const inZip = Object.values(zip.files).filter((entry) => !entry.dir).map((entry) => entry.name).sort();
    const tracked = execFileSync('git', ['ls-files'], { encoding: 'utf8' }).split('\n').filter(Boolean);
    const expected = tracked.filter((file) => SOURCE_FOLDERS.some((folder) => file.startsWith(`${folder}/`)) || SOURCE_FILES.includes(file)).sort();
    expect(inZip).toEqual(expected);
    for (const file of ['wxt.config.ts', 'package-lock.json', 'entrypoints/background/index.ts']) expect(inZip).toContain(file);
    expect(inZip.filter((file) => /^(tests|scripts|screenshots|test-results|node_modules|\.output)\//.test(file) || file.startsWith('bench-results'))).toEqual([]);
  });
});
