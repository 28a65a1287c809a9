"""The platform reference (docs/parameters.md) is generated from the schema and current."""

from pathlib import Path

from tlmsim.platform import Platform
from tlmsim.platform.reference import markdown, rows

DOC = Path(__file__).resolve().parents[2] / "docs" / "parameters.md"


def test_committed_reference_is_current():
    assert DOC.read_text() == markdown(Platform, "Platform YAML reference"), (
        "docs/parameters.md is stale: run python tools/gen_param_docs.py"
    )


def test_every_parameter_has_a_description_and_section_defaults_are_the_parents():
    table = {key: (tp, default, desc) for key, tp, default, _b, desc in rows(Platform)}
    assert all(desc for _tp, _d, desc in table.values())
    assert table["buffers.glb.capacity_bytes"][1] == repr(256 * 1024)
    assert table["buffers.l1.double_buffered"][1] == "True"
    assert table["dram.preset"][1] == "'DDR4-3200'"
