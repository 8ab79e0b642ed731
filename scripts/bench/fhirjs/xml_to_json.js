// FHIR.js (npm "fhir") converting FHIR XML to JSON, in the protocol of benches/fhir_xml.rs:
//   node xml_to_json.js DIR [ROUNDS] [WARMUP]
// Files are read before the clock starts. "xmlToObj" gives objects (decimals kept as strings),
// "xmlToJson" JSON text (decimals as numbers). Prints the median round of each as one JSON line.
'use strict';
const fs = require('fs');
const path = require('path');
const { Fhir } = require('fhir');

const [dir, roundsArg, warmupArg] = process.argv.slice(2);
const rounds = Math.max(1, Number(roundsArg || 20));
const warmup = Number(warmupArg || 3);
const files = fs.readdirSync(dir).filter((f) => f.endsWith('.xml')).sort();
const documents = files.map((f) => fs.readFileSync(path.join(dir, f), 'utf8'));
const bytes = documents.reduce((sum, d) => sum + Buffer.byteLength(d), 0);
const version = require('fhir/package.json').version;

let clock = process.hrtime.bigint();
const fhir = new Fhir();
const loadMs = Number(process.hrtime.bigint() - clock) / 1e6;
console.log(JSON.stringify({ tool: `fhir.js ${version}`, definitions_load_ms: loadMs }));

for (const measure of ['xmlToObj', 'xmlToJson']) {
  const convert = () => {
    for (const document of documents) fhir[measure](document);
  };
  for (let i = 0; i < warmup; i++) convert();
  const seconds = [];
  for (let i = 0; i < rounds; i++) {
    clock = process.hrtime.bigint();
    convert();
    seconds.push(Number(process.hrtime.bigint() - clock) / 1e9);
  }
  seconds.sort((a, b) => a - b);
  const median = seconds[Math.floor(seconds.length / 2)];
  console.log(JSON.stringify({
    tool: `fhir.js ${version}`,
    measure,
    documents: documents.length,
    bytes,
    rounds,
    median_round_ms: median * 1000,
    documents_per_second: documents.length / median,
    mb_per_second: bytes / median / 1e6,
  }));
}
