"""Turns the benchmark's JSON lines into the tables of BENCHMARKS.md (ratios against peers)."""

import json
import statistics
import sys


def rate(line):
    return line["documents"] * line["rounds"] / line["seconds"] if line["seconds"] else float("inf")


def main(results_path, writers_path):
    lines = [json.loads(l) for l in open(results_path) if l.strip()]
    by = lambda bench: [l for l in lines if l.get("bench") == bench]
    machine = (by("machine") or [{}])[0]
    print(f"Machine: {machine.get('cpus')} CPUs ({machine.get('model')}), {machine.get('memory_gib')} GiB, "
          f"Linux {machine.get('kernel')}; {machine.get('rustc')}; node {machine.get('node')}; python {machine.get('python')}\n")

    schema = [l for l in by("schema") if "corpus" in l]
    compile_ms = next((l["compile_ms"] for l in by("schema") if "compile_ms" in l), None)
    tools = sorted({l["tool"] for l in schema}, key=lambda t: (not t.startswith("mts"), t))
    mts = tools[0]
    print("1. FHIR R4 schema validation (documents per second, single thread, schema compiled once"
          + (f"; mts compiles it in {compile_ms:.0f} ms" if compile_ms else "") + ")\n")
    print("| corpus | documents | " + " | ".join(tools) + " | " + " | ".join(f"mts ÷ {t.split()[0]}" for t in tools[1:]) + " |")
    print("| --- " * (2 + 2 * len(tools) - 1) + "|")
    for corpus in ["valid", "invalid", "bundles", "big-bundle", "valid-bytes", "invalid-bytes"]:
        row = {l["tool"]: l for l in schema if l["corpus"] == corpus}
        if mts not in row:
            continue
        # The median over the repeats of each tool (the script alternates them).
        rates = {t: statistics.median(rate(l) for l in schema if l["corpus"] == corpus and l["tool"] == t)
                 for t in tools if t in row}
        cells = [f"{rates[t]:,.0f}" if t in rates else "–" for t in tools]
        ratios = [f"{rates[mts] / rates[t]:.1f}×" if t in rates else "–" for t in tools[1:]]
        agree = " ".join(f"{t.split()[0]}:{row[t]['invalid_documents']}/{row[t]['documents']} invalid" for t in tools if t in row)
        print(f"| {corpus} | {row[mts]['documents']} | " + " | ".join(cells) + " | " + " | ".join(ratios) + f" |  <!-- {agree} -->")
    print()

    suite = by("suite")
    if suite:
        wall = statistics.median(l["seconds"] for l in suite)
        rss = max(l["rss_kib"] for l in suite) / 1024
        print(f"2. Full default suite against the embedded sandbox (release, HTTPS, OAuth2 flow): median {wall:.2f} s wall over "
              f"{len(suite)} runs, peak RSS {rss:.0f} MiB, {suite[0]['exchanges']} exchanges per run (goal: < 1 s, < 100 MiB)\n")

    overhead = by("overhead")
    if overhead:
        m = [l for l in overhead if l["tool"] == "mts"]
        a = [l for l in overhead if l["tool"] == "ab"]
        n = m[0]["requests"]
        mw, aw = statistics.median(l["seconds"] for l in m), statistics.median(l["seconds"] for l in a)
        scaling = by("scaling")
        one = statistics.median(l["seconds"] for l in scaling if l["scenarios"] == 1) if scaling else 0
        print(f"3. {n} GETs of the test patient, 8 at a time, same loopback sandbox (median of {len(m)}):\n")
        print("| tool | wall | per request | ratio |\n| --- | --- | --- | --- |")
        print(f"| ApacheBench (ab -k) | {aw:.2f} s | {aw / n * 1e6:.0f} µs | 1.0× |")
        r = [l for l in overhead if l["tool"] == "reqwest alone"]
        if r:
            rw = statistics.median(l["seconds"] for l in r)
            print(f"| reqwest alone (same pool and headers, body read; the HTTP library's share) | {rw:.2f} s | {rw / n * 1e6:.0f} µs | {rw / aw:.1f}× |")
        c = [l for l in overhead if l["tool"] == "mts-client"]
        if c:
            cw = statistics.median(l["seconds"] for l in c)
            print(f"| mts HTTP layer alone (HttpClient: pool, deadline, cap, redaction, evidence) | {cw:.2f} s | {cw / n * 1e6:.0f} µs | {cw / aw:.1f}× |")
        print(f"| mts, whole run (start, scenarios, checks, all reports) | {mw:.2f} s | {mw / n * 1e6:.0f} µs | {mw / aw:.1f}× |")
        if one:
            print(f"| mts, per exchange once started (wall − the 1-scenario run's {one:.2f} s) | {mw - one:.2f} s | {(mw - one) / n * 1e6:.0f} µs | {(mw - one) / aw:.1f}× |")
        print()

    scaling = by("scaling")
    if scaling:
        print("4. Scaling: wall time against the number of scenarios (each one GET + status check)\n")
        print("| scenarios | median wall | per scenario beyond the first |\n| --- | --- | --- |")
        base = None
        for count in sorted({l["scenarios"] for l in scaling}):
            wall = statistics.median(l["seconds"] for l in scaling if l["scenarios"] == count)
            base = wall if base is None else base
            marginal = f"{(wall - base) / (count - 1) * 1000:.2f} ms" if count > 1 else "–"
            print(f"| {count} | {wall:.2f} s | {marginal} |")
        print()

    try:
        print("5. Report writing (cargo bench --bench report_writers):\n\n```\n" + open(writers_path).read().strip() + "\n```")
    except OSError:
        pass
    print()
    peer = by("peer")
    if peer:
        print("6. A peer harness on the same checks (every response judged against the sandbox's OpenAPI document: status, content type, headers, body schema; median of runs)\n")
        print("| harness | wall | requests | per request |\n| --- | --- | --- | --- |")
        for tool in sorted({l["tool"] for l in peer}, key=lambda t: not t.startswith("mts")):
            runs = [l for l in peer if l["tool"] == tool]
            wall = statistics.median(l["seconds"] for l in runs)
            calls = statistics.median(l["requests"] for l in runs)
            per = f"{wall / calls * 1000:.2f} ms" if calls else "–"
            print(f"| {tool} | {wall:.2f} s | {calls:.0f} | {per} |")
        print()



if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2] if len(sys.argv) > 2 else "")
