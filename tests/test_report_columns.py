"""Every column of layers.csv is documented in the README's "What a run writes" table."""

from __future__ import annotations

import re
from pathlib import Path

from tlmsim.soc.run import simulate
from tlmsim.platform import load_platform
from tlmsim.report import build_report
from tlmsim.workload import load_workload

README = Path(__file__).resolve().parent.parent / "README.md"


def documented(table_heading: str) -> list[re.Pattern]:
    """The column names of the README table under ``table_heading`` as patterns
    (``<name>`` stands for any word of letters, digits and underscores)."""
    text = README.read_text()
    start = text.index(table_heading)
    rows = []
    for line in text[start:].splitlines()[1:]:
        if line.startswith("|"):
            rows.append(line)
        elif rows:
            break
    names = []
    for row in rows[2:]:  # past the header and the |---| line
        names += re.findall(r"`([a-z0-9_<>]+)`", row.split("|")[1])
    return [re.compile("^" + re.sub(r"<[a-z]+>", "[a-z0-9_]+", re.escape(n).replace(r"\<", "<").replace(r"\>", ">"))
                       + "$") for n in names]


def test_every_layers_column_is_in_the_readme():
    report = build_report(simulate(load_platform(None, []), load_workload("digits-snn", seed=0)))
    patterns = documented("**`layers.csv`**")
    assert len(patterns) > 20
    missing = [c for c in report.layers.columns if not any(p.match(c) for p in patterns)]
    assert not missing, f"layers.csv columns not in README.md: {missing}"
    assert any(p.pattern.startswith("^energy_") for p in patterns)
