// Streaming conversion from a hub as it will run against huggingface.co: the test hub answers
// `resolve` URLs of weight files with a 302 to a second origin (the Xet CDN), weights are read
// with Range requests there, signed links expire mid-conversion, the network drops a request,
// the person cancels. The result is byte-identical to converting the same files from disk.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { convertCheckpoint, ConversionError, hubRepoFiles, inspectCheckpoint, type ConversionProgress, type FetchLike } from '../../../../model/convert/index';
import { FolderSink, localFolderFiles } from '../../../../model/convert/node';
import { startHubServer, type HubServer } from '../../../support/hub-server';
import { conversionCache, FIXTURES } from './fixtures';

let hub: HubServer;
const cache = conversionCache();
const out = (name: string) => join(cache.root, name);

beforeAll(async () => {
  hub = await startHubServer({
    repos: {
      'fixtures/qwen2-sharded': join(FIXTURES, 'qwen2', 'sharded'),
      'fixtures/tinyllama-bin': join(FIXTURES, 'tinyllama', 'bin'),
      'fixtures/tinyllama-tokenizer': join(FIXTURES, 'tinyllama', 'tokenizer-base'),
    },
    redirectFilesFrom: 4096, // weight files go through the CDN, config files are served directly
  });
});
afterAll(async () => {
  await hub.close();
  cache.cleanup();
});

const hubFiles = (repo: string, fetchImpl?: FetchLike) => hubRepoFiles({ host: `${hub.url}/`, repo, fetch: fetchImpl });
const data = (folder: string, file = 'model.onnx_data') => readFileSync(join(folder, 'onnx', file));

