"""Writes the FHIR R4 schema-validation benchmark corpus, deterministically.

    python3 make_corpus.py OUT_DIR [--schema PATH]

Needs `carebundle==0.5.0` and `jsonschema==4.26.0` (setup_peers.sh installs both into a venv).
Writes into OUT_DIR:
  valid.ndjson     the single resources of a carebundle cohort (bundle order), one per line
  invalid.ndjson   one mutated, schema-invalid copy of each single resource
  bundles.ndjson   the cohort's transaction Bundles, one per line
  big-bundle.json  one collection Bundle of exactly 10,000 entries
  corpus.json      counts, sha256 of each file, generator version, seed, mutation statistics
"""

import argparse
import copy
import hashlib
import json
import re
import uuid
from collections import Counter
from pathlib import Path

import carebundle
from carebundle import generate_cohort, to_json, to_ndjson
from jsonschema import Draft6Validator
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT6

SEED = 20261121
COUNT = 120
BIG_BUNDLE_ENTRIES = 10_000
# Fixed namespace for the big bundle's uuid5 ids, so they are the same on every run.
NAMESPACE = uuid.UUID("6d7473b0-be4c-4a11-9e6c-0f0f0f0f0f0f")
DEFAULT_SCHEMA = Path(__file__).resolve().parents[2] / "standards/fhir-r4/fhir.schema.json"


def dumps(doc):
    return json.dumps(doc, separators=(",", ":"), ensure_ascii=False)


def walk(node):
    """Yields (container, key, value) for every member/item, depth first, in document order."""
    items = node.items() if isinstance(node, dict) else enumerate(node) if isinstance(node, list) else ()
    for key, value in items:
        yield node, key, value
        yield from walk(value)


# --- Mutations: each returns a mutated copy, or None when the resource has nothing to mutate. ---

def unknown_property(res, schema):
    return {**res, "mtsUnknownElement": True}


def id_with_space(res, schema):
    return {**res, "id": res["id"][:8] + " " + res["id"][9:]}


DATE_KEY = re.compile(r"^(date|.*Date|.*DateTime)$")  # birthDate, recordedDate, effectiveDateTime, ...
DATE_VALUE = re.compile(r"^(\d{4})-(\d{2})")


def month_13(res, schema):
    out = copy.deepcopy(res)
    for node, key, value in walk(out):
        if isinstance(key, str) and DATE_KEY.match(key) and isinstance(value, str) and DATE_VALUE.match(value):
            node[key] = DATE_VALUE.sub(r"\1-13", value, count=1)
            return out
    return None


def required_removed(res, schema):
    # The FHIR schema lists only complex elements as required (a primitive such as `status`
    # may be carried by `_status`), so remove the first element the type's `required` names.
    required = schema["definitions"][res["resourceType"]].get("required", [])
    for name in required:
        if name != "resourceType" and name in res:
            return {k: v for k, v in res.items() if k != name}
    return None


def number_as_string(res, schema):
    out = copy.deepcopy(res)
    for node, key, value in walk(out):
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            node[key] = str(value)
            return out
    return None


