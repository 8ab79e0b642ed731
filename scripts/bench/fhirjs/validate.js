// FHIR.js (npm "fhir") validating resources against their core type, in the protocol of
// benches/profile_validation.rs ("core" measure):
//   node validate.js RESOURCES.json [ROUNDS] [WARMUP]
// RESOURCES.json is the JSON array the mts bench writes ($MTS_BENCH_DIR/uk-core-examples.json:
// UK Core's 140 examples, converted once). FHIR.js validates against the base R4 definitions it
// ships (cardinality, types, required code bindings); it does not load UK Core profiles.
// Prints the median round as one JSON line, with the error count of the first round.
'use strict';
const fs = require('fs');
const { Fhir } = require('fhir');

const [file, roundsArg, warmupArg] = process.argv.slice(2);
const rounds = Math.max(1, Number(roundsArg || 10));
const warmup = Number(warmupArg || 2);
const resources = JSON.parse(fs.readFileSync(file, 'utf8'));
const version = require('fhir/package.json').version;

let clock = process.hrtime.bigint();
const fhir = new Fhir();
const loadMs = Number(process.hrtime.bigint() - clock) / 1e6;
let errors = 0;
for (const resource of resources) {
  const result = fhir.validate(resource);
  errors += result.messages.filter((m) => m.severity === 'error').length;
}
console.log(JSON.stringify({ tool: `fhir.js ${version}`, definitions_load_ms: loadMs, first_round_errors: errors }));

const validate = () => {
  for (const resource of resources) fhir.validate(resource);
};
for (let i = 0; i < warmup; i++) validate();
const seconds = [];
for (let i = 0; i < rounds; i++) {
  clock = process.hrtime.bigint();
  validate();
  seconds.push(Number(process.hrtime.bigint() - clock) / 1e9);
}
seconds.sort((a, b) => a - b);
const median = seconds[Math.floor(seconds.length / 2)];
console.log(JSON.stringify({
  tool: `fhir.js ${version}`,
  measure: 'core',
  resources: resources.length,
  rounds,
  median_round_ms: median * 1000,
  resources_per_second: resources.length / median,
}));
