'use strict';
// A loopback FHIR R4 (4.0.1) server for mts, built on @asymmetrik/node-fhir-server-core.
//
// node-fhir-server-core is a framework: it supplies routing, the CapabilityStatement, parameter
// sanitising, R4 resource classes and error handling, and expects the implementer to supply a
// "service" per resource type. This file is that service, and nothing more: a read-only,
// in-memory store loaded from seed/<ResourceType>/<id>.json at start-up, with a handful of search
// parameters. Everything else (routes, headers, content types, the CapabilityStatement, the
// 404 for unknown paths) is the framework's own behaviour, left as it ships.
//
// Usage: node server.js [PORT] [SEED_DIR]   (listens on 127.0.0.1 only)

const fs = require('fs');
const path = require('path');
const {
  initialize,
  resolveSchema,
  ServerError,
} = require('@asymmetrik/node-fhir-server-core');

const VERSION = '4_0_1';
const port = Number(process.argv[2] || process.env.PORT || 8090);
const seedDir = path.resolve(process.argv[3] || process.env.MTS_SEED_DIR || path.join(__dirname, 'seed'));

if (!Number.isInteger(port) || port < 1 || port > 65535) {
  console.error(`invalid port: ${process.argv[2]}`);
  process.exit(2);
}

// ---------------------------------------------------------------------------------------------
// Errors, shaped as the framework expects (it turns a ServerError into an OperationOutcome).

function outcome(statusCode, code, text) {
  return new ServerError(text, {
    statusCode,
    issue: [{ severity: 'error', code, details: { text } }],
  });
}

// ---------------------------------------------------------------------------------------------
// Seed loading: every JSON file is parsed through the framework's own R4 class for its type,
// which drops anything that is not an R4 element.

function loadSeed(type) {
  const Schema = resolveSchema(VERSION, type);
  const dir = path.join(seedDir, type);
  const store = new Map();
  for (const file of fs.readdirSync(dir).sort()) {
    if (!file.endsWith('.json')) continue;
    const raw = JSON.parse(fs.readFileSync(path.join(dir, file), 'utf8'));
    if (raw.resourceType !== type) {
      throw new Error(`${path.join(dir, file)}: resourceType is ${raw.resourceType}, expected ${type}`);
    }
    const id = raw.id || file.slice(0, -'.json'.length);
    raw.id = id;
    store.set(id, new Schema(raw).toJSON());
  }
  return store;
}

// ---------------------------------------------------------------------------------------------
// Search helpers.

function splitOr(value) {
  return String(value)
    .split(',')
    .map((v) => v.trim())
    .filter((v) => v.length);
}

// token: [system]|[code], |[code] (no system), [system]| (any code) or [code] (any system)
function tokenMatches(param, items) {
  return splitOr(param).some((one) => {
    const bar = one.indexOf('|');
    const system = bar === -1 ? undefined : one.slice(0, bar);
    const code = bar === -1 ? one : one.slice(bar + 1);
    return items.some((item) => {
      if (!item) return false;
      if (system !== undefined) {
        if (system === '' ? item.system : item.system !== system) return false;
      }
      return code === '' || item.code === code;
    });
  });
}

// string: case-insensitive "starts with"
function stringMatches(param, values) {
  return splitOr(param).some((one) =>
    values.some((v) => typeof v === 'string' && v.toLowerCase().startsWith(one.toLowerCase()))
  );
}

const DATE = /^(\d{4})(?:-(\d{2})(?:-(\d{2}))?)?$/;

function dateRange(value) {
  const m = DATE.exec(value);
  if (!m) return null;
  const [, y, mo, d] = m;
  const year = Number(y);
  if (mo === undefined) return [`${y}-01-01`, `${y}-12-31`];
  const month = Number(mo);
  if (month < 1 || month > 12) return null;
  const last = new Date(Date.UTC(year, month, 0)).getUTCDate();
  if (d === undefined) return [`${y}-${mo}-01`, `${y}-${mo}-${String(last).padStart(2, '0')}`];
  const day = Number(d);
  if (day < 1 || day > last) return null;
  return [`${y}-${mo}-${d}`, `${y}-${mo}-${d}`];
}

function dateMatches(param, value, name) {
  return splitOr(param).some((one) => {
    const prefixed = /^(eq|ne|gt|lt|ge|le)(.*)$/.exec(one);
    const prefix = prefixed ? prefixed[1] : 'eq';
    const search = dateRange(prefixed ? prefixed[2] : one);
    if (!search) throw outcome(400, 'invalid', `Invalid date in search parameter ${name}: ${one}`);
    const target = value ? dateRange(value) : null;
    if (!target) return false;
    const [ps, pe] = search;
    const [rs, re] = target;
    switch (prefix) {
      case 'eq':
        return rs >= ps && re <= pe;
      case 'ne':
        return !(rs >= ps && re <= pe);
      case 'gt':
        return re > pe;
      case 'lt':
        return rs < ps;
      case 'ge':
        return re >= ps;
      case 'le':
        return rs <= pe;
    }
    return false;
  });
}

