#!/usr/bin/env python3
"""Finds import cycles between the modules of each crate (`make lint` runs it).

A module is a file under `<crate>/src`; module A imports module B when A names a path into B
(`use crate::b::…`, `crate::b::…` in code, `super::…`, `self::…`, or a child module by its
name). A `mod` declaration alone is not an import, and neither is a path to the crate's root:
`lib.rs` is the crate's front door, re-exporting its modules' names (`domain::Error`), and
likewise a path from a module to one enclosing it (`super::Thing` to a `mod.rs`). Cargo
already forbids cycles between crates; this finds them inside one. Exits 1 and prints each
cycle when there is one.
"""

import re
import sys
from pathlib import Path

CRATES = ["common", "domain", "migrations", "app", "server", "frontend"]


def module_of(src: Path, file: Path) -> tuple[str, ...]:
    parts = list(file.relative_to(src).with_suffix("").parts)
    if parts[-1] in ("lib", "main", "mod"):
        parts.pop()
    return tuple(parts)


def strip_comments(text: str) -> str:
    text = re.sub(r"/\*.*?\*/", "", text, flags=re.S)
    text = re.sub(r'"(?:\\.|[^"\\])*"', '""', text)
    return re.sub(r"//[^\n]*", "", text)


def expand(path: str) -> list[str]:
    """`a::{b, c::{d}}` → ["a::b", "a::c::d"]."""
    path = re.sub(r"\s+", "", path)
    start = path.find("{")
    if start < 0:
        return [path]
    depth, items, current = 0, [], ""
    for ch in path[start + 1 : path.rindex("}")]:
        if ch == "," and depth == 0:
            items.append(current)
            current = ""
            continue
        depth += ch == "{"
        depth -= ch == "}"
        current += ch
    items.append(current)
    head = path[:start]
    return [full for item in items if item for full in expand(head + item)]


def paths_in(text: str) -> list[str]:
    found = []
    for statement in re.findall(r"\buse\s+([^;]+);", text):
        found.extend(expand(re.sub(r"\bas\s+\w+", "", statement)))
    found.extend(re.findall(r"\b(?:crate|super|self)(?:::\w+)+", text))
    return found


def resolve(path: str, here: tuple[str, ...], is_dir_module: bool, modules: set) -> tuple | None:
    parts = [p for p in path.split("::") if p]
    if not parts:
        return None
    if parts[0] == "crate":
        base, rest = (), parts[1:]
    elif parts[0] in ("self", "super"):
        # `self` is the module itself, whether it is a file (`a/b.rs`) or a directory's
        # `mod.rs`: `module_of` already names both by their path.
        base, rest = here, parts
        while rest and rest[0] in ("self", "super"):
            if rest[0] == "super":
                base = base[:-1]
            rest = rest[1:]
    elif here + (parts[0],) in modules and is_dir_module:
        base, rest = here, parts
    else:
        return None
    target = base
    for part in rest:
        if target + (part,) in modules:
            target = target + (part,)
        else:
            break
    return target


def is_ancestor_or_self(target: tuple, here: tuple) -> bool:
    """A path to a module enclosing `here` names that module's own items, the front door of
    its children (as `lib.rs` is the crate's): `super::Thing` from `a/b.rs` is no import."""
    return here[: len(target)] == target


def cycles(graph: dict) -> list[list]:
    index, low, stack, on_stack, found = {}, {}, [], set(), []
    counter = [0]

    def visit(node):
        index[node] = low[node] = counter[0]
        counter[0] += 1
        stack.append(node)
        on_stack.add(node)
        for succ in graph.get(node, ()):
            if succ not in index:
                visit(succ)
                low[node] = min(low[node], low[succ])
            elif succ in on_stack:
                low[node] = min(low[node], index[succ])
        if low[node] == index[node]:
            component = []
            while True:
                member = stack.pop()
                on_stack.discard(member)
                component.append(member)
                if member == node:
                    break
            if len(component) > 1:
                found.append(component)

    for node in list(graph):
        if node not in index:
            visit(node)
    return found


def import_graph(src: Path) -> dict:
    """Module → the modules it imports, for the crate whose sources are under `src`."""
    files = sorted(src.rglob("*.rs"))
    modules = {module_of(src, f) for f in files}
    graph = {}
    for file in files:
        here = module_of(src, file)
        is_dir_module = file.name in ("lib.rs", "main.rs", "mod.rs")
        text = strip_comments(file.read_text())
        if not here:
            continue
        edges = graph.setdefault(here, set())
        for path in paths_in(text):
            target = resolve(path, here, is_dir_module, modules)
            if target and not is_ancestor_or_self(target, here):
                edges.add(target)
    return graph


def main() -> int:
    root = Path(__file__).resolve().parent.parent
    problems = 0
    for crate in CRATES:
        for component in cycles(import_graph(root / crate / "src")):
            problems += 1
            names = ", ".join("::".join((crate,) + m) for m in sorted(component))
            print(f"import cycle in {crate}: {names}")
    if problems == 0:
        print(f"no import cycles in {', '.join(CRATES)}")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
