"""Fixtures of the integration tests."""

import pytest


@pytest.fixture
def no_plots(monkeypatch):
    """A comparison without its PNGs, for the tests of its table: the per-platform plots
    (:func:`tlmsim.plots.write_plots`) and compare.png (:func:`tlmsim.compare.plot_compare`)
    are about four fifths of a small comparison's CPU time (matplotlib; digits-conv on
    ddr4-baseline: the run about 0.2 s, its three plots about 1 s). The PNGs stay tested by
    tests/observability/test_plots.py (every platform's three plots) and
    tests/integration/test_cli.py (compare.png). Workers started by fork inherit the patch;
    from a fork server they would still plot, and the tables are the same either way."""
    import tlmsim.compare
    import tlmsim.plots

    monkeypatch.setattr(tlmsim.plots, "write_plots", lambda *args, **kwargs: None)
    monkeypatch.setattr(tlmsim.compare, "plot_compare", lambda table, path: None)
