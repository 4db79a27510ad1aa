import { defineConfig } from 'wxt';
import { resolve } from 'node:path';
import { SITE_MATCHES } from './sites/index';
import { DEMO_MATCHES, isDemoBuild, ORT_WASM_FILES, REALIGN_COMMAND, REALIGN_SHORTCUT, SOURCE_FILES, SOURCE_FOLDERS } from './utils/build-constants';

const CHAT_SITE_MATCHES = SITE_MATCHES.filter((pattern) => !DEMO_MATCHES.includes(pattern));

// `--mode demo` is the build that `npm start` and the end-to-end tests load: the production
// build plus the local demo chat page's origins (127.0.0.1 / localhost). Production ships
// host permissions for the chat sites only.
export default defineConfig({
  manifestVersion: 3,
  // `.output/chrome-mv3` (production), `.output/chrome-mv3-demo` (npm start), `.output/chrome-mv3-e2e`, …
  outDirTemplate: '{{browser}}-mv{{manifestVersion}}{{modeSuffix}}',
  manifest: ({ browser, mode }) => {
    const sites = isDemoBuild(mode) ? [...CHAT_SITE_MATCHES, ...DEMO_MATCHES] : CHAT_SITE_MATCHES;
    return {
      // Store listing strings per language: public/_locales/<lang>/messages.json.
      name: '__MSG_extName__',
      description: '__MSG_extDescription__',
      default_locale: 'en',
      action: { default_title: '__MSG_actionTitle__' },
      permissions: [
        'storage',
        'contextMenus',
        // registerContentScripts for sites the user enables by hand (optional host permissions).
        'scripting',
        // The popup learns the current tab's host (to offer "Enable Realign on this site") only when clicked.
        'activeTab',
        ...(browser === 'firefox' ? [] : ['offscreen']),
      ],
      host_permissions: sites,
      // Asked for at the moment a person enables another site or a remote server, never up front.
      optional_host_permissions: ['https://*/*', 'http://*/*'],
      content_security_policy: {
        // WebAssembly for ONNX Runtime; every script and wasm file comes from the package itself.
        extension_pages: "script-src 'self' 'wasm-unsafe-eval'; object-src 'self';",
      },
      commands: {
        // Alt+Shift+R is never assigned by Chromium 156 (commands.getAll() returns it empty);
        // Alt+Shift+K is assigned in Chromium and Firefox alike (tests assert it in both).
        [REALIGN_COMMAND]: {
          suggested_key: { default: REALIGN_SHORTCUT },
          description: '__MSG_commandRealign__',
        },
      },
      ...(browser === 'firefox'
        ? {
            browser_specific_settings: {
              gecko: {
                id: 'realign@realign.dev',
                strict_min_version: '128.0',
                data_collection_permissions: { required: ['none'] },
              },
            },
          }
        : // runtime.getContexts (finding the offscreen document before creating another) came in Chrome 116.
          { minimum_chrome_version: '116' }),
    };
  },
  // The sources zip (Firefox review) holds exactly what rebuilding needs: the code, the config
  // the build reads, the lock file and the instructions; no tests, scripts or local output.
  zip: {
    excludeSources: ['**'],
    includeSources: [...SOURCE_FOLDERS.map((folder) => `${folder}/**`), ...SOURCE_FILES],
  },
  vite: () => ({
    esbuild: { jsx: 'automatic', jsxImportSource: 'preact' },
    // Minified (not obfuscated, as the stores allow): the content script ships to every chat page.
    build: { chunkSizeWarningLimit: 4096, minify: 'esbuild' as const },
    plugins: [noCdnFallback()],
  }),
  hooks: {
    // The content script runs exactly where the extension holds host permissions.
    'build:manifestGenerated': (_wxt, manifest) => {
      for (const script of manifest.content_scripts ?? []) script.matches = manifest.host_permissions ?? script.matches;
    },
    // ONNX Runtime's wasm is loaded from the extension's own files, never a CDN.
    'build:publicAssets': (_wxt, files) => {
      for (const file of ORT_WASM_FILES) {
        files.push({
          absoluteSrc: resolve('node_modules/onnxruntime-web/dist', file),
          relativeDest: `ort/${file}`,
        });
      }
    },
  },
});

/**
 * transformers.js falls back to a public CDN for ONNX Runtime's wasm when no `wasmPaths` is
 * set. Realign always sets them, and an extension may not load remote code, so the fallback
 * is rewritten to the packaged copy: no CDN address ships in the build.
 */
function noCdnFallback() {
  return {
    name: 'realign:no-cdn-fallback',
    transform(code: string, id: string) {
      if (!id.includes('@huggingface/transformers')) return null;
      const replaced = code.replace(
        /`https:\/\/cdn\.jsdelivr\.net\/npm\/onnxruntime-web@\$\{[^}]+\}\/dist\/`/g,
        '"/ort/"',
      );
      return replaced === code ? null : { code: replaced, map: null };
    },
  };
}