describe('conversion from a hub with a CDN redirect', () => {
  it('reads only byte ranges from the CDN and writes what a local conversion writes', async () => {
    const hubBefore = hub.requests.length;
    const cdnBefore = hub.cdn!.requests.length;
    const updates: ConversionProgress[] = [];
    const result = await convertCheckpoint({
      files: hubFiles('fixtures/qwen2-sharded'),
      sink: new FolderSink(out('hub-qwen2')),
      dtype: 'q4',
      sourceLabel: 'fixture/qwen2',
      onProgress: (p) => updates.push(p),
    });
    const local = await cache.convert('qwen2', 'sharded', 'q4');
    expect(Buffer.compare(data(out('hub-qwen2'), 'model_q4.onnx_data'), data(local.folder, 'model_q4.onnx_data'))).toBe(0);
    expect(readFileSync(join(out('hub-qwen2'), 'onnx', 'model_q4.onnx'))).toEqual(readFileSync(local.modelPath));

    const cdn = hub.cdn!.requests.slice(cdnBefore).filter((r) => r.method === 'GET' && r.url.endsWith('.safetensors'));
    expect(cdn.length).toBeGreaterThan(10);
    // Every weight read is a range, answered 206, never a whole shard.
    for (const request of cdn) {
      expect(request.range).toMatch(/^bytes=\d+-\d+$/);
      expect(request.status).toBe(206);
      const [start, end] = request.range!.slice(6).split('-').map(Number);
      expect(end! - start! + 1).toBeLessThan(statSync(join(FIXTURES, 'qwen2', 'sharded', request.url.split('/').pop()!)).size);
    }
    // The hub resolved each shard once; later reads went straight to the CDN URL.
    const resolves = hub.requests.slice(hubBefore).filter((r) => r.url.endsWith('.safetensors'));
    expect(resolves.map((r) => r.url).sort()).toEqual([1, 2, 3].map((i) => `/fixtures/qwen2-sharded/resolve/main/model-0000${i}-of-00003.safetensors`));

    // Progress: bytes only grow, and end at the total; tensors counted to the end; a time estimate.
    const converting = updates.filter((p) => p.phase === 'converting');
    for (let i = 1; i < updates.length; i++) expect(updates[i]!.bytesRead).toBeGreaterThanOrEqual(updates[i - 1]!.bytesRead);
    const last = updates.at(-1)!;
    expect(last.phase).toBe('done');
    expect(last.bytesRead).toBe(last.bytesTotal);
    expect(last.tensorsDone).toBe(last.tensorsTotal);
    expect(result.bytesRead).toBe(last.bytesTotal);
    expect(converting.length).toBeGreaterThan(0);
  });

  it('re-resolves expired CDN links, retries a dropped request and a body cut halfway', async () => {
    let cdnReads = 0;
    let dropped = false;
    let cut = false;
    const flaky: FetchLike = async (input, init) => {
      if (input.startsWith(hub.cdn!.url)) {
        cdnReads += 1;
        if (cdnReads === 5) hub.expireCdnLinks(); // links handed out so far now answer 403
        if (cdnReads === 9 && !dropped) {
          dropped = true;
          throw new TypeError('fetch failed');
        }
        const response = await fetch(input, init);
        const length = Number(response.headers.get('Content-Length'));
        if (!cut && response.status === 206 && length > 2000) {
          // The connection breaks after half the body has arrived.
          cut = true;
          const reader = response.body!.getReader();
          let sent = 0;
          const body = new ReadableStream<Uint8Array>({
            async pull(controller) {
              const { done, value } = await reader.read();
              if (done || sent + value.length > length / 2) return controller.error(new TypeError('terminated'));
              sent += value.length;
              controller.enqueue(value);
            },
          });
          return new Response(body, { status: 206, headers: response.headers });
        }
        return response;
      }
      return fetch(input, init);
    };
    const cdnBefore = hub.cdn!.requests.length;
    const updates: ConversionProgress[] = [];
    await convertCheckpoint({
      files: hubFiles('fixtures/qwen2-sharded', flaky),
      sink: new FolderSink(out('hub-flaky')),
      dtype: 'q4',
      sourceLabel: 'fixture/qwen2',
      onProgress: (p) => updates.push(p),
    });
    expect(dropped).toBe(true);
    expect(cut).toBe(true);
    // Progress neither goes back nor counts the retried bytes twice.
    for (let i = 1; i < updates.length; i++) expect(updates[i]!.bytesRead).toBeGreaterThanOrEqual(updates[i - 1]!.bytesRead);
    expect(updates.at(-1)!.bytesRead).toBe(updates.at(-1)!.bytesTotal);
    expect(hub.cdn!.requests.slice(cdnBefore).some((r) => r.status === 403)).toBe(true);
    const local = await cache.convert('qwen2', 'sharded', 'q4');
    expect(Buffer.compare(data(out('hub-flaky'), 'model_q4.onnx_data'), data(local.folder, 'model_q4.onnx_data'))).toBe(0);
  });

  it('converts a .bin over ranges, with the tokenizer from another hub repo', async () => {
    await convertCheckpoint({
      files: hubFiles('fixtures/tinyllama-bin'),
      tokenizerFrom: hubFiles('fixtures/tinyllama-tokenizer'),
      sink: new FolderSink(out('hub-bin')),
      dtype: 'fp32',
      sourceLabel: 'fixture/tinyllama',
    });
    const local = await cache.convert('tinyllama', 'bin', 'fp32');
    expect(Buffer.compare(data(out('hub-bin')), data(local.folder))).toBe(0);
    expect(readFileSync(join(out('hub-bin'), 'tokenizer.json'))).toEqual(readFileSync(join(local.folder, 'tokenizer.json')));
  });

  it('stops when cancelled and leaves nothing behind', async () => {
    const controller = new AbortController();
    const target = out('hub-cancelled');
    const error = await convertCheckpoint({
      files: hubFiles('fixtures/qwen2-sharded'),
      sink: new FolderSink(target),
      dtype: 'fp32',
      signal: controller.signal,
      onProgress: (p) => p.phase === 'converting' && p.tensorsDone >= 3 && controller.abort(),
    }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ConversionError);
    expect((error as ConversionError).code).toBe('aborted');
    expect(existsSync(target)).toBe(false);
    expect(readdirSync(cache.root).filter((name) => name.includes('hub-cancelled'))).toEqual([]);
  });

  it('says what is missing', async () => {
    const error = (await convertCheckpoint({ files: hubFiles('fixtures/not-there'), sink: new FolderSink(out('x')), dtype: 'q4' }).catch((e: unknown) => e)) as ConversionError;
    expect(error.code).toBe('missing-file');
    expect(error.message).toMatch(/fixtures\/not-there on http:\/\/127\.0\.0\.1:\d+\/ has no config\.json/);
  });

  it('a repo the hub refuses (gated, private) fails at once with what to do, not after retries', async () => {
    let requests = 0;
    const refusing: FetchLike = async () => {
      requests += 1;
      return new Response('Access to model owner/gated is restricted.', { status: 401 });
    };
    const error = (await convertCheckpoint({ files: hubFiles('owner/gated', refusing), sink: new FolderSink(out('gated')), dtype: 'q4' }).catch((e: unknown) => e)) as ConversionError;
    expect(error.code).toBe('access-denied');
    expect(error.message).toMatch(/HTTP 401.*gated \(accept its terms on the hub first\)/);
    expect(requests).toBe(1);
  });

  it('inspects a repository without downloading its weights', async () => {
    const cdnBefore = hub.cdn!.requests.length;
    const summary = await inspectCheckpoint(hubFiles('fixtures/qwen2-sharded'));
    expect(summary).toMatchObject({ architecture: 'qwen2', format: 'safetensors-sharded', hasTokenizer: true });
    expect(summary.parameters).toBe(62528);
    expect(summary.downloadBytes).toBe(62528 * 2);
    expect(summary.outputBytes.q4).toBeLessThan(summary.outputBytes.fp16);
    expect(summary.outputBytes.fp16).toBeLessThan(summary.outputBytes.fp32);
    // Only headers: a few small ranges per shard.
    const bytes = hub.cdn!.requests.slice(cdnBefore).reduce((sum, r) => {
      const [start, end] = (r.range ?? 'bytes=0-0').slice(6).split('-').map(Number);
      return sum + end! - start! + 1;
    }, 0);
    expect(bytes).toBeLessThan(8192);
  });
});

