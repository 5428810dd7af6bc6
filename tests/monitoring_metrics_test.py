#!/usr/bin/env python3
"""The shipped dashboard and alert rules name only metrics mimi-portd exports.

Usage: monitoring_metrics_test.py MIMI_PORTD MONITORING_DIR

Starts MIMI_PORTD (plain HTTP on loopback, ports from the kernel, a temp data
directory), scrapes its GET /metrics, and checks that every metric name in
the PromQL of MONITORING_DIR/*.dashboard.json (panel targets, template
queries) and of MONITORING_DIR/*.rules.yml (`expr:`) is a family there (a
`# TYPE` line: counters show up before their first increment). Exits 1 naming
each unknown metric and where it is used.

The rules file is read without a YAML library (the test host need not have
one): `expr:` values are either on their line or a `|` block indented below.
"""

import json
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import urllib.request

# PromQL words that are not metric names: aggregations, functions (those are
# followed by "(" and dropped anyway), binary operators and modifiers.
KEYWORDS = {
    "and", "or", "unless", "by", "without", "on", "ignoring", "group_left",
    "group_right", "bool", "offset", "inf", "nan",
}


def metric_names(expr):
    """Metric names in one PromQL expression (a Grafana one may hold $vars)."""
    # label_values(METRIC, LABEL) in template queries names METRIC.
    names = set(re.findall(r"label_values\(\s*([A-Za-z_:][A-Za-z0-9_:]*)\s*,", expr))
    expr = re.sub(r"label_values\([^)]*\)", " ", expr)
    expr = re.sub(r'"(?:[^"\\]|\\.)*"', " ", expr)  # strings
    expr = re.sub(r"\{[^}]*\}", " ", expr)  # label matchers
    expr = re.sub(r"\[[^\]]*\]", " ", expr)  # ranges, $__rate_interval
    # Label lists of by/without/on/ignoring/group_*.
    expr = re.sub(
        r"\b(by|without|on|ignoring|group_left|group_right)\s*\([^)]*\)", " ", expr)
    expr = re.sub(r"\$\w+", " ", expr)  # Grafana variables
    for m in re.finditer(r"(?<![\w.])([A-Za-z_:][A-Za-z0-9_:]*)(\s*\()?", expr):
        word, call = m.group(1), m.group(2)
        if call or word.lower() in KEYWORDS:
            continue
        names.add(word)
    return names


def dashboard_exprs(path):
    with open(path) as f:
        dash = json.load(f)
    out = []

    def panels(items):
        for p in items:
            yield p
            yield from panels(p.get("panels", []))

    for p in panels(dash.get("panels", [])):
        for t in p.get("targets", []):
            if t.get("expr"):
                out.append((f"{os.path.basename(path)}: panel '{p.get('title')}'", t["expr"]))
    for v in dash.get("templating", {}).get("list", []):
        q = v.get("query")
        if isinstance(q, dict):
            q = q.get("query")
        if v.get("type") == "query" and q:
            out.append((f"{os.path.basename(path)}: variable '{v.get('name')}'", q))
    return out


def rules_exprs(path):
    out = []
    lines = open(path).read().splitlines()
    alert = "?"
    i = 0
    while i < len(lines):
        line = lines[i]
        m = re.match(r"\s*-?\s*(alert|record):\s*(\S+)", line)
        if m:
            alert = m.group(2)
        m = re.match(r"(\s*)expr:\s*(.*)$", line)
        if m:
            indent, value = len(m.group(1)), m.group(2).strip()
            if value in ("|", ">", "|-", ">-"):
                block = []
                i += 1
                while i < len(lines) and (not lines[i].strip() or
                                          len(lines[i]) - len(lines[i].lstrip()) > indent):
                    block.append(lines[i])
                    i += 1
                value = "\n".join(block)
                out.append((f"{os.path.basename(path)}: {alert}", value))
                continue
            out.append((f"{os.path.basename(path)}: {alert}", value.strip("'\"")))
        i += 1
    return out


def self_check():
    """The extractor finds what it must and nothing else (else the real check
    could pass vacuously)."""
    cases = {
        'sum by (peer, outcome) (rate(mimi_a_total{x=~"$i",o!~"2.."}[$__rate_interval]))':
            {"mimi_a_total"},
        "mimi_b > 0 and on (instance) mimi_c >= 5 * mimi_d offset 1h": {"mimi_b", "mimi_c", "mimi_d"},
        "label_values(mimi_e, instance)": {"mimi_e"},
        "increase(mimi_f[10m]) > 0": {"mimi_f"},
    }
    for expr, want in cases.items():
        got = metric_names(expr)
        if got != want:
            sys.exit(f"self-check: {expr!r} gave {sorted(got)}, want {sorted(want)}")


def scrape(portd):
    tmp = tempfile.mkdtemp(prefix="mimi-monitoring-")
    proc = None
    try:
        data = os.path.join(tmp, "data")
        config = os.path.join(tmp, "portd.toml")
        with open(config, "w") as f:
            f.write('domain = "monitoring.test"\n'
                    'listen = "127.0.0.1:0"\n'
                    'admin_listen = "127.0.0.1:0"\n'
                    f'data_dir = "{data}"\n'
                    'log_level = "warn"\n'
                    "[tls]\ninsecure_plain_http = true\n")
        proc = subprocess.Popen([portd, "--config", config],
                                stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        info = os.path.join(data, "portd.json")
        deadline = time.monotonic() + 30
        port = None
        while time.monotonic() < deadline and port is None:
            if proc.poll() is not None:
                sys.exit(f"mimi-portd exited {proc.returncode}: "
                         f"{proc.stderr.read().decode(errors='replace')}")
            try:
                with open(info) as f:
                    port = json.load(f)["public_port"]
            except (OSError, ValueError, KeyError):
                time.sleep(0.05)  # the file appears once the ports are bound
        if port is None:
            sys.exit("mimi-portd did not write portd.json within 30 s")
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=10) as r:
            return r.read().decode()
    finally:
        if proc is not None:
            proc.send_signal(signal.SIGTERM)
            try:
                proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
        shutil.rmtree(tmp, ignore_errors=True)


def main():
    if len(sys.argv) != 3:
        sys.exit(__doc__)
    portd, mon = sys.argv[1], sys.argv[2]
    self_check()
    exprs = []
    for name in sorted(os.listdir(mon)):
        path = os.path.join(mon, name)
        if name.endswith(".dashboard.json"):
            exprs += dashboard_exprs(path)
        elif name.endswith(".rules.yml"):
            exprs += rules_exprs(path)
    sources = {where.split(":")[0] for where, _ in exprs}
    if not any(s.endswith(".json") for s in sources) or \
       not any(s.endswith(".yml") for s in sources):
        sys.exit(f"{mon}: want a *.dashboard.json and a *.rules.yml with expressions")
    exported = set(re.findall(r"^# TYPE (\S+) ", scrape(portd), re.M))
    used = {}
    for where, expr in exprs:
        for n in metric_names(expr):
            used.setdefault(n, []).append(where)
    missing = {n: w for n, w in used.items() if n not in exported}
    for n, where in sorted(missing.items()):
        print(f"not exported by mimi-portd: {n} (used in {'; '.join(sorted(set(where)))})")
    if missing:
        return 1
    print(f"{len(exprs)} expressions use {len(used)} metrics, all exported: "
          f"{', '.join(sorted(used))}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
