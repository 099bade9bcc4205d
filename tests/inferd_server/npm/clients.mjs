// The official OpenAI Node SDK and @huggingface/inference against a running inferd (its base URL is argv[2]),
// used as LangChain and Hugging Face's examples use them. Exits 1 naming the first check that failed.
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import OpenAI from "openai";
import { InferenceClient } from "@huggingface/inference";

const base = process.argv[2];

function check(condition, what) {
  if (!condition) {
    console.error(`FAIL: ${what}`);
    process.exit(1);
  }
}

const norm = (v) => Math.sqrt(v.reduce((sum, x) => sum + x * x, 0));
const close = (a, b) => a.length === b.length && a.every((x, i) => Math.abs(x - b[i]) < 1e-5);

const openai = new OpenAI({ baseURL: `${base}/v1`, apiKey: "not-checked" });
const model = "text-embedding-3-small"; // not a name inferd serves: its one embedder answers

// The SDK asks for base64 by default and decodes little-endian float32.
const packed = await openai.embeddings.create({ model, input: "hello world" });
check(packed.data.length === 1, "one embedding for one input");
const vector = packed.data[0].embedding;
check(Array.isArray(vector) && vector.length === 32, `32 numbers decoded from base64, got ${vector.length}`);
check(Math.abs(norm(vector) - 1) < 1e-4, "a unit vector");
const floats = await openai.embeddings.create({ model, input: "hello world", encoding_format: "float" });
check(close(floats.data[0].embedding, vector), "base64 decodes to the float answer");

const cut = await openai.embeddings.create({ model, input: ["a cat", "a dog"], dimensions: 8 });
check(cut.data.every((d) => d.embedding.length === 8), "dimensions: 8 gives 8 numbers");
check(cut.data.every((d) => Math.abs(norm(d.embedding) - 1) < 1e-4), "renormalised after the cut");
try {
  await openai.embeddings.create({ model, input: "x", dimensions: 64 });
  check(false, "dimensions above the model's must be refused");
} catch (error) {
  check(error instanceof OpenAI.BadRequestError, `a BadRequestError, got ${error}`);
  check(error.param === "dimensions" && error.type === "invalid_request_error", `OpenAI's error object: ${error}`);
}

// 600 texts as LangChain's OpenAIEmbeddings sends them: batches of 512 (its default batchSize).
const texts = Array.from({ length: 600 }, (_, i) => `document number ${i}`);
const embedded = [];
for (let start = 0; start < texts.length; start += 512) {
  const batch = await openai.embeddings.create({ model, input: texts.slice(start, start + 512) });
  embedded.push(...batch.data.map((d) => d.embedding));
}
check(embedded.length === 600 && embedded.every((e) => e.length === 32), "600 embeddings in two batches");

const listed = await openai.models.list();
check(listed.data.length === 3, `three models listed, got ${listed.data.length}`);
const retrieved = await openai.models.retrieve(listed.data[0].id);
check(retrieved.id === listed.data[0].id, "models.retrieve finds a listed model");

// Hugging Face's client against the server's own URL (TEI's POST /), with two models loaded.
const hf = new InferenceClient();
const features = await hf.featureExtraction({ endpointUrl: base, inputs: ["hello world", "a cat"] });
check(features.length === 2 && features[0].length === 32, "featureExtraction: two vectors of 32");
check(close(features[0], vector), "featureExtraction gives the OpenAI route's vector");
const scores = await hf.sentenceSimilarity({
  endpointUrl: base,
  inputs: { source_sentence: "a cat", sentences: ["a cat", "fast engines", "a small cat"] },
});
check(scores.length === 3 && Math.abs(scores[0] - 1) < 1e-4, `sentenceSimilarity: [1, ...], got ${scores}`);
const routed = await hf.sentenceSimilarity({
  endpointUrl: `${base}/similarity`,
  inputs: { source_sentence: "a cat", sentences: ["fast engines"] },
});
check(Math.abs(routed[0] - scores[1]) < 1e-5, "/similarity answers as POST / does");

