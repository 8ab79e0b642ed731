#!/usr/bin/env python3
"""Extracts a corpus of real identifiers that nobody on the mts project chose, for the tests that hold
mts's check-digit and syntax rules to them (tests/identifier_corpus.rs).

Sources (read-only, outside this repository):
  - HL7 UK Core R4 2.0.2 conformance resources (NHS England, NHSDigital/FHIR-R4-UKCORE-STAGING-MAIN,
    tag 2.0.2): examples, value sets, code systems, structure definitions, the CapabilityStatement.
  - The project's requirement research, ../shared/standards/catalogue.md, section 4 (public test NHS numbers).
  - NHS Digital's PDS FHIR API sandbox (NHSDigital/personal-demographics-service-api, commit 7107a72,
    MIT, Crown Copyright): its mock responses and its OpenAPI specification.

What is taken:
  - snomed: every code under http://snomed.info/sct (codings, value set concepts, the concept ids inside
    value set filters and ECL constraints) and every SNOMED CT description id (coding-sctdescid).
  - dmd: every code under https://dmd.nhs.uk.
  - nhs_numbers: every identifier value under https://fhir.nhs.uk/Id/nhs-number; the NHS numbers the PDS
    specification's sandbox table calls valid or invalid; and the public test NHS numbers of the project's
    requirement research (../shared/standards/catalogue.md section 4), with the checksum verdict it states.
    A value some source calls valid or invalid carries "stated"; sources that disagree stop the script.
  - ods_codes: every identifier value under the ODS organisation and site code systems.
  - uuids: every urn:uuid value (the FHIR uuid type) in the UK Core examples and the PDS files.

Usage: scripts/corpus/extract_identifiers.py [--uk-core DIR] [--pds DIR] [--out FILE]
Defaults point at ../shared/data/uk-core and ../shared/targets/pds-sandbox beside the repository and
write tests/fixtures/identifier-corpus.json. Needs PyYAML for the PDS specification.
"""

import argparse
import json
import pathlib
import re
import sys
import xml.etree.ElementTree as ET

SNOMED = "http://snomed.info/sct"
DMD = "https://dmd.nhs.uk"
NHS_NUMBER = "https://fhir.nhs.uk/Id/nhs-number"
ODS = ("https://fhir.nhs.uk/Id/ods-organization-code", "https://fhir.nhs.uk/Id/ods-site-code")
SCT_DESCRIPTION_ID = "http://hl7.org/fhir/StructureDefinition/coding-sctdescid"
UUID = re.compile(r"urn:uuid:([0-9A-Fa-f]{8}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{12})")
STATED_VALID = re.compile(r"`id`=`([0-9]{10})` \(or any other valid NHS number\)")
STATED_INVALID = re.compile(r"`id`=`([0-9]{10})` \(or any invalid NHS number\)")
CONCEPT_ID = re.compile(r"(?<![0-9])[1-9][0-9]{5,17}(?![0-9])")


def local(tag):
    return tag.rsplit("}", 1)[-1]


def child_value(element, name):
    for child in element:
        if local(child.tag) == name:
            return child.get("value")
    return None


def children(element, name):
    return [child for child in element if local(child.tag) == name]


class Corpus:
    def __init__(self):
        self.values = {key: {} for key in ("snomed", "dmd", "nhs_numbers", "ods_codes", "uuids")}

        # What a source says of a value's validity, where it says anything.
        self.stated = {}

    def add(self, kind, value, source, stated=None):
        if value is None:
            return
        value = value.strip()
        if not value:
            return
        self.values[kind].setdefault(value, set()).add(source)
        if stated:
            self.stated.setdefault((kind, value), set()).add(stated)

    def as_json(self):
        out = {}
        for kind, found in self.values.items():
            entries = []
            for value, sources in sorted(found.items()):
                entry = {"value": value, "sources": sorted(sources)}
                stated = self.stated.get((kind, value))
                if stated:
                    if len(stated) > 1:
                        sys.exit(f"sources disagree on {kind} {value}: {sorted(stated)}")
                    entry["stated"] = stated.pop()
                    stated.add(entry["stated"])
                entries.append(entry)
            out[kind] = entries
        return out


def walk_uk_core(root_dir, corpus):
    files = sorted(root_dir.rglob("*.xml"))
    for path in files:
        source = "uk-core/" + str(path.relative_to(root_dir))
        tree = ET.parse(path)
        for element in tree.iter():
            system = child_value(element, "system")
            code = child_value(element, "code")
            # A coding (Coding, valueCoding, patternCoding, ...)
            if system == SNOMED and code is not None:
                corpus.add("snomed", code, source)
            elif system == DMD and code is not None:
                corpus.add("dmd", code, source)
            # A value set include: its concepts and the concept ids in its filters.
            if local(element.tag) == "include" and system in (SNOMED, DMD):
                kind = "snomed" if system == SNOMED else "dmd"
                for concept in children(element, "concept"):
                    corpus.add(kind, child_value(concept, "code"), source)
                for filter_ in children(element, "filter"):
                    for concept_id in CONCEPT_ID.findall(child_value(filter_, "value") or ""):
                        corpus.add(kind, concept_id, source)
            # SNOMED CT description ids carried beside a coding.
            if local(element.tag) == "extension" and element.get("url") == SCT_DESCRIPTION_ID:
                corpus.add("snomed", child_value(element, "valueId"), source)
            # Identifiers.
            value = child_value(element, "value")
            if system == NHS_NUMBER:
                corpus.add("nhs_numbers", value, source)
            if system in ODS:
                corpus.add("ods_codes", value, source)
            for attribute in element.attrib.values():
                for uuid in UUID.findall(attribute):
                    corpus.add("uuids", "urn:uuid:" + uuid, source)


