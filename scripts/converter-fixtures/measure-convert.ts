// One conversion in a fresh process, reporting its time and peak memory as JSON on stdout:
//   node --import tsx scripts/converter-fixtures/measure-convert.ts <model folder> <out folder> <dtype>
// (the convert bench runs it; also used by hand on the real-shape checkpoints).
import { rmSync } from 'node:fs';
import { convertCheckpoint, isTargetDtype } from '../../model/convert/index';
import { FolderSink, localFolderFiles } from '../../model/convert/node';

const [model, out, dtype] = process.argv.slice(2);
if (!model || !out || !dtype || !isTargetDtype(dtype)) {
  console.error('usage: measure-convert.ts <model folder> <out folder> <dtype>');
  process.exit(2);
}
rmSync(out, { recursive: true, force: true });
const baselineRss = process.memoryUsage().rss;
let peakRss = baselineRss;
const sampler = setInterval(() => (peakRss = Math.max(peakRss, process.memoryUsage().rss)), 50);
const started = performance.now();
const result = await convertCheckpoint({
  files: localFolderFiles(model),
  sink: new FolderSink(out),
  dtype,
  onProgress: (p) => {
    peakRss = Math.max(peakRss, process.memoryUsage().rss);
    if (process.env.PROGRESS) process.stderr.write(`\r${(p.bytesRead / 1e6).toFixed(0)}/${(p.bytesTotal / 1e6).toFixed(0)} MB ${p.tensorsDone}/${p.tensorsTotal}`);
  },
});
const ms = performance.now() - started;
clearInterval(sampler);
console.log(
  JSON.stringify({
    ms: Math.round(ms),
    bytesRead: result.bytesRead,
    bytesWritten: result.files.reduce((sum, f) => sum + f.size, 0),
    files: result.files,
    baselineRssMB: Math.round(baselineRss / 1e6),
    peakRssMB: Math.round(peakRss / 1e6),
    maxRssMB: Math.round((process.resourceUsage().maxRSS * 1024) / 1e6),
  }),
);
