/**
 * Sizes of the production Chrome build's bundles, gzipped, and a check that the content script
 * (injected into every chat page) carries no model runtime. Needs `npm run build:test`.
 */
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';

type Result = { name: string; value: number; unit: string; budget?: string; note?: string };

const BUILD = '.output/chrome-mv3';

function files(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    return statSync(path).isDirectory() ? files(path) : [path];
  });
}

const gz = (path: string) => gzipSync(readFileSync(path), { level: 9 }).length;
const kb = (bytes: number) => +(bytes / 1024).toFixed(1);

export default async function run(): Promise<Result[]> {
  const all = files(BUILD);
  const group = (test: (path: string) => boolean) => all.filter(test).reduce((sum, path) => sum + gz(path), 0);
  const content = join(BUILD, 'content-scripts/content.js');
  const contentText = readFileSync(content, 'utf8');
  const runtimeInside = /InferenceSession|onnxruntime|AutoModelForCausalLM/.test(contentText);
  return [
    { name: 'content script (gzipped)', value: kb(gz(content)), unit: 'KB', budget: '< 60', note: `${kb(statSync(content).size)} KB raw` },
    { name: 'content script carries a model runtime', value: runtimeInside ? 1 : 0, unit: 'bool', budget: '0' },
    { name: 'background (gzipped)', value: kb(gz(join(BUILD, 'background.js'))), unit: 'KB' },
    { name: 'offscreen engine page JS (gzipped)', value: kb(group((p) => /chunks\/offscreen-/.test(p))), unit: 'KB' },
    { name: 'popup JS (gzipped)', value: kb(group((p) => /chunks\/popup-/.test(p))), unit: 'KB' },
    { name: 'options JS (gzipped)', value: kb(group((p) => /chunks\/options-/.test(p))), unit: 'KB' },
    { name: 'ONNX Runtime wasm (raw)', value: kb(statSync(join(BUILD, 'ort/ort-wasm-simd-threaded.asyncify.wasm')).size), unit: 'KB' },
    { name: 'whole package (raw)', value: kb(all.reduce((sum, path) => sum + statSync(path).size, 0)), unit: 'KB' },
  ];
}
