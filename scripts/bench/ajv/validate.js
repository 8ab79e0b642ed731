// Peer validator for the mts schema-validation benchmark: ajv on the FHIR R4 JSON schema.
//
//   node validate.js SCHEMA CORPUS_DIR ROUNDS [WARMUP]
//
// Validates each corpus (valid, invalid, bundles, big-bundle) WARMUP times untimed (V8 compiles
// hot code only after many calls: without a warm-up the figures are a JIT's cold start, not
// ajv), then ROUNDS times timed, every document
// against #/definitions/<its resourceType>, and prints one JSON line per corpus:
//   {"tool":"ajv 8.20.0","corpus":...,"documents":N,"invalid_documents":K,"errors":E,"rounds":R,"seconds":S}
// N, K and E are per round; S is the validation time of all rounds together. Reading and
// parsing the files and compiling the validators happen outside the timing, except for the
// valid-bytes and invalid-bytes corpora, where each document is parsed and then validated.
'use strict';
const fs = require('fs');
const path = require('path');
const Ajv = require('ajv');
const ajvVersion = require('ajv/package.json').version;

const [schemaPath, corpusDir, roundsArg, warmupArg] = process.argv.slice(2);
const rounds = Number.parseInt(roundsArg, 10);
const warmup = Number.parseInt(warmupArg || '0', 10);
if (!schemaPath || !corpusDir || !(rounds > 0)) {
  console.error('usage: node validate.js SCHEMA CORPUS_DIR ROUNDS');
  process.exit(2);
}

// The HL7 file is draft-06 but names its root `id`, which ajv 8 refuses: rename it to `$id`.
// strict: false because of the non-standard `discriminator` keyword; allErrors so that every
// error is collected, as the other tools do.
const schema = JSON.parse(fs.readFileSync(schemaPath, 'utf8'));
schema.$id = schema.id;
delete schema.id;
const ajv = new Ajv({ strict: false, allErrors: true });
// The schema declares draft-06: register that meta-schema, as ajv's docs say for draft-06.
ajv.addMetaSchema(require('ajv/dist/refs/json-schema-draft-06.json'));
ajv.addSchema(schema);

const validators = new Map();
function validatorFor(type) {
  if (!validators.has(type)) {
    const validate = ajv.getSchema(`${schema.$id}#/definitions/${type}`);
    if (!validate) throw new Error(`no definition for resourceType ${type}`);
    validators.set(type, validate);
  }
  return validators.get(type);
}

function readNdjson(file) {
  return fs.readFileSync(file, 'utf8').split('\n').filter((line) => line.trim()).map((line) => JSON.parse(line));
}

const corpora = [
  ['valid', readNdjson(path.join(corpusDir, 'valid.ndjson'))],
  ['invalid', readNdjson(path.join(corpusDir, 'invalid.ndjson'))],
  ['bundles', readNdjson(path.join(corpusDir, 'bundles.ndjson'))],
  ['big-bundle', [JSON.parse(fs.readFileSync(path.join(corpusDir, 'big-bundle.json'), 'utf8'))]],
];

// WARMUP untimed rounds, then ROUNDS timed ones, of judge (which returns the number of errors)
// over items; prints the line for the corpus, counts per round.
function timeRounds(name, items, judge, warmupRounds) {
  for (let round = 0; round < warmupRounds; round++) {
    for (const item of items) judge(item);
  }
  let invalid = 0;
  let errors = 0;
  const start = process.hrtime.bigint();
  for (let round = 0; round < rounds; round++) {
    invalid = 0;
    errors = 0;
    for (const item of items) {
      const found = judge(item);
      if (found > 0) invalid += 1;
      errors += found;
    }
  }
  const seconds = Number(process.hrtime.bigint() - start) / 1e9;
  console.log(JSON.stringify({
    tool: `ajv ${ajvVersion}`, corpus: name, documents: items.length,
    invalid_documents: invalid, errors, rounds, seconds,
  }));
}

const errorsOf = (validate, doc) => (validate(doc) ? 0 : validate.errors.length);

for (const [name, docs] of corpora) {
  // Compile outside the timing: pair each document with its validator up front.
  const jobs = docs.map((doc) => [validatorFor(doc.resourceType), doc]);
  // The big Bundle is one document whose validation takes seconds here: its 10,000 entries
  // warm the JIT up within the first round.
  timeRounds(name, jobs, ([validate, doc]) => errorsOf(validate, doc), name === 'big-bundle' ? 0 : warmup);
}

// From bytes: parse each document, then validate it, as a harness does with every body.
for (const [name, file] of [['valid-bytes', 'valid.ndjson'], ['invalid-bytes', 'invalid.ndjson']]) {
  const lines = fs.readFileSync(path.join(corpusDir, file), 'utf8').split('\n').filter((line) => line.trim());
  timeRounds(name, lines, (line) => {
    const doc = JSON.parse(line);
    return errorsOf(validatorFor(doc.resourceType), doc);
  }, warmup);
}
