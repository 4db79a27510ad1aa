/** Origins of the local demo chat page; only the `demo` (npm start) and `test` builds match them. */
export const DEMO_MATCHES = ['http://127.0.0.1/*', 'http://localhost/*'];

/**
 * ONNX Runtime Web files that transformers.js loads (its `onnxruntime-web/webgpu` entry uses the
 * asyncify build for both the WebGPU and WASM providers). Copied into `ort/` of the package.
 */
export const ORT_WASM_FILES = ['ort-wasm-simd-threaded.asyncify.mjs', 'ort-wasm-simd-threaded.asyncify.wasm'];

/** The keyboard command that realigns the selected answer, and the key the manifest suggests. */
export const REALIGN_COMMAND = 'realign-selection';
export const REALIGN_SHORTCUT = 'Alt+Shift+K';

/**
 * The demo build (`npm start`) and the test build (the e2e tests: the demo build plus a test
 * hook in the content script) run on the local demo page with the tiny Aligner.
 */
export function isDemoBuild(mode: string | undefined): boolean {
  return mode === 'demo' || mode === 'e2e';
}

/** What the Firefox sources zip holds: the folders and files `npm ci && npx wxt build -b firefox` reads. */
export const SOURCE_FOLDERS = ['assets', 'components', 'entrypoints', 'model', 'public', 'sites', 'utils'];
export const SOURCE_FILES = ['package.json', 'package-lock.json', 'tsconfig.json', 'wxt.config.ts', 'README.md', 'PRIVACY.md'];
