"""Every committed NIR file (tests/data/nir/<framework>/, made by tools/nir_exports/)
through ``tlmsim validate``, ``run --verify`` and ``run --dataflow spikex --verify``
(no framework needed); and, when a framework is installed (the ``nirexport`` extra),
its export script re-run and compared with the committed files."""

import importlib.util
import sys
from pathlib import Path

import numpy as np
import pytest

from tlmsim.cli import main
from tlmsim.snn.graph import load_nir

ROOT = Path(__file__).resolve().parents[2]
DATA = ROOT / "tests" / "data" / "nir"
FILES = sorted(DATA.glob("*/*.nir"))
FRAMEWORKS = ("snntorch", "norse", "rockpool", "sinabs", "spyx")
#: the recurrent graphs (RSNNs) the frameworks' pip releases export: three frameworks
RSNNS = ("snntorch/rleaky", "snntorch/rsynaptic", "norse/rsnn", "spyx/rlif", "spyx/rcubalif")


def test_every_framework_and_the_hand_built_set_are_committed_with_versions():
    assert {p.parent.name for p in FILES} == {"hand", *FRAMEWORKS}
    for d in {p.parent for p in FILES}:
        versions = (d / "VERSIONS.txt").read_text()
        assert "nir==" in versions and "made by tools/nir_exports/" in versions
    assert len(FILES) >= 22


@pytest.mark.parametrize("name", RSNNS)
def test_framework_rsnns_import_as_recurrent_layers_with_their_real_masks(name):
    from tlmsim.workload import load_workload

    w = load_workload(DATA / f"{name}.nir", seed=0)
    rec = [layer for layer in w.layers if layer.recurrent]
    assert len(rec) == 1 and rec[0].op == "linear"
    key = rec[0].recurrent_key
    assert w.spikes[key].shape == (w.timesteps, rec[0].out_neurons) and not w.spikes[key][0].any()
    assert w.spikes[key].any()  # the recurrent synapse carries spikes
    assert w.weight_masks[key].shape == (rec[0].out_neurons,) * 2
    if name == "norse/rsnn":  # Norse zeroes the autapses: the real mask has an empty diagonal
        assert not np.diagonal(w.weight_masks[key]).any() and rec[0].recurrent_sparsity == pytest.approx(1 / 16)
    if name.startswith("spyx/"):  # Spyx's cell (its input wired into W_rec) is read as Spyx computes it
        assert any("as Spyx writes it" in n for n in w.graph.notes)


@pytest.mark.parametrize("path", FILES, ids=lambda p: f"{p.parent.name}/{p.stem}")
def test_a_committed_graph_validates_runs_and_verifies(path, tmp_path, capsys):
    assert main(["validate", str(path)]) == 0
    assert f"ok  {path}" in capsys.readouterr().out
    for extra in ([], ["--dataflow", "spikex"]):
        code = main(["run", str(path), "--verify", "--out", str(tmp_path / "out"), *extra])
        out, err = capsys.readouterr()
        assert code == 0 and "bit-exact against the fixed-point reference" in out, err


def _same_graph(a, b):
    assert [(n.name, n.kind, n.inputs, n.delayed, n.in_shape, n.out_shape) for n in a.nodes] == \
        [(n.name, n.kind, n.inputs, n.delayed, n.in_shape, n.out_shape) for n in b.nodes]
    for x, y in zip(a.nodes, b.nodes):
        for k, v in x.params.items():
            assert np.allclose(v, y.params[k], rtol=1e-6, atol=1e-7), (x.name, k)
    assert a.dt == pytest.approx(b.dt)


@pytest.mark.parametrize("framework", FRAMEWORKS)
def test_re_export_gives_the_committed_graphs(framework, tmp_path):
    pytest.importorskip(framework)  # sinabs: never import samna here (its import tries to reinstall itself)
    if framework in ("snntorch", "norse"):
        pytest.importorskip("nirtorch")  # their NIR export needs it (the nirexport extra has it, train does not)
    import nir

    if nir.__version__ != "1.0.8":  # sinabs 3.1.3 needs nir<=1.0.4: its environment cannot run tlmsim
        pytest.skip(f"tlmsim reads NIR with nir 1.0.8; this environment has nir {nir.__version__}")
    spec = importlib.util.spec_from_file_location(f"{framework}_export",
                                                  ROOT / "tools" / "nir_exports" / f"{framework}_export.py")
    mod = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = mod
    spec.loader.exec_module(mod)
    written = mod.export_all(tmp_path)
    assert sorted(p.name for p in written) == sorted(p.name for p in (DATA / framework).glob("*.nir"))
    for p in written:
        _same_graph(load_nir(p), load_nir(DATA / framework / p.name))


def test_hand_built_graphs_are_what_the_script_builds(tmp_path):
    spec = importlib.util.spec_from_file_location("hand_built", ROOT / "tools" / "nir_exports" / "hand_built.py")
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    for name in mod.GRAPHS:
        _same_graph(load_nir(mod.build(name)), load_nir(DATA / "hand" / f"{name}.nir"))
