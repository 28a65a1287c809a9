"""Fixtures shared by the dataflow tests."""

import pytest

from tlmsim.workload import load_workload


@pytest.fixture(scope="module")
def sparse(tmp_path_factory):
    """tests/dataflow/test_lazy_plans.py's SPARSE workload: synthetic spikes and weight masks, a
    shortcut, a pool and a flatten."""
    from tests.dataflow.test_lazy_plans import SPARSE

    path = tmp_path_factory.mktemp("lazy") / "sparse.yaml"
    path.write_text(SPARSE)
    return load_workload(path, seed=0)
