"""Progress of long runs on a terminal.

:class:`RunProgress` shows one run as a bar on stderr: layers finished out of the
workload's layers, and the simulated time reached. A background thread polls the
run a few times a second (it only reads ``len(controller.layers)`` and
``env.now``), so the event loop is not touched and the results cannot change. The
bar appears only after :data:`DELAY_S` seconds (a short run prints nothing) and
only when :func:`wanted` says so: stderr is a terminal and ``--quiet`` is not given.
"""

from __future__ import annotations

import sys
import threading

#: a bar appears only for runs longer than this (tqdm's ``delay``)
DELAY_S = 1.0
#: how often the thread polls the run
POLL_S = 0.25


def wanted(quiet: bool = False, stream=None) -> bool:
    """Whether to show progress: not ``quiet`` and ``stream`` (stderr) is a terminal."""
    stream = sys.stderr if stream is None else stream
    try:
        return not quiet and stream.isatty()
    except (AttributeError, ValueError):
        return False


class RunProgress:
    """A progress bar of one simulation, fed by polling (see the module)."""

    def __init__(self, label: str, layers: int, *, stream=None, delay_s: float | None = None,
                 poll_s: float | None = None) -> None:
        self.label, self.layers = label, layers
        self.stream = sys.stderr if stream is None else stream
        self.delay_s = DELAY_S if delay_s is None else delay_s
        self.poll_s = POLL_S if poll_s is None else poll_s
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._bar = None

    def attach(self, env, controller) -> None:
        """Start polling ``env`` (SimPy) and ``controller`` (its finished ``layers``)."""
        from tqdm import tqdm

        self._bar = tqdm(total=self.layers, desc=self.label, unit="layer", file=self.stream, delay=self.delay_s,
                         leave=False, dynamic_ncols=True)
        self._thread = threading.Thread(target=self._poll, args=(env, controller), name="tlmsim-progress",
                                        daemon=True)
        self._thread.start()

    def _poll(self, env, controller) -> None:
        bar, shown = self._bar, 0
        while not self._stop.wait(self.poll_s):
            done = len(controller.layers)
            if done > shown:
                bar.update(done - shown)
                shown = done
            bar.set_postfix_str(f"{env.now / 1e6:.1f} us simulated", refresh=True)

    def close(self) -> None:
        """Stop polling and remove the bar."""
        self._stop.set()
        if self._thread is not None:
            self._thread.join()
        if self._bar is not None:
            self._bar.close()
