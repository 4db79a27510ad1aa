import { readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { expect, test } from 'vitest';

/**
 * `model/` is the engine: it runs in Node (the CLI) as well as in extension pages, so nothing it
 * loads, directly or through what it imports, may touch a browser-extension API.
 */
const ROOT = resolve(__dirname, '../../..');
const EXTENSION_MODULES = /^(wxt\/browser|wxt\/utils\/storage|#imports|webextension-polyfill|@webext-core\/|@wxt-dev\/)/;
// A global `browser.*` / `chrome.*` (WXT auto-imports `browser` where nothing imports it).
const EXTENSION_GLOBALS = /(?<![\w.$'"`])(browser|chrome)\.(runtime|storage|tabs|offscreen|permissions|scripting|action|commands|i18n)\b/;

function filesUnder(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    return statSync(path).isDirectory() ? filesUnder(path) : /\.tsx?$/.test(name) ? [path] : [];
  });
}

/** The modules a file loads at run time (`import type` and `export type` load nothing). */
function runtimeImports(source: string): string[] {
  const specifiers: string[] = [];
  for (const match of source.matchAll(/^\s*(import|export)\s+(?!type\b)[^'"]*?from\s+['"]([^'"]+)['"]|^\s*import\s+['"]([^'"]+)['"]|import\(\s*['"]([^'"]+)['"]\s*\)/gm)) {
    specifiers.push((match[2] ?? match[3] ?? match[4])!);
  }
  return specifiers;
}

function resolveLocal(from: string, specifier: string): string | null {
  if (!specifier.startsWith('.')) return null;
  const base = resolve(dirname(from), specifier);
  for (const candidate of [base, `${base}.ts`, `${base}.tsx`, join(base, 'index.ts')]) {
    try {
      if (statSync(candidate).isFile()) return candidate;
    } catch {
      // Not this one.
    }
  }
  throw new Error(`${relative(ROOT, from)} imports ${specifier}, which does not exist`);
}

test('nothing model/ loads touches a browser-extension API (model/ runs in Node too)', () => {
  const seen = new Set<string>();
  const offences: string[] = [];
  const queue = filesUnder(join(ROOT, 'model'));
  while (queue.length > 0) {
    const file = queue.pop()!;
    if (seen.has(file)) continue;
    seen.add(file);
    const source = readFileSync(file, 'utf8');
    const code = source.replace(/\/\*[\s\S]*?\*\/|\/\/.*$/gm, '');
    for (const specifier of runtimeImports(code)) {
      if (EXTENSION_MODULES.test(specifier)) offences.push(`${relative(ROOT, file)} imports ${specifier}`);
      const local = resolveLocal(file, specifier);
      if (local) queue.push(local);
    }
    const global = EXTENSION_GLOBALS.exec(code);
    if (global) offences.push(`${relative(ROOT, file)} uses ${global[0]}`);
  }
  expect(seen.size).toBeGreaterThan(30);
  expect(offences).toEqual([]);
});

test('the check above sees an extension API where there is one', () => {
  expect(runtimeImports("import { browser } from 'wxt/browser';").filter((s) => EXTENSION_MODULES.test(s))).toEqual(['wxt/browser']);
  expect(runtimeImports("import type { Settings } from '../utils/settings';")).toEqual([]);
  expect(EXTENSION_GLOBALS.test('await browser.storage.local.get(key)')).toBe(true);
  expect(EXTENSION_GLOBALS.test("const text = 'browser.storage';")).toBe(false);
});