describe('the tokenizer', () => {
  it('refuses a repo without tokenizer.json unless a fallback is named, then checks the vocabulary', async () => {
    const files = localFolderFiles(join(FIXTURES, 'tinyllama', 'bin'));
    const missing = (await convertCheckpoint({ files, sink: new FolderSink(out('tok-1')), dtype: 'q4' }).catch((e: unknown) => e)) as ConversionError;
    expect(missing.code).toBe('tokenizer-missing');
    expect(missing.message).toMatch(/has no tokenizer\.json.*263 embedding rows.*--tokenizer-from <repo or folder>/);

    // The Llama fixture's tokenizer has 275 tokens: not this model's vocabulary.
    const wrong = (await convertCheckpoint({ files, tokenizerFrom: localFolderFiles(join(FIXTURES, 'llama', 'safetensors')), sink: new FolderSink(out('tok-2')), dtype: 'q4' }).catch(
      (e: unknown) => e,
    )) as ConversionError;
    expect(wrong.code).toBe('vocab-mismatch');
    expect(wrong.message).toMatch(/has 275 tokens but .* embedding has 263 rows/);
    expect(existsSync(out('tok-2'))).toBe(false);
  });

  it("keeps the official Aligner's shape: an added pad token as the last embedding row", async () => {
    const { folder } = await cache.convert('llama', 'safetensors', 'q4');
    const tokenizer = JSON.parse(readFileSync(join(folder, 'tokenizer.json'), 'utf8'));
    expect(tokenizer.added_tokens.at(-1)).toMatchObject({ id: 274, content: '<pad>' });
    expect(JSON.parse(readFileSync(join(folder, 'config.json'), 'utf8')).vocab_size).toBe(275);
  });
});
