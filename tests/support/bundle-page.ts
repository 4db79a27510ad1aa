import { cpSync, mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { build } from 'esbuild';
import { ORT_WASM_FILES } from '../../utils/build-constants';

/**
 * A plain page (no extension) that runs `entry` bundled for the browser, with ONNX Runtime's wasm
 * files beside it in ort/: `<folder>/<name>.html`. Returns the folder, to serve with the hub server.
 */
export async function bundlePage(entry: string, name: string): Promise<string> {
  const folder = mkdtempSync(join(tmpdir(), `realign-${name}-page-`));
  mkdirSync(join(folder, 'ort'), { recursive: true });
  const bundle = await build({
    entryPoints: [resolve(entry)],
    bundle: true,
    format: 'esm',
    platform: 'browser',
    target: 'es2022',
    write: false,
    logLevel: 'silent',
    // Node-only modules some entries import behind a runtime check.
    external: ['onnxruntime-node', 'sharp', 'node:*'],
  });
  writeFileSync(join(folder, `${name}.js`), bundle.outputFiles[0]!.text);
  writeFileSync(join(folder, `${name}.html`), `<!doctype html><meta charset="utf-8"><title>${name}</title><script type="module" src="${name}.js"></script>`);
  for (const file of ORT_WASM_FILES) cpSync(resolve('node_modules/onnxruntime-web/dist', file), join(folder, 'ort', file));
  return folder;
}
