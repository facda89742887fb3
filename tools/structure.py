"""Figures on the code's structure, printed for a closing note or a review:
`python -m tools.structure`. Cycles are counted between top-level parts of `market/`
(a package or a module directly under it, the core counting as one part); inline SQL is every
string literal in Python that starts like a statement; a hand-written POST block is a `try` in a
controller whose handler catches a domain error; function length is in lines."""

from __future__ import annotations

import ast
import re
import sys
from collections import defaultdict
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PACKAGE = ROOT / "market"
SQL = re.compile(r"^\s*(select|insert\s+into|update\s+\w+\s+set|delete\s+from|with\s+\w+\s+as|"
                 r"create\s|alter\s|drop\s|lock\s|notify\s|listen\s)", re.IGNORECASE)
DOMAIN_ERRORS = {"MarketError", "Invalid", "InvalidFields", "Conflict", "NotFound", "Forbidden"}


def part_of(module: str) -> str | None:
    bits = module.split(".")
    if bits[0] != "market" or len(bits) < 2:
        return None
    return bits[1]


def modules() -> dict[str, Path]:
    found = {}
    for path in PACKAGE.rglob("*.py"):
        rel = path.relative_to(ROOT).with_suffix("")
        name = ".".join(rel.parts)
        found[name.removesuffix(".__init__")] = path
    return found


def imports(name: str, path: Path) -> set[str]:
    tree = ast.parse(path.read_text())
    found = set()
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found.update(a.name for a in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                base = ".".join(package.split(".")[: len(package.split(".")) - node.level + 1] + ([base] if base else []))
            found.add(base)
            found.update(f"{base}.{a.name}" for a in node.names)
    return found


def strongly_connected(graph: dict[str, set[str]]) -> list[list[str]]:
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on: set[str] = set()
    out: list[list[str]] = []
    counter = [0]

    def visit(v: str) -> None:
        index[v] = low[v] = counter[0]
        counter[0] += 1
        stack.append(v)
        on.add(v)
        for w in graph.get(v, ()):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            comp = []
            while True:
                w = stack.pop()
                on.discard(w)
                comp.append(w)
                if w == v:
                    break
            if len(comp) > 1:
                out.append(sorted(comp))

    sys.setrecursionlimit(10000)
    for v in list(graph):
        if v not in index:
            visit(v)
    return out


def is_controller(path: Path) -> bool:
    return "controllers" in path.name or path.name == "pages.py" or path.parent.name == "controllers"


def _is_sql(node: ast.AST) -> bool:
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return bool(SQL.match(node.value)) and len(node.value.split()) > 2
    return isinstance(node, ast.JoinedStr) and bool(node.values) and isinstance(node.values[0], ast.Constant) \
        and bool(SQL.match(str(node.values[0].value)))


def inline_sql() -> list[str]:
    """Where each SQL statement written in Python is, as path:line."""
    return [f"{path.relative_to(ROOT)}:{node.lineno}" for path in modules().values()
            for node in ast.walk(ast.parse(path.read_text())) if _is_sql(node)]


def page_context() -> list[tuple[str, str]]:
    """Each name a call of `page` (market.core.web) gives its template, with where, as path:line."""
    return [(f"{path.relative_to(ROOT)}:{node.lineno}", keyword.arg) for path in modules().values()
            for node in ast.walk(ast.parse(path.read_text()))
            if isinstance(node, ast.Call) and getattr(node.func, "id", getattr(node.func, "attr", None)) == "page"
            for keyword in node.keywords if keyword.arg]


def part_graph() -> dict[str, set[str]]:
    mods = modules()
    graph: dict[str, set[str]] = defaultdict(set)
    for name, path in mods.items():
        me = part_of(name)
        for target in imports(name, path):
            other = part_of(target)
            if me and other and other != me and f"market.{other}" in mods:
                graph[me].add(other)
    return graph


def part_cycles() -> list[list[str]]:
    return strongly_connected(part_graph())


def main() -> None:
    mods = modules()
    graph: dict[str, set[str]] = defaultdict(set)
    module_graph: dict[str, set[str]] = defaultdict(set)
    sql_total = sql_controllers = post_blocks = 0
    lengths: list[tuple[int, str]] = []
    for name, path in mods.items():
        source = path.read_text()
        tree = ast.parse(source)
        me = part_of(name)
        for target in imports(name, path):
            if target in mods:
                module_graph[name].add(target)
            other = part_of(target)
            if me and other and other != me and (f"market.{other}" in mods):
                graph[me].add(other)
        controller = is_controller(path)
        for node in ast.walk(tree):
            if _is_sql(node):
                sql_total += 1
                sql_controllers += controller
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
                lengths.append((node.end_lineno - node.lineno + 1, f"{path.relative_to(ROOT)}:{node.name}"))
            if controller and isinstance(node, ast.Try):
                for handler in node.handlers:
                    names = {n.id for n in ast.walk(handler.type) if isinstance(n, ast.Name)} if handler.type else set()
                    names |= {n.attr for n in ast.walk(handler.type) if isinstance(n, ast.Attribute)} if handler.type else set()
                    if names & DOMAIN_ERRORS:
                        post_blocks += 1
                        break
    part_cycles = strongly_connected(graph)
    module_cycles = strongly_connected(module_graph)
    named = len(list((ROOT / "sql" / "queries").rglob("*.sql")))
    named_queries = sum(len(re.findall(r"^--\s*name:", p.read_text(), re.MULTILINE)) for p in (ROOT / "sql" / "queries").rglob("*.sql"))
    print(f"cycles between parts of market/: {len(part_cycles)}")
    for comp in part_cycles:
        print(f"  {len(comp)} parts: {', '.join(comp)}")
    print(f"module-level import cycles: {len(module_cycles)} (largest {max((len(c) for c in module_cycles), default=0)} modules)")
    print(f"inline SQL statements in Python: {sql_total} ({sql_controllers} in controllers)")
    print(f"named queries: {named_queries} in {named} files")
    print(f"hand-written POST blocks (try/except on a domain error in controllers): {post_blocks}")
    print("longest functions:")
    for n, where in sorted(lengths, reverse=True)[:8]:
        print(f"  {n:4d} {where}")


if __name__ == "__main__":
    main()