def walk_json(value, source, corpus):
    if isinstance(value, dict):
        system = value.get("system")
        if system == NHS_NUMBER and isinstance(value.get("value"), str):
            corpus.add("nhs_numbers", value["value"], source)
        if system in ODS and isinstance(value.get("value"), str):
            corpus.add("ods_codes", value["value"], source)
        if system == SNOMED and isinstance(value.get("code"), str):
            corpus.add("snomed", value["code"], source)
        if system == DMD and isinstance(value.get("code"), str):
            corpus.add("dmd", value["code"], source)
        for child in value.values():
            walk_json(child, source, corpus)
    elif isinstance(value, list):
        for child in value:
            walk_json(child, source, corpus)
    elif isinstance(value, str):
        for uuid in UUID.findall(value):
            corpus.add("uuids", "urn:uuid:" + uuid, source)


def walk_pds(pds_dir, corpus):
    import yaml  # only needed here

    for path in sorted((pds_dir / "sandbox" / "mocks").glob("*.json")):
        source = "pds-sandbox/" + str(path.relative_to(pds_dir))
        walk_json(json.loads(path.read_text()), source, corpus)
    spec_dir = pds_dir / "specification"
    for path in sorted(spec_dir.rglob("*.yaml")):
        source = "pds-sandbox/" + str(path.relative_to(pds_dir))
        document = yaml.safe_load(path.read_text())
        walk_json(document, source, corpus)
        # The sandbox scenarios table names a valid and an invalid NHS number in words.
        for line in path.read_text().splitlines():
            for number in STATED_VALID.findall(line):
                corpus.add("nhs_numbers", number, source, stated="valid")
            for number in STATED_INVALID.findall(line):
                corpus.add("nhs_numbers", number, source, stated="invalid")


def walk_catalogue(catalogue, corpus):
    """The public test NHS numbers of the requirement research (section 4), with the checksum verdict
    the research states for each row (rows stating one verdict for all their values only)."""
    source = "shared/standards/catalogue.md section 4"
    in_section = False
    for line in catalogue.read_text().splitlines():
        if line.startswith("## "):
            in_section = line.startswith("## 4.")
            continue
        if not in_section or not line.startswith("| `"):
            continue
        cells = [cell.strip() for cell in line.strip("|").split("|")]
        if len(cells) < 3:
            continue
        stated = cells[2].strip("*").strip()
        if stated not in ("valid", "invalid"):
            continue
        for number in re.findall(r"`([0-9]{10})`", cells[0]) + re.findall(r"(?<![0-9`])([0-9]{10})(?![0-9])", cells[0]):
            corpus.add("nhs_numbers", number, source, stated=stated)


def main():
    here = pathlib.Path(__file__).resolve().parent
    repo = here.parent.parent
    parser = argparse.ArgumentParser()
    parser.add_argument("--uk-core", default=repo.parent / "shared" / "data" / "uk-core", type=pathlib.Path)
    parser.add_argument("--pds", default=repo.parent / "shared" / "targets" / "pds-sandbox", type=pathlib.Path)
    parser.add_argument("--catalogue", default=repo.parent / "shared" / "standards" / "catalogue.md", type=pathlib.Path)
    parser.add_argument("--out", default=repo / "tests" / "fixtures" / "identifier-corpus.json", type=pathlib.Path)
    args = parser.parse_args()

    corpus = Corpus()
    walk_uk_core(args.uk_core, corpus)
    walk_pds(args.pds, corpus)
    walk_catalogue(args.catalogue, corpus)
    document = {
        "about": (
            "Real identifiers from public NHS sources, extracted by scripts/corpus/extract_identifiers.py; "
            "regenerate with that script, never edit by hand. Each value lists the files it came from."
        ),
        "sources": {
            "uk-core": "HL7 UK Core R4 2.0.2 (NHS England, NHSDigital/FHIR-R4-UKCORE-STAGING-MAIN, tag 2.0.2, "
            "package UKCore.R4.STU.02.00.00)",
            "pds-sandbox": "NHS Digital PDS FHIR API sandbox and specification (NHSDigital/personal-demographics-"
            "service-api, commit 7107a72, 2024-10-29; MIT, Crown Copyright)",
        },
    }
    document.update(corpus.as_json())
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(document, indent=1, sort_keys=False) + "\n")
    counts = ", ".join(f"{k}: {len(v)}" for k, v in corpus.as_json().items())
    print(f"wrote {args.out} ({counts})", file=sys.stderr)


if __name__ == "__main__":
    main()