// The Batch API end to end, as OpenAI's batch guide drives it: upload JSONL, create, retrieve until done, read the
// output file.
const dir = fs.mkdtempSync(path.join(os.tmpdir(), "inferd-batch-"));
const input = path.join(dir, "batch.jsonl");
const requests = Array.from({ length: 20 }, (_, i) => ({
  custom_id: `line-${i}`,
  method: "POST",
  url: "/v1/embeddings",
  body: { model: "e", input: `batch text ${i}` },
}));
fs.writeFileSync(input, requests.map((r) => JSON.stringify(r)).join("\n") + "\n");
const uploaded = await openai.files.create({ file: fs.createReadStream(input), purpose: "batch" });
check(uploaded.id.startsWith("file-") && uploaded.purpose === "batch", `files.create: ${JSON.stringify(uploaded)}`);
check(uploaded.filename === "batch.jsonl", `the upload keeps its filename, got ${uploaded.filename}`);
let batch = await openai.batches.create({
  input_file_id: uploaded.id,
  endpoint: "/v1/embeddings",
  completion_window: "24h",
  metadata: { purpose: "npm test" },
});
check(batch.id.startsWith("batch_") && batch.status === "validating", `batches.create: ${JSON.stringify(batch)}`);
const deadline = Date.now() + 60000;
while (!["completed", "failed", "expired", "cancelled"].includes(batch.status) && Date.now() < deadline) {
  await new Promise((resolve) => setTimeout(resolve, 100));
  batch = await openai.batches.retrieve(batch.id);
}
check(batch.status === "completed", `the batch completed: ${JSON.stringify(batch)}`);
check(batch.request_counts.completed === 20 && batch.request_counts.failed === 0, "20 lines answered");
check(batch.metadata.purpose === "npm test", "the batch keeps its metadata");
const output = await openai.files.content(batch.output_file_id);
const answers = (await output.text()).trim().split("\n").map((line) => JSON.parse(line));
check(answers.length === 20 && new Set(answers.map((a) => a.custom_id)).size === 20, "each custom_id answered once");
const line3 = answers.find((a) => a.custom_id === "line-3");
const direct = await openai.embeddings.create({ model: "e", input: "batch text 3", encoding_format: "float" });
check(line3.response.status_code === 200 && line3.error === null, "a successful line's response");
check(close(line3.response.body.data[0].embedding, direct.data[0].embedding), "a line embeds as /v1/embeddings does");
const listed_batches = await openai.batches.list();
check(listed_batches.data.some((b) => b.id === batch.id), "batches.list names the batch");
const deleted = await openai.files.delete(uploaded.id);
check(deleted.deleted === true, "files.delete");
fs.rmSync(dir, { recursive: true });

// Text generation from the decoder "g": the SDK streams a chat completion (server-sent events) as chat UIs do.
const messages = [{ role: "system", content: "You are terse." }, { role: "user", content: "Say hello" }];
const stream = await openai.chat.completions.create({
  model: "g", messages, max_tokens: 12, temperature: 0, ignore_eos: true, stream: true,
  stream_options: { include_usage: true },
});
let streamed = "";
let finish = null;
let usage = null;
let chunks = 0;
for await (const chunk of stream) {
  chunks += 1;
  if (chunk.usage) usage = chunk.usage;
  for (const choice of chunk.choices) {
    streamed += choice.delta?.content ?? "";
    finish = choice.finish_reason ?? finish;
  }
}
check(chunks >= 3, `the answer came in pieces, got ${chunks}`);
check(finish === "length", `finish_reason length, got ${finish}`);
check(usage && usage.completion_tokens === 12 && usage.total_tokens === usage.prompt_tokens + 12, "the usage chunk");
const whole = await openai.chat.completions.create({ model: "g", messages, max_tokens: 12, temperature: 0,
  ignore_eos: true });
check(whole.choices[0].message.content === streamed, "the streamed chat is the whole answer in pieces (greedy)");
const completion = await openai.completions.create({ model: "g", prompt: "Once upon a time", max_tokens: 5,
  temperature: 0, ignore_eos: true });
check(completion.choices[0].finish_reason === "length" && completion.usage.completion_tokens === 5, "a completion");

console.log("npm clients: all checks passed");
