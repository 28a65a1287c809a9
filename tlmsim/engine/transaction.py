"""The transaction: tlmsim's generic payload and the unit of the trace.

Like a TLM-2.0 generic payload, a transaction names a command, an address, a length
in bytes and what the bytes are (its data class), plus where it comes from and goes
to, which layer/tile/timestep window it serves, and timing annotations filled in as
it moves. One transaction is one burst- or tile-sized move of data (or one tile of
compute), never a single cycle.
"""

from __future__ import annotations

from enum import IntEnum
from typing import Any


class Cmd(IntEnum):
    """What a transaction asks of the component that serves it."""

    READ = 0
    WRITE = 1
    COMPUTE = 2

    @property
    def label(self) -> str:
        return self.name.lower()


class DataClass(IntEnum):
    """What the bytes of a transaction are."""

    SPIKES = 0  #: input spikes of a layer (1 bit per neuron per timestep, before encoding)
    WEIGHTS = 1  #: synaptic weights (weight_bits each)
    MEMBRANE = 2  #: membrane potentials (neuron state kept across timesteps)
    PSUM = 3  #: partial sums (accumulator width)
    OUT_SPIKES = 4  #: output spikes of a layer
    NONE = 5  #: compute transactions, benchmark traffic

    @property
    def label(self) -> str:
        return self.name.lower()


class Transaction:
    """One move of data (or one tile of compute) through the hardware.

    ``address`` is a byte address in the target's address space (DRAM physical
    address, buffer offset). ``cycles`` is used by COMPUTE transactions only: the
    stall-free duration the dataflow computed, in accelerator cycles. ``t_first``,
    ``t_last``: the timestep window it serves (the last inclusive); ``issued_ps``: when the
    initiator issued it; ``done_ps``: when the last hop finished; ``data``: the data itself
    (verification mode); ``chain``: the DMA block this hop belongs to (hops of one block share
    it; -1: none).

    A record with the fields of ``__slots__``, in that order (positional or by name), equal
    only to itself. Written out rather than a dataclass so that the compiled build makes it an
    extension type (tlmsim/engine/transaction.pxd): a run makes one per DRAM access and per
    hop with a trace sink, and a dataclass's fields are set through slot descriptors, by name
    (docs/performance.md, "Sessions 31 and 32").
    """

    __slots__ = ("id", "cmd", "data_class", "address", "nbytes", "source", "destination", "layer", "tile", "t_first",
                 "t_last", "cycles", "issued_ps", "done_ps", "data", "chain")

    def __init__(self, id: int, cmd: Cmd, data_class: DataClass, address: int, nbytes: int, source: str,
                 destination: str, layer: int = -1, tile: int = -1, t_first: int = 0, t_last: int = 0,
                 cycles: int = 0, issued_ps: int = -1, done_ps: int = -1, data: Any = None, chain: int = -1) -> None:
        self.id = id
        self.cmd = cmd
        self.data_class = data_class
        self.address = address
        self.nbytes = nbytes
        self.source = source
        self.destination = destination
        self.layer = layer
        self.tile = tile
        self.t_first = t_first
        self.t_last = t_last
        self.cycles = cycles
        self.issued_ps = issued_ps
        self.done_ps = done_ps
        self.data = data
        self.chain = chain

    def __repr__(self) -> str:
        return (
            f"Transaction(#{self.id} {self.cmd.label} {self.data_class.label} {self.nbytes}B "
            f"@{self.address:#x} {self.source}->{self.destination} L{self.layer} T{self.tile})"
        )


# The compiled build of this file (setup.py, tlmsim/kernels.py) takes this module's place when it is
# installed, was built from this very source and TLMSIM_PURE is unset; the build is a copy under
# another module name, so it skips this.
if __name__ == "tlmsim.engine.transaction":
    from tlmsim.kernels import use_compiled

    use_compiled(__name__, __file__)
