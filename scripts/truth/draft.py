#!/usr/bin/env python3
"""Drafts a truth file for tests/real_servers.rs from a run folder: one [[must]] entry per
automated MUST (and MUST NOT) requirement of the run's profile, with the verdict mts gave, the
request that decided it and the catalogue text, and an empty `why` for a person to fill in after
reading the raw exchange. It is a starting point only: every entry must be read and justified
before it goes into tests/truth/.

Usage: scripts/truth/draft.py RUN_DIR > tests/truth/NAME.toml.draft
"""
import json
import pathlib
import sys

CATALOGUE = pathlib.Path(__file__).resolve().parents[2] / "standards" / "requirements"


def toml_string(text):
    return json.dumps(text, ensure_ascii=False)


def main():
    run = pathlib.Path(sys.argv[1])
    report = json.loads((run / "report.json").read_text())
    exchanges = {e["id"]: e for e in report["exchanges"]}

    def summary(exchange_id):
        e = exchanges.get(exchange_id)
        if not e:
            return None
        path = e["request"]["url"].split("://", 1)[-1]
        path = path[path.find("/"):] if "/" in path else path
        if e.get("response"):
            return f'{e["request"]["method"]} {path} → {e["response"]["status"]}'
        return f'{e["request"]["method"]} {path} → {(e.get("error") or {}).get("message", "")}'

    print(f"# Drafted from {run.name}; target {report['target']}, profile {report['profile']}.")
    for requirement in report["requirements"]:
        if requirement["level"] not in ("MUST", "MUST NOT") or requirement["status"] != "automated":
            continue
        if requirement.get("reason_kind") == "excluded-by-profile":
            continue
        print("\n[[must]]")
        print(f'id = "{requirement["id"]}"')
        print(f'verdict = "{requirement["verdict"]}"')
        if requirement["verdict"] == "fail":
            first = requirement["failures"][0]
            request = summary(first.get("exchange")) if first.get("exchange") else None
            if request:
                print(f"request = {toml_string(request)}")
            print(f"observed = {toml_string(first['message'])}")
        elif requirement.get("reason_kind"):
            print(f'reason_kind = "{requirement["reason_kind"]}"')
            print(f"observed = {toml_string(requirement.get('reason') or '')}")
        print(f"catalogue = {toml_string(requirement['statement'].split('. ')[0])}")
        print('why = ""')


if __name__ == "__main__":
    main()
