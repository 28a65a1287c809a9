"""`tlmsim` imports only what a command uses (issue 17, item 4).

Each case runs a fresh interpreter (imports are process-wide state) and lists the
top-level packages it loaded.
"""

import importlib.util
import json
import subprocess
import sys

import pytest

#: whether this environment has pyarrow, so that `tlmsim run` also writes Parquet
PARQUET = importlib.util.find_spec("pyarrow") is not None

#: packages only some commands need: plotting, the cluster back end, the search, NIR
#: graphs, the Perfetto timeline
OPTIONAL = {"matplotlib", "dask", "distributed", "optuna", "nir", "h5py", "perfetto"}

PROBE = """
import json, sys
from tlmsim.cli import main
rc = main(sys.argv[1:]) if len(sys.argv) > 1 else 0
print(json.dumps({"rc": rc, "modules": sorted({m.split(".")[0] for m in sys.modules})}))
"""


def loaded(*argv: str, cwd=None) -> set[str]:
    cp = subprocess.run([sys.executable, "-c", PROBE, *argv], capture_output=True, text=True, check=True, cwd=cwd)
    out = json.loads(cp.stdout.strip().splitlines()[-1])
    assert out["rc"] == 0
    return set(out["modules"])


def test_importing_the_cli_loads_no_model_or_table_library():
    mods = loaded()
    assert not mods & ({"pandas", "numpy", "pydantic", "simpy", "yaml", "pyarrow"} | OPTIONAL)


@pytest.mark.parametrize("extra", [[], ["--dataflow", "spikex"]])
def test_a_run_of_a_yaml_workload_loads_no_optional_package(tmp_path, extra):
    mods = loaded("run", "ddr4-baseline", "lenet5-mnist", "-q", "--out", str(tmp_path / "out"), *extra)
    # the CSVs are written without pandas; pandas (and pyarrow) come in only to write the
    # Parquet copies, which a run writes when pyarrow is installed (report.write_tables)
    assert ("pandas" in mods) == PARQUET, sorted(mods & {"pandas", "pyarrow"})
    assert not mods & OPTIONAL, sorted(mods & OPTIONAL)


def test_no_parquet_writes_csv_only_and_loads_no_table_library(tmp_path):
    """``--no-parquet``: the tables as CSV only, without pandas or pyarrow, also where pyarrow is
    installed (where it is not, a run writes no Parquet either way)."""
    out = tmp_path / "out"
    mods = loaded("run", "ddr4-baseline", "lenet5-mnist", "-q", "--out", str(out), "--no-parquet")
    assert not mods & {"pandas", "pyarrow"}, sorted(mods & {"pandas", "pyarrow"})
    names = sorted(p.name for p in out.iterdir())
    assert names and all(n.endswith(".csv") for n in names), names
    assert "summary.csv" in names


#: the modules of the six dataflows (tlmsim.dataflow._CLASSES)
DATAFLOW_MODULES = {"dense_ws", "dense_os", "dense_is", "ptb", "spikex", "event"}

SUBMODULES = """
import json, sys
from tlmsim.cli import main
rc = main(sys.argv[1:])
print(json.dumps({"rc": rc, "modules": sorted(m for m in sys.modules if m.startswith("tlmsim."))}))
"""


@pytest.mark.parametrize("dataflow", ["dense-ws", "spikex"])
def test_a_run_imports_the_module_of_its_own_dataflow_only(tmp_path, dataflow):
    cp = subprocess.run([sys.executable, "-c", SUBMODULES, "run", "ddr4-baseline", "lenet5-mnist", "-q", "--out",
                         str(tmp_path / "out"), "--dataflow", dataflow], capture_output=True, text=True, check=True)
    out = json.loads(cp.stdout.strip().splitlines()[-1])
    assert out["rc"] == 0
    loaded_dataflows = {m.split(".")[2] for m in out["modules"] if m.startswith("tlmsim.dataflow.")} & DATAFLOW_MODULES
    assert loaded_dataflows == {dataflow.replace("-", "_")}


def test_the_dataflow_table_names_every_dataflow_by_its_class():
    import tlmsim.dataflow as dataflow
    from tlmsim.platform.dataflow import DATAFLOWS as NAMES

    table = dataflow.DATAFLOWS
    assert tuple(table) == ("dense-ws", "dense-os", "dense-is", "ptb", "spikex", "event")
    assert set(table) == set(NAMES)
    assert all(cls.NAME == name and dataflow.dataflow_class(name) is cls for name, cls in table.items())
    assert dataflow.DATAFLOWS is table  # built once
    with pytest.raises(AttributeError):
        dataflow.NOT_A_NAME
