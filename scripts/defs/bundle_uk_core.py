#!/usr/bin/env python3
"""Packs UK Core's conformance resources (FHIR XML, as NHS England publishes them) into one
gzipped FHIR XML Bundle that mts embeds and converts with its own XML reader on first use.

Usage: scripts/defs/bundle_uk_core.py ../shared/data/uk-core standards/uk-core/conformance.xml.gz

Only StructureDefinitions, ValueSets and CodeSystems go in, in file-name order; each file's
XML declaration and comments are dropped, nothing else is changed. The output is byte-for-byte
reproducible (gzip header time 0).
"""
import gzip
import re
import sys
from pathlib import Path

FOLDERS = ["structuredefinitions", "valuesets", "codesystems"]


def resource_text(path: Path) -> str:
    text = path.read_text(encoding="utf-8-sig")
    text = re.sub(r"<\?xml[^>]*\?>", "", text)
    text = re.sub(r"<!--.*?-->", "", text, flags=re.S)
    return text.strip()


def main() -> None:
    source, target = Path(sys.argv[1]), Path(sys.argv[2])
    parts = ['<Bundle xmlns="http://hl7.org/fhir">', '<type value="collection"/>']
    count = 0
    for folder in FOLDERS:
        for path in sorted((source / folder).glob("*.xml")):
            parts.append("<entry><resource>")
            parts.append(resource_text(path))
            parts.append("</resource></entry>")
            count += 1
    parts.append("</Bundle>")
    data = "\n".join(parts).encode("utf-8")
    with open(target, "wb") as out:
        with gzip.GzipFile(filename="", mode="wb", fileobj=out, mtime=0, compresslevel=9) as gz:
            gz.write(data)
    print(f"{count} resources, {len(data)} bytes of XML -> {target}")


if __name__ == "__main__":
    main()
