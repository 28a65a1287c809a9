"""config_io.safe_load: LibYAML when PyYAML has it, with the pure loader's values and errors."""

import pytest
import yaml

from tlmsim.config_io import read_yaml, safe_load
from tlmsim.errors import ConfigError
from tlmsim.resources import package_dir, shipped


@pytest.mark.parametrize("kind", ["platforms", "workloads"])
def test_shipped_files_load_to_the_pure_loaders_values(kind):
    files = [p for p in shipped(kind).values() if p.suffix == ".yaml"]
    assert files
    for p in files:
        text = p.read_text(encoding="utf-8")
        assert repr(safe_load(text)) == repr(yaml.safe_load(text)), p


def test_dram_presets_load_to_the_pure_loaders_values():
    text = (package_dir("data") / "dram_presets.yaml").read_text(encoding="utf-8")
    assert repr(safe_load(text)) == repr(yaml.safe_load(text))


def test_scalar_types_are_the_safe_loaders():
    assert safe_load("a: 1\nb: 1.5\nc: true\nd: 64KiB\ne: null\nf: [1, x]\ng: 0x10\n") == {
        "a": 1, "b": 1.5, "c": True, "d": "64KiB", "e": None, "f": [1, "x"], "g": 16}


def test_a_yaml_error_is_the_pure_loaders(tmp_path):
    bad = "name: x\nbuffers: {glb: [1, 2\n"
    with pytest.raises(yaml.YAMLError) as pure:
        yaml.safe_load(bad)
    with pytest.raises(yaml.YAMLError) as ours:
        safe_load(bad)
    assert str(ours.value) == str(pure.value)
    f = tmp_path / "p.yaml"
    f.write_text(bad)
    mark = pure.value.problem_mark
    with pytest.raises(ConfigError, match=f"line {mark.line + 1}, column {mark.column + 1}: invalid YAML"):
        read_yaml(f)