function referenceMatches(param, reference, type) {
  return splitOr(param).some((one) => {
    const wanted = one.includes('/') ? one : `${type}/${one}`;
    return Boolean(reference) && reference.reference === wanted;
  });
}

const codings = (concept) => (concept && concept.coding) || [];
const identifierTokens = (r) => (r.identifier || []).map((i) => ({ system: i.system, code: i.value }));

// Search parameters this service implements, per type: name -> (resource, value, name) => bool.
const SEARCHES = {
  Patient: {
    _id: (r, v) => splitOr(v).includes(r.id),
    identifier: (r, v) => tokenMatches(v, identifierTokens(r)),
    family: (r, v) => stringMatches(v, (r.name || []).map((n) => n.family)),
    given: (r, v) => stringMatches(v, (r.name || []).flatMap((n) => n.given || [])),
    name: (r, v) =>
      stringMatches(
        v,
        (r.name || []).flatMap((n) => [n.family, n.text, ...(n.given || [])])
      ),
    gender: (r, v) => tokenMatches(v, [{ system: 'http://hl7.org/fhir/administrative-gender', code: r.gender }]),
    birthdate: (r, v, n) => dateMatches(v, r.birthDate, n),
  },
  AllergyIntolerance: {
    _id: (r, v) => splitOr(v).includes(r.id),
    identifier: (r, v) => tokenMatches(v, identifierTokens(r)),
    patient: (r, v) => referenceMatches(v, r.patient, 'Patient'),
    code: (r, v) => tokenMatches(v, codings(r.code)),
    'clinical-status': (r, v) => tokenMatches(v, codings(r.clinicalStatus)),
  },
};

// ---------------------------------------------------------------------------------------------
// The services the framework calls.

function makeService(type, store) {
  const Schema = resolveSchema(VERSION, type);
  const Bundle = resolveSchema(VERSION, 'bundle');
  const searches = SEARCHES[type] || { _id: SEARCHES.Patient._id };

  const baseOf = (req) => `${req.protocol}://${req.get('host')}/${req.params.base_version || VERSION}`;

  return {
    searchById: async (args) => {
      const resource = store.get(args.id);
      if (!resource) throw outcome(404, 'not-found', `Resource ${type}/${args.id} is not known`);
      return new Schema(resource);
    },

    search: async (args, { req }) => {
      // The framework has already dropped every query parameter that R4 does not define for
      // this type; of the rest, apply the ones implemented here and ignore the others
      // (FHIR's default "lenient" handling). The self link lists only the ones applied.
      const applied = [];
      for (const [field, value] of Object.entries(args)) {
        if (field === 'base_version') continue;
        const [name, modifier] = field.split(':');
        if (!searches[name]) continue;
        if (modifier !== undefined) {
          throw outcome(400, 'not-supported', `Modifier :${modifier} is not supported on ${name}`);
        }
        applied.push([name, value]);
      }
      const matches = [];
      for (const resource of store.values()) {
        if (applied.every(([name, value]) => searches[name](resource, value, name))) {
          matches.push(resource);
        }
      }
      const base = baseOf(req);
      const query = applied.map(([n, v]) => `${encodeURIComponent(n)}=${encodeURIComponent(v)}`).join('&');
      return new Bundle({
        type: 'searchset',
        total: matches.length,
        link: [{ relation: 'self', url: `${base}/${type}${query ? `?${query}` : ''}` }],
        entry: matches.map((r) => ({
          fullUrl: `${base}/${type}/${r.id}`,
          resource: new Schema(r),
          search: { mode: 'match' },
        })),
      });
    },
  };
}

// ---------------------------------------------------------------------------------------------
// Wire up and listen.

const profiles = {};
for (const type of fs.readdirSync(seedDir).sort()) {
  if (!fs.statSync(path.join(seedDir, type)).isDirectory()) continue;
  if (!resolveSchema(VERSION, type)) {
    console.error(`${path.join(seedDir, type)}: ${type} is not an R4 resource type`);
    process.exit(2);
  }
  const store = loadSeed(type);
  profiles[type] = { service: makeService(type, store), versions: [VERSION], count: store.size };
}

// TLS_CERT and TLS_KEY (PEM paths) switch on the framework's own HTTPS server (start.sh --tls).
const ssl = process.env.TLS_CERT && process.env.TLS_KEY
  ? { cert: process.env.TLS_CERT, key: process.env.TLS_KEY }
  : undefined;

const config = {
  server: ssl ? { port, ssl } : { port },
  logging: { level: process.env.LOG_LEVEL || 'warn' },
  profiles: Object.fromEntries(
    Object.entries(profiles).map(([t, { service, versions }]) => [t, { service, versions }])
  ),
};

const server = initialize(config);
server.listen(port, '127.0.0.1', () => {
  const counts = Object.entries(profiles)
    .map(([t, p]) => `${p.count} ${t}`)
    .join(', ');
  const scheme = ssl ? 'https' : 'http';
  console.log(`FHIR R4 base ${scheme}://127.0.0.1:${port}/${VERSION} (seed: ${counts})`);
});
