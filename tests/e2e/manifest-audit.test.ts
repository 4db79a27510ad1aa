import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative, resolve } from 'node:path';
import { describe, expect, test } from 'vitest';
import { SITE_MATCHES } from '../../sites/index';
import { DEMO_MATCHES } from '../../utils/build-constants';

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
    expect(contentScript(resolve('.output/chrome-mv3-test'))).toMatch(hookMarkers);
  });
});
