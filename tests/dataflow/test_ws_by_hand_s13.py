"""dataflow/ws.py: what the session-13 mutation run of WsStreaming's changed functions (tag s13ws,
mutAudit) showed no test reached.

``WsStreaming._stream_by_shape()`` says whether a fold's stream follows from the tile's shape alone
(then ``_steps`` memoises tiles by shape): true for the plain stream rule (dense-ws), false for a
subclass with its own ``_fold_stream`` (whose stream may depend on which chunk and fold it is)
unless that subclass says otherwise (spikex without skipping: its own ``_stream_by_shape``).
"""

from tlmsim.dataflow import make_dataflow
from tlmsim.dataflow.dense_ws import DenseWS
from tlmsim.dataflow.ws import WsStreaming
from tlmsim.platform import load_platform
from tests.dataflow.test_planning_shortcuts import MIXED, _workload


class _OwnStream(DenseWS):
    """dense-ws with a stream rule of its own (the plain one under another name)."""

    def _fold_stream(self, cf, f, w0, w1, nc):
        return WsStreaming._fold_stream(self, cf, f, w0, w1, nc)


def test_only_the_plain_stream_rule_is_memoised_by_shape(tmp_path):
    wl = _workload(tmp_path, MIXED)
    plat = load_platform("ddr4-baseline", ["dataflow.name=dense-ws", "pe_array.rows=4", "pe_array.cols=4"])
    dense = make_dataflow(plat, wl)
    assert type(dense) is DenseWS
    assert dense._stream_by_shape() is True
    assert _OwnStream(platform=plat, workload=wl)._stream_by_shape() is False
    spx = make_dataflow(load_platform("ddr4-baseline", ["dataflow.name=spikex", "dataflow.zero_skip=false",
                                                        "pe_array.rows=4", "pe_array.cols=4"]), wl)
    assert type(spx).__name__ == "SpikeX" and spx._stream_by_shape() is True
