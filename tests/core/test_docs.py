"""The README tells the truth: two quick-start lines, the one CI runs, every command."""

import re

from market.cli import parser
from market.core.settings import ROOT

README = (ROOT / "README.md").read_text(encoding="utf-8")


def quick_start_lines():
    section = README.split("## Quick start", 1)[1].split("\n## ", 1)[0]
    blocks = re.findall(r"```sh\n(.*?)```", section, re.DOTALL)
    return [line for block in blocks for line in block.strip().splitlines()]


def test_quick_start_has_exactly_two_command_lines():
    lines = quick_start_lines()
    assert len(lines) == 2
    assert "market serve --demo" in lines[0]
    assert "pytest" in lines[1]


def test_ci_runs_the_second_line_verbatim():
    ci = (ROOT / ".ci" / "run").read_text()
    assert quick_start_lines()[1] in ci.splitlines()
    assert "set -euo pipefail" in ci


def test_every_cli_command_is_documented():
    sub = next(a for a in parser()._actions if a.dest == "command")
    for name, p in sub.choices.items():
        nested = [a for a in p._actions if getattr(a, "choices", None) and a.dest.endswith("_command")]
        commands = [f"market {name} {n}" for a in nested for n in a.choices] or [f"market {name}"]
        for command in commands:
            assert f"`{command}" in README, command


def test_the_catalogue_file_columns_are_documented():
    from market.catalogue.files import COLUMNS
    doc = (ROOT / "docs" / "catalogue.md").read_text(encoding="utf-8")
    documented = re.findall(r"^\| `(\w+)` \|", doc, re.MULTILINE)
    assert documented == list(COLUMNS)


def test_every_test_docs_security_names_exists():
    """docs/security.md names the test holding each promise (`test_file.py::name`, then further names
    from the same file): each must be there."""
    named: list[tuple[str, str]] = []
    for line in (ROOT / "docs" / "security.md").read_text(encoding="utf-8").splitlines():
        for cell in line.split("|"):
            module = None
            for m in re.finditer(r"`(?:(test_\w+)\.py::)?(test_\w+)`", cell):
                module = m.group(1) or module
                named.append((module, m.group(2)))
    assert len(named) > 60 and all(module for module, _ in named)
    # Test modules live in the folder of the part they test (tests mirror market/).
    files = {path.stem: path for path in (ROOT / "tests").rglob("test_*.py")}
    missing = [f"{module}.py::{name}" for module, name in named
               if module not in files
               or not re.search(rf"^(async )?def {name}\(", files[module].read_text(), re.MULTILINE)]
    assert missing == []
