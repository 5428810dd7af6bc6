#!/usr/bin/env python3
"""include_layering_test: every #include "dir/..." obeys the declared graph.

The build records, for each module library and for mimi-portd and
mimi-portctl, the directory its own headers live in, its declared direct
dependencies (mimi_module(... DEPS ...) in coordinator/CMakeLists.txt, the
link lists in tools/CMakeLists.txt) and its source paths; tests/CMakeLists.txt
writes them to <build>/layers.txt, one target a line:

    target|own_dir|dep,dep,...|path,path,...

A quoted include "X/..." in a target's .h or .cc is allowed when X is the
target's own directory, the public headers (mimi_portability), or the
directory of a mimi_X it lists in DEPS (direct only: reaching a header
through a dependency of a dependency hides an edge). Anything else is a
layering violation, reported as file:line and the edge. The declared graph
itself must have no cycle, and only mimi-portd may declare mimi_daemon. Exit status 0 when
clean, 1 otherwise.

    include_layering_test.py LAYERS_FILE
    include_layering_test.py --self-test   # proves the check bites
"""
import os
import re
import sys
import tempfile

PUBLIC_DIR = "mimi_portability"
INCLUDE = re.compile(r'^\s*#\s*include\s+"([A-Za-z0-9_]+)/[^"]+"', re.M)

# Edges tolerated while work that removes them is in flight, each named with
# why (none today). An entry here must name the issue that removes it.
KNOWN_EXCEPTIONS = {}


# Modules at the top of the graph and the only targets that may declare them:
# the daemon is mimi-portd's assembly of everything else, so a tool or module
# that needs a piece of it needs that piece moved down instead.
TOP_MODULES = {"mimi_daemon": {"mimi-portd"}}


def parse_layers(path):
    targets = []
    with open(path, encoding="utf-8") as f:
        for line in f:
            line = line.rstrip("\n")
            if not line:
                continue
            name, own, deps, paths = line.split("|")
            targets.append((name, own, [d for d in deps.split(",") if d],
                            [p for p in paths.split(",") if p]))
    return targets


def source_files(paths):
    for p in paths:
        if os.path.isdir(p):
            for name in sorted(os.listdir(p)):
                if name.endswith((".h", ".cc")):
                    yield os.path.join(p, name)
        elif os.path.isfile(p):
            yield p


def allowed_dirs(own, deps):
    dirs = {PUBLIC_DIR}
    if own:
        dirs.add(own)
    for d in deps:
        if d.startswith("mimi_"):
            dirs.add(d[len("mimi_"):])
    return dirs


def check(targets, exceptions):
    """Returns the violations as printable lines."""
    problems = []
    for name, own, deps, paths in targets:
        ok = allowed_dirs(own, deps)
        files = list(source_files(paths))
        if not files:
            problems.append(f"{name}: no sources under {paths}")
        for path in files:
            with open(path, encoding="utf-8") as f:
                text = f.read()
            for m in INCLUDE.finditer(text):
                d = m.group(1)
                if d in ok or (name, d) in exceptions:
                    continue
                line = text.count("\n", 0, m.start()) + 1
                problems.append(
                    f"{path}:{line}: {name} includes \"{d}/...\" but does not "
                    f"declare mimi_{d} (declared: {', '.join(deps) or 'none'})")
    return problems


def top_users(targets):
    """Declared edges into a top module from a target not allowed it."""
    return [f"{name} declares {d}, which only {', '.join(sorted(users))} may"
            for name, _, deps, _ in targets
            for d, users in TOP_MODULES.items()
            if d in deps and name not in users]


def cycles(targets):
    """Declared module edges that close a cycle (the graph must point down)."""
    graph = {name: [d for d in deps if d.startswith("mimi_")]
             for name, _, deps, _ in targets}
    found, state = [], {}

    def visit(node, stack):
        state[node] = "open"
        for nxt in graph.get(node, []):
            if state.get(nxt) == "open":
                found.append(" -> ".join(stack[stack.index(nxt):] + [nxt]))
            elif nxt not in state:
                visit(nxt, stack + [nxt])
        state[node] = "done"

    for node in graph:
        if node not in state:
            visit(node, [node])
    return [f"declared dependency cycle: {c}" for c in found]


def self_test():
    """A module including a header of an undeclared module must be caught,
    and a declared or own include must not."""
    with tempfile.TemporaryDirectory() as root:
        for d in ("low", "high"):
            os.mkdir(os.path.join(root, d))
        with open(os.path.join(root, "low", "a.h"), "w") as f:
            f.write('#include "low/b.h"\n#include "mimi_portability/s.h"\n'
                    '#include "high/c.h"\n')
        with open(os.path.join(root, "high", "c.cc"), "w") as f:
            f.write('#include "high/c.h"\n  #  include "low/a.h"\n')
        targets = [("mimi_low", "low", ["Threads::Threads"],
                    [os.path.join(root, "low")]),
                   ("mimi_high", "high", ["mimi_low"],
                    [os.path.join(root, "high")])]
        problems = check(targets, {})
        if len(problems) != 1 or "a.h:3: mimi_low includes \"high/" \
                not in problems[0]:
            print("self-test: expected exactly the low -> high edge, got:")
            print("\n".join(problems) or "(nothing)")
            return 1
        if check(targets, {("mimi_low", "high"): "tolerated"}):
            print("self-test: a named exception was not honoured")
            return 1
        targets[0][2].append("mimi_high")
        if len(cycles(targets)) != 1:
            print("self-test: the cycle low -> high -> low was not reported")
            return 1
        if len(top_users([("mimi-portctl", "cli", ["mimi_daemon"], [])])) != 1:
            print("self-test: a tool declaring mimi_daemon was not reported")
            return 1
    print("self-test: the check reports an undeclared edge and a cycle, "
          "and nothing else")
    return 0


def main(argv):
    if argv[1:] == ["--self-test"]:
        return self_test()
    if len(argv) != 2:
        print(__doc__)
        return 2
    targets = parse_layers(argv[1])
    if not targets:
        print(f"{argv[1]}: no targets recorded")
        return 1
    problems = (top_users(targets) + cycles(targets) +
                check(targets, KNOWN_EXCEPTIONS))
    for (target, d), why in KNOWN_EXCEPTIONS.items():
        print(f"tolerated for now: {target} -> {d} ({why})")
    if problems:
        print("\n".join(problems))
        print(f"{len(problems)} include(s) break the declared layering "
              "(add the dependency to the target's DEPS if it is legitimate "
              "and points down, or move the code)")
        return 1
    print(f"{len(targets)} targets: every include is declared")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
