"""The structure the code keeps, checked: layers that point down (import-linter, configured in
pyproject.toml), ruff, types checked everywhere and strictly on the core, no SQL in controllers, one
workflow type whose every transition is walked from the data, every page with a JSON twin in
OpenAPI, and the README's layout true to the tree."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest
from litestar.routes import HTTPRoute

from market.app import create_app, load_settings
from tools import structure

ROOT = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent


def _run(*command: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(command, cwd=ROOT, capture_output=True, text=True, timeout=600)


def test_layers_point_down():
    result = _run(str(BIN / "lint-imports"))
    assert result.returncode == 0, result.stdout[-4000:]


def test_ruff_finds_nothing():
    result = _run(str(BIN / "ruff"), "check", "market", "tests", "tools")
    assert result.returncode == 0, result.stdout[-4000:]


def test_the_core_is_strictly_typed():
    result = _run(str(BIN / "mypy"), "--strict", "market/core")
    assert result.returncode == 0, result.stdout[-4000:]


def test_the_whole_package_is_typed():
    result = _run(str(BIN / "mypy"), "market")
    assert result.returncode == 0, result.stdout[-4000:]


def test_no_module_level_cycle_between_parts_of_market():
    assert structure.part_cycles() == []


def test_controllers_write_no_sql():
    found = [where for where in structure.inline_sql() if structure.is_controller(Path(where.split(":")[0]))]
    assert found == []


@pytest.fixture(scope="module")
def app():
    return create_app(load_settings({"MARKET_SECRET_KEY": "s" * 40, "DATABASE_URL": "postgresql://unused/x"}))


def test_no_page_hides_a_name_every_template_has(app):
    """A page's own `KIND_NAMES` (the workbench's lists) once hid the organisations' kinds from the
    switch between organisations it includes: an error page for everyone in two organisations."""
    shared = set(app.state.templates.globals)
    assert [(where, name) for where, name in structure.page_context() if name in shared] == []


# What a GET route that is not a page declares instead of a twin, in its opt: `shows`.
NOT_PAGES = {"form", "file", "pdf", "stream", "redirect"}


def _gets(app):
    for route in app.routes:
        if isinstance(route, HTTPRoute):
            for handler in route.route_handlers:
                if "GET" in handler.http_methods:
                    yield route.path, handler


def test_every_page_has_a_json_twin_described_in_openapi(app):
    schema = app.openapi_schema.to_schema()
    json_gets = {path for path, handler in _gets(app) if path.startswith("/api/")}
    missing = []
    for path, handler in _gets(app):
        if path.startswith(("/api/", "/static", "/schema", "/health", "/_test")):
            continue
        shows = handler.opt.get("shows")
        if shows is not None:
            assert shows in NOT_PAGES, f"{path}: shows={shows!r}"
            continue
        twin = handler.opt.get("twin", "/api" + ("" if path == "/" else path))
        if twin not in json_gets:
            missing.append(f"{path} (no GET {twin})")
        elif "get" not in schema["paths"].get(re.sub(r"\{(\w+):\w+\}", r"{\1}", twin), {}):
            missing.append(f"{path} (GET {twin} is not in OpenAPI)")
    assert missing == [], "\n".join(missing)


def test_every_machine_is_walked_allowed_and_refused():
    """Every declared life cycle, every action from every status: allowed where the data says, and
    refused (naming what can be done) everywhere else."""
    from market.core.errors import Conflict, Forbidden
    from market.workflow import MACHINES

    assert MACHINES, "no life cycle is declared"
    for machine in MACHINES.values():
        for source in machine.statuses:
            for action in machine.actions:
                transition = machine.find(action, source)
                if transition is None:
                    with pytest.raises(Conflict):
                        machine.check(action, source, {"*"} | {w for t in machine.transitions for w in t.who})
                    continue
                assert transition.target in machine.statuses
                assert machine.check(action, source, transition.who) is transition
                with pytest.raises(Forbidden):
                    machine.check(action, source, {"nobody in particular"})


def _layout_block() -> str:
    readme = (ROOT / "README.md").read_text()
    section = readme.split("## How the code is laid out", 1)[1]
    return section.split("```", 2)[1]


def test_the_readme_layout_names_every_part_and_nothing_else():
    """Each line of the layout starts with the path it describes (a top-level folder or file, or a
    part of market/ indented under it); continuation lines are indented further."""
    named = set()
    parent = ""
    for line in _layout_block().splitlines():
        if not line.strip() or line.startswith(" " * 6):
            continue
        token = line.split()[0]
        if line.startswith(" "):
            named.add((parent + token).rstrip("/"))
        else:
            parent = token
            named.add(token.rstrip("/"))
    missing_on_disk = sorted(p for p in named if not (ROOT / p).exists())
    assert missing_on_disk == [], f"the README names what is not there: {missing_on_disk}"
    parts = {f"market/{p.name}" for p in (ROOT / "market").iterdir()
             if (p.is_dir() and (p / "__init__.py").exists()) or (p.suffix == ".py" and p.name != "__init__.py"
                                                                   and p.name != "__main__.py")}
    assert sorted(parts - named) == [], "the README's layout does not name these parts of market/"