MUTATIONS = [unknown_property, id_with_space, month_13, required_removed, number_as_string]


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("out_dir", type=Path)
    parser.add_argument("--schema", type=Path, default=DEFAULT_SCHEMA)
    args = parser.parse_args()
    out = args.out_dir
    out.mkdir(parents=True, exist_ok=True)

    schema = json.loads(args.schema.read_text(encoding="utf-8"))
    registry = Registry().with_resource(schema["id"], Resource.from_contents(schema, default_specification=DRAFT6))
    validators = {}

    def errors(doc):
        kind = doc["resourceType"]
        if kind not in validators:
            ref = {"$ref": f"{schema['id']}#/definitions/{kind}"}
            validators[kind] = Draft6Validator(ref, registry=registry)
        return list(validators[kind].iter_errors(doc))

    def bundle_errors(bundle):
        # Equivalent to errors(bundle) but fast: python jsonschema checks each entry's
        # `resource` against the 146-way oneOf of ResourceList (~25 ms an entry). Each branch
        # fixes resourceType with `const`, so an entry is valid iff its resource is valid
        # against its own type; check the envelope without the resources, then each resource.
        entries = bundle.get("entry", [])
        envelope = {**bundle, "entry": [{k: v for k, v in e.items() if k != "resource"} for e in entries]}
        return errors(envelope) + [err for e in entries if "resource" in e for err in errors(e["resource"])]

    cohort = generate_cohort(count=COUNT, seed=SEED, sex="mixed")
    bundles = [json.loads(to_json(b, indent=None)) for b in cohort]

    # to_ndjson groups resources by type; put them back in bundle/entry order so that the
    # first N lines (py_validate.py --limit) are a representative mix of types.
    position = {}
    for b, bundle in enumerate(bundles):
        for e, entry in enumerate(bundle.get("entry", [])):
            position[entry["fullUrl"].removeprefix("urn:uuid:")] = (b, e)
    resources = [json.loads(line) for text in to_ndjson(cohort).values() for line in text.splitlines() if line]
    resources.sort(key=lambda r: position[r["id"]])

    # Sanity: the generated data must itself be schema-valid.
    for doc in resources + bundles:
        if (bundle_errors if doc["resourceType"] == "Bundle" else errors)(doc):
            raise SystemExit(f"generated {doc['resourceType']}/{doc.get('id')} is not schema-valid")

    # Invalid copies: resource i tries mutation i mod 5 first, then the next ones in the cycle.
    invalid, applied, fallbacks, still_valid = [], Counter(), Counter(), Counter()
    for i, res in enumerate(resources):
        for step in range(len(MUTATIONS)):
            mutate = MUTATIONS[(i + step) % len(MUTATIONS)]
            mutated = mutate(res, schema)
            if mutated is not None and not errors(mutated):
                still_valid[mutate.__name__] += 1  # mutated, yet valid: try the next one
            elif mutated is not None:
                invalid.append(mutated)
                applied[mutate.__name__] += 1
                if step:
                    fallbacks[f"{MUTATIONS[i % len(MUTATIONS)].__name__} -> {mutate.__name__}"] += 1
                break
        else:
            raise SystemExit(f"no mutation makes {res['resourceType']}/{res['id']} invalid")

    # The big bundle: cycle through the single resources, each copy with its own id.
    entries = []
    for i in range(BIG_BUNDLE_ENTRIES):
        ident = str(uuid.uuid5(NAMESPACE, f"big-bundle/{i}"))
        res = {**resources[i % len(resources)], "id": ident}
        entries.append({"fullUrl": f"urn:uuid:{ident}", "resource": res})
    big = {"resourceType": "Bundle", "id": "mts-big-bundle", "type": "collection", "entry": entries}
    if bundle_errors(big):
        raise SystemExit("the big bundle is not schema-valid")

    files = {
        "valid.ndjson": "".join(dumps(r) + "\n" for r in resources),
        "invalid.ndjson": "".join(dumps(r) + "\n" for r in invalid),
        "bundles.ndjson": "".join(dumps(b) + "\n" for b in bundles),
        "big-bundle.json": dumps(big) + "\n",
    }
    counts = {"valid.ndjson": len(resources), "invalid.ndjson": len(invalid),
              "bundles.ndjson": len(bundles), "big-bundle.json": 1}
    manifest = {
        "generator": f"carebundle {carebundle.__version__}",
        "cohort": {"count": COUNT, "seed": SEED, "sex": "mixed"},
        "schema_sha256": hashlib.sha256(args.schema.read_bytes()).hexdigest(),
        "files": {},
        "big_bundle_entries": len(entries),
        "resource_types": dict(sorted(Counter(r["resourceType"] for r in resources).items())),
        "mutations": dict(applied),
        "mutation_fallbacks": dict(sorted(fallbacks.items())),
        "mutations_that_stayed_valid": dict(still_valid),
    }
    for name, text in files.items():
        data = text.encode("utf-8")
        (out / name).write_bytes(data)
        manifest["files"][name] = {"documents": counts[name], "bytes": len(data),
                                   "sha256": hashlib.sha256(data).hexdigest()}
    # corpus.json last: its presence marks a complete corpus (setup_peers.sh checks for it).
    (out / "corpus.json").write_text(json.dumps(manifest, indent=2) + "\n", encoding="utf-8")

    print(f"corpus in {out}: {len(resources)} valid, {len(invalid)} invalid ({sum(fallbacks.values())} fell back), "
          f"{len(bundles)} bundles, big bundle of {len(entries)} entries; carebundle {carebundle.__version__}, seed {SEED}")


if __name__ == "__main__":
    main()
