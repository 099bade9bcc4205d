// ONNX Runtime baseline for `inferd bench`: runs a graph from export_onnx.py on the same inputs and prints the
// same JSON line. Fixed-length batches use the same synthetic ids as inferd; --texts batches are tokenized with
// the model's tokenizer.json (transformers.js) and padded to their longest member, as a padded engine needs.
// With --compare OTHER it measures nothing: it runs the first --count sequences (default 64) through both graphs,
// one sequence per run so that no padding enters int8's per-tensor activation ranges, and prints the lowest and
// median cosine between the two graphs' pooled outputs (e.g. int8.onnx against standard.onnx).
//
//   node ort_bench.mjs --modules DIR/node_modules --model MODEL_DIR --onnx FILE [--batch N]
//        [--seq-len N | --texts FILE] [--threads N] [--seconds S] [--spinning 1|0]
//   node ort_bench.mjs --modules DIR/node_modules --model MODEL_DIR --onnx FILE --compare OTHER_FILE
//        --texts FILE [--count N] [--threads N]
import fs from 'node:fs';
import path from 'node:path';
import {createRequire} from 'node:module';

const args = Object.fromEntries(process.argv.slice(2).reduce((pairs, value, i, all) =>
  (i % 2 === 0 ? [...pairs, [value.replace(/^--/, ''), all[i + 1]]] : pairs), []));
const require = createRequire(path.join(path.resolve(args.modules), 'index.js'));
const ort = require('onnxruntime-node');
const batchSize = Number(args.batch ?? 1);
const threads = Number(args.threads ?? 1);
const seconds = Number(args.seconds ?? 5);
const spinning = args.spinning ?? '1';

const config = JSON.parse(fs.readFileSync(path.join(args.model, 'config.json'), 'utf8'));
const tokenizerJson = JSON.parse(fs.readFileSync(path.join(args.model, 'tokenizer.json'), 'utf8'));
const vocab = tokenizerJson.model.vocab;
const maxLength = config.max_position_embeddings;

let sequences = [];
if (args.texts) {
  const {BertTokenizer} = await import(require.resolve('@huggingface/transformers'));
  const tokenizer = new BertTokenizer({decoder: {type: 'WordPiece', prefix: '##', cleanup: true}, ...tokenizerJson},
                                      {do_lower_case: true});
  for (const line of fs.readFileSync(args.texts, 'utf8').split('\n')) {
    if (!line.trim()) continue;
    let ids = Array.from(tokenizer(JSON.parse(line).text).input_ids.data, Number);
    if (ids.length > maxLength) ids = ids.slice(0, maxLength - 1).concat([vocab['[SEP]']]);
    sequences.push(ids);
  }
} else {
  const seqLen = Math.min(Number(args['seq-len'] ?? 128), maxLength);
  for (let b = 0; b < batchSize; ++b) {
    const ids = [vocab['[CLS]']];
    for (let t = 1; t + 1 < seqLen; ++t) ids.push((1000 + 7919 * (b + t)) % config.vocab_size);
    ids.push(vocab['[SEP]']);
    sequences.push(ids);
  }
}

// fused.onnx takes int32 ids (its com.microsoft ops want them), the others int64.
const int32Graph = (file) => path.basename(file).startsWith('fused');
const open = (file) => ort.InferenceSession.create(file, {
  intraOpNumThreads: threads, interOpNumThreads: 1, executionMode: 'sequential', graphOptimizationLevel: 'all',
  extra: {session: {intra_op: {allow_spinning: spinning}}},
});
const session = await open(args.onnx);

function feeds(batch, int32 = int32Graph(args.onnx)) {
  const width = Math.max(...batch.map((s) => s.length));
  const Array_ = int32 ? Int32Array : BigInt64Array;
  const value = (v) => (int32 ? v : BigInt(v));
  const ids = new Array_(batch.length * width), mask = new Array_(batch.length * width);
  const types = new Array_(batch.length * width);
  types.fill(value(0));
  ids.fill(value(0));
  mask.fill(value(0));
  batch.forEach((s, b) => s.forEach((id, t) => {
    ids[b * width + t] = value(id);
    mask[b * width + t] = value(1);
  }));
  const type = int32 ? 'int32' : 'int64';
  const dims = [batch.length, width];
  return {input_ids: new ort.Tensor(type, ids, dims), attention_mask: new ort.Tensor(type, mask, dims),
          token_type_ids: new ort.Tensor(type, types, dims)};
}

async function pooled(graph, file, sequence) {
  const outputs = await graph.run(feeds([sequence], int32Graph(file)));
  return outputs[graph.outputNames[0]].data;
}

function cosine(a, b) {
  let dot = 0, na = 0, nb = 0;
  for (let i = 0; i < a.length; ++i) {
    dot += a[i] * b[i];
    na += a[i] * a[i];
    nb += b[i] * b[i];
  }
  return dot / Math.sqrt(na * nb);
}

if (args.compare) {
  const other = await open(args.compare);
  const cosines = [];
  for (const sequence of sequences.slice(0, Number(args.count ?? 64))) {
    cosines.push(cosine(await pooled(session, args.onnx, sequence), await pooled(other, args.compare, sequence)));
  }
  cosines.sort((a, b) => a - b);
  console.log(JSON.stringify({
    agreement: path.basename(args.compare, '.onnx') + '-vs-' + path.basename(args.onnx, '.onnx'),
    texts: cosines.length, min_cosine: cosines[0], median_cosine: cosines[Math.floor(cosines.length / 2)],
  }));
  process.exit(0);
}

const batches = [];
for (let i = 0; i < sequences.length; i += batchSize) {
  const batch = sequences.slice(i, i + batchSize);
  batches.push({feeds: feeds(batch), sequences: batch.length, tokens: batch.reduce((n, s) => n + s.length, 0)});
}
await session.run(batches[0].feeds);
const latencies = [];
let done = 0, tokens = 0;
const start = performance.now();
// At least one pass over every batch, as inferd bench does.
for (let i = 0; performance.now() - start < seconds * 1000 || latencies.length < batches.length;
     i = (i + 1) % batches.length) {
  const begin = performance.now();
  await session.run(batches[i].feeds);
  latencies.push(performance.now() - begin);
  done += batches[i].sequences;
  tokens += batches[i].tokens;
}
const elapsed = (performance.now() - start) / 1000;
latencies.sort((a, b) => a - b);
const pick = (f) => latencies[Math.min(latencies.length - 1, Math.round(f * (latencies.length - 1)))];
console.log(JSON.stringify({
  engine: 'onnxruntime-' + path.basename(args.onnx, '.onnx') + (spinning === '1' ? '-spinning' : '-passive'),
  batch: batchSize,
  seq_len: args.texts ? tokens / done : sequences[0].length, threads, seq_per_s: done / elapsed,
  tokens_per_s: tokens / elapsed, p50_ms: pick(0.5), p99_ms: pick(0.99),
}));
