"""Peer validator for the mts schema-validation benchmark: python `jsonschema` on the FHIR R4 schema.

    python py_validate.py SCHEMA CORPUS_DIR ROUNDS [--limit N]

Same protocol as ajv/validate.js: each corpus (valid, invalid, bundles, big-bundle) is
validated ROUNDS times, every document against #/definitions/<its resourceType>, and one
JSON line is printed per corpus:
  {"tool":"python jsonschema 4.26.0","corpus":...,"documents":N,"invalid_documents":K,"errors":E,"rounds":R,"seconds":S}
N, K and E are per round; S is the validation time of all rounds together. --limit N keeps
the first N documents of each ndjson corpus, --bundle-limit N the first N bundles; the big
bundle (about four minutes) only with --big-bundle. Reading, parsing and
building the validators happen outside the timing.
"""

import argparse
import json
import time
from importlib.metadata import version
from pathlib import Path

from jsonschema import Draft6Validator
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT6


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("schema", type=Path)
    parser.add_argument("corpus_dir", type=Path)
    parser.add_argument("rounds", type=int)
    parser.add_argument("--limit", type=int, default=None, help="first N documents of each ndjson corpus")
    parser.add_argument("--bundle-limit", type=int, default=None, help="first N bundles (about 1 s each)")
    parser.add_argument("--big-bundle", action="store_true", help="also the 10,000-entry bundle (minutes)")
    args = parser.parse_args()
    if args.rounds < 1:
        parser.error("ROUNDS must be at least 1")

    # The whole schema goes into a `referencing` registry under its root `id`; each
    # per-type validator is a one-line schema that refers into it.
    schema = json.loads(args.schema.read_text(encoding="utf-8"))
    root = schema["id"]
    registry = Registry().with_resource(root, Resource.from_contents(schema, default_specification=DRAFT6))
    validators = {}

    def validator_for(kind):
        if kind not in validators:
            if kind not in schema["definitions"]:
                raise SystemExit(f"no definition for resourceType {kind}")
            validators[kind] = Draft6Validator({"$ref": f"{root}#/definitions/{kind}"}, registry=registry)
        return validators[kind]

    def ndjson(name, limit):
        with open(args.corpus_dir / name, encoding="utf-8") as lines:
            docs = [json.loads(line) for line in lines if line.strip()]
        return docs[:limit] if limit is not None else docs

    corpora = [
        ("valid", ndjson("valid.ndjson", args.limit)),
        ("invalid", ndjson("invalid.ndjson", args.limit)),
        ("bundles", ndjson("bundles.ndjson", args.bundle_limit or args.limit)),
    ]
    if args.big_bundle:
        big = json.loads((args.corpus_dir / "big-bundle.json").read_text(encoding="utf-8"))
        corpora.append(("big-bundle", [big]))
    tool = f"python jsonschema {version('jsonschema')}"

    for name, docs in corpora:
        jobs = [(validator_for(doc["resourceType"]), doc) for doc in docs]
        start = time.perf_counter()
        for _ in range(args.rounds):
            invalid = errors = 0
            for validator, doc in jobs:
                # iter_errors yields every error (top-level ones; a failed oneOf/anyOf is
                # one error whose branch errors sit in its .context).
                found = sum(1 for _ in validator.iter_errors(doc))
                invalid += found > 0
                errors += found
        seconds = time.perf_counter() - start
        print(json.dumps({"tool": tool, "corpus": name, "documents": len(docs), "invalid_documents": invalid,
                          "errors": errors, "rounds": args.rounds, "seconds": seconds}, separators=(",", ":")), flush=True)


if __name__ == "__main__":
    main()
