#!/usr/bin/env python3
"""Vendors the parts of HL7's fhir-test-cases (Apache-2.0) that mts is measured against.

Usage: vendor_fhir_test_cases.py MIRROR [OUT]
  MIRROR  a git directory of github.com/FHIR/fhir-test-cases (read with `git show`)
  OUT     default tests/fixtures/fhir-test-cases

Writes OUT/fhirpath/ (the R4 FHIRPath suite and its input files), OUT/validator/ (the offline
R4 JSON validator cases, see SELECTION) with cases.json (each case's expected outcome from the
HL7 Java validator), and OUT/LICENSE. Rerunning on the same commit reproduces the files exactly.
"""
import json
import os
import subprocess
import sys

FHIRPATH_INPUTS = [
    "appointment-examplereq.json", "codesystem-example.xml", "explanationofbenefit-example.json",
    "observation-example.xml", "parameters-example-types.xml", "patient-container-example.json",
    "patient-example-period.xml", "patient-example.xml", "patient-name-extensions.json",
    "questionnaire-example.xml", "valueset-example-expansion.xml",
]

# Offline R4 JSON cases: modules that need no terminology server, no package, no fetcher.
MODULES = {"general", "references", "bundle", "profile", "extensions", "sd", "xhtml", "base",
           "invariants"}
NEEDS_MORE = {"packages", "supporting", "supporting5", "profiles", "profile", "logical", "ips",
              "bundle-param", "txLog", "fetcher", "validateReference", "tx-dependent",
              "package-map", "examples", "assumeValidRestReferences", "allowed-extension-domain",
              "language", "best-practice", "security-checks", "for-publication", "wrong-displays",
              "matchetype", "certificate", "sct", "advisor", "fhir-validator-cli-options",
              "validateContains", "no-tx", "suppress", "default-version", "new-xver-mode",
              "allow-comments", "noHtmlInMarkdown", "r5-bundle-relative-reference-policy",
              "enforceAggregationOutsideBundles", "ids-in-errors", "generate-shapshot"}
# Outcomes that only a terminology server can give (display names, code lookups).
TERMINOLOGY = ("Wrong Display Name", "Unknown code", "Unable to check", "not found in",
               "terminology", "was not found in the value set")
MAX_BYTES = 200_000


def show(mirror, path):
    return subprocess.check_output(["git", "-C", mirror, "show", f"HEAD:{path}"])


def write(path, data):
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "wb") as f:
        f.write(data)


def main():
    mirror = sys.argv[1]
    out = sys.argv[2] if len(sys.argv) > 2 else "tests/fixtures/fhir-test-cases"
    commit = subprocess.check_output(["git", "-C", mirror, "rev-parse", "HEAD"]).decode().strip()
    write(f"{out}/LICENSE", show(mirror, "LICENSE.txt"))
    write(f"{out}/fhirpath/tests-fhir-r4.xml", show(mirror, "r4/fhirpath/tests-fhir-r4.xml"))
    for name in FHIRPATH_INPUTS:
        write(f"{out}/fhirpath/{name}", show(mirror, f"r4/{name}"))

    manifest = json.loads(show(mirror, "validator/manifest.json"))
    cases, skipped, missing, terminology = [], [], [], []
    seen = set()
    for case in manifest["test-cases"]:
        if case.get("version") not in ("4.0", "4.0.1") or not case["file"].endswith(".json"):
            continue
        if case.get("use-test") is False or case.get("module") not in MODULES:
            continue
        if NEEDS_MORE & set(case) or "java" not in case:
            continue
        if case["file"] in seen:
            continue
        seen.add(case["file"])
        data = show(mirror, f"validator/{case['file']}")
        if len(data) > MAX_BYTES:
            skipped.append(f"{case['file']} ({len(data)} bytes)")
            continue
        java = case["java"]
        # The Java validator's outcome: an OperationOutcome file, or inline counts only.
        if isinstance(java, dict):
            issues = [{"severity": "error"}] * java.get("errorCount", 0)
        else:
            try:
                outcome = show(mirror, f"validator/outcomes/{java}")
            except subprocess.CalledProcessError:
                missing.append(case["file"])
                continue
            issues = json.loads(outcome).get("issue", [])
        errors = [i for i in issues if i.get("severity") in ("error", "fatal")]
        texts = [i.get("details", {}).get("text", i.get("diagnostics", "")) or "" for i in errors]
        if any(word in text for text in texts for word in TERMINOLOGY):
            terminology.append(case["file"])
            continue
        write(f"{out}/validator/{case['file']}", data)
        cases.append({
            "file": case["file"],
            "module": case.get("module"),
            "errors": len(errors),
            "warnings": sum(1 for i in issues if i.get("severity") == "warning"),
            "error_locations": [(i.get("expression") or i.get("location") or [""])[0] for i in errors],
            "error_messages": [i.get("details", {}).get("text", i.get("diagnostics", "")) for i in errors],
        })
    write(f"{out}/validator/cases.json",
          (json.dumps({"source": f"github.com/FHIR/fhir-test-cases@{commit}",
                       "skipped_over_size": skipped,
                       "skipped_no_java_outcome": missing,
                       "skipped_terminology": terminology, "cases": cases}, indent=1) + "\n").encode())
    print(f"{len(cases)} validator cases, {len(skipped)} over {MAX_BYTES} bytes and "
          f"{len(missing)} with no Java outcome, {len(terminology)} needing terminology skipped; "
          f"commit {commit}")


if __name__ == "__main__":
    main()
