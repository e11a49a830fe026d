"""docs/rules.md names, under each rule, every test that proves it — and nothing else."""

from __future__ import annotations

import re
from collections import defaultdict
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
RULE_TEST = re.compile(r"def (test_r(\d+)_\w+)")
HEADING = re.compile(r"^## (R\d+) ")
LISTED = re.compile(r"^- `([^`:]+)::(test_\w+)`$")


def _tests_by_rule() -> dict[str, set[str]]:
    found: dict[str, set[str]] = defaultdict(set)
    for path in sorted((REPO / "tests").rglob("test_*.py")):
        for match in RULE_TEST.finditer(path.read_text(encoding="utf-8")):
            found[f"R{match.group(2)}"].add(f"{path.relative_to(REPO)}::{match.group(1)}")
    return found


def _listed_by_rule() -> dict[str, set[str]]:
    listed: dict[str, set[str]] = defaultdict(set)
    rule = None
    for line in (REPO / "docs" / "rules.md").read_text(encoding="utf-8").splitlines():
        if heading := HEADING.match(line):
            rule = heading.group(1)
        elif (item := LISTED.match(line)) and rule is not None:
            listed[rule].add(f"{item.group(1)}::{item.group(2)}")
    return listed


def test_every_rule_test_is_listed_under_its_rule_in_docs_rules() -> None:
    found, listed = _tests_by_rule(), _listed_by_rule()
    assert sorted(listed) == sorted(f"R{n}" for n in range(1, 13))
    for rule in listed:
        assert found[rule], f"{rule} has no test"
        assert listed[rule] == found[rule], (
            rule,
            {"missing from docs/rules.md": sorted(found[rule] - listed[rule])},
            {"no such test": sorted(listed[rule] - found[rule])},
        )
