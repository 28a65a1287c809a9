"""The parameter reference (docs/parameters.md) is generated from the schemas and current."""

from pathlib import Path

from tlmsim.paramdocs import document
from tlmsim.platform import Platform
from tlmsim.platform.reference import rows

DOC = Path(__file__).resolve().parents[2] / "docs" / "parameters.md"


def test_committed_reference_is_current():
    assert DOC.read_text() == document(), (
        "docs/parameters.md is stale: run python tools/gen_param_docs.py"
    )


def test_every_parameter_has_a_description_and_section_defaults_are_the_parents():
    table = {key: (tp, default, desc) for key, tp, default, _b, desc in rows(Platform)}
    assert all(desc for _tp, _d, desc in table.values())
    assert table["buffers.glb.capacity_bytes"][1] == repr(256 * 1024)
    assert table["buffers.l1.double_buffered"][1] == "True"
    assert table["dram.preset"][1] == "'DDR4-3200'"


def test_the_reference_documents_units_firing_rate_and_every_file_kind():
    text = DOC.read_text()
    # both size families, with the value each gives
    assert "`KB` = 1000" in text and "`KiB` = 1024" in text and "`512KB` = 512,000 bytes" in text
    for section in ("## Platform YAML", "## Workload YAML", "## Sweep file", "## Search file"):
        assert section in text
    assert "`layers[i].firing_rate`" in text and "takes 0.15" in text
    table = {key: default for key, _tp, default, _b, _d in rows(Platform)}
    assert table["name"] == "required"
