"""Packaging beyond setup.cfg.

* The shipped platforms/ and workloads/ live at the repository's top level and install as
  tlmsim's package data (tlmsim/platforms, tlmsim/workloads), so `pip install . && tlmsim
  run` works from any directory.
* An optional compiled build of the hot modules (tlmsim/kernels.py's HOT_MODULES: the DRAM
  model, the per-hop hardware, the engine, the run loop, the dataflows;
  tlmsim/kernels.py says how it is chosen at import): a build-time copy of each source,
  unchanged but for one appended line that records the SHA-256 of the source and its
  declarations, compiled by Cython (pure-Python mode; the DRAM model's types come from
  tlmsim/hw/dram.pxd, copied beside it, and dram.py's ``# @cython.locals(...)`` comments, made
  decorators in the copy (tlmsim/kernels.py's typed_source); ``annotation_typing=False``: the
  annotations stay documentation) into the extension module ``_tlmsim_compiled.<package>_<module>``
  (``_tlmsim_compiled.hw_dram``, ...), built on every core. Without Cython or a C compiler, or
  when the build fails, the install goes on with the pure package (a warning says why);
  ``TLMSIM_PURE=1 pip install .`` skips the build.
"""

import hashlib
import os
import sys
from pathlib import Path

from setuptools import Extension, find_packages, setup
from setuptools.command.build_ext import build_ext

sys.path.insert(0, str(Path(__file__).resolve().parent))
from tlmsim import kernels  # noqa: E402 -- stdlib only: which modules compile; declarations' comments -> decorators

SHIPPED = {"tlmsim.platforms": "platforms", "tlmsim.workloads": "workloads"}
ROOT = Path(__file__).resolve().parent
#: compiled build -> the source it is built from (tlmsim/kernels.py's COMPILED, turned around)
COMPILED = {build: module.replace(".", "/") + ".py" for module, build in kernels.COMPILED.items()}
#: where the build-time copies go (under build/, which git ignores)
COPIES = Path("build") / "cython-src"
#: -O2 without debug info: about as fast as the interpreter's default -O3 -g and quicker to build
CFLAGS = ["-O2", "-g0"]


def _warn(msg: str) -> None:
    print(f"tlmsim setup: {msg}; installing the pure-Python modules only", file=sys.stderr)


def _write(full: Path, body: bytes) -> None:
    """Write ``body`` to ``full`` only if it changed (so Cython's own up-to-date check holds)."""
    if not full.exists() or full.read_bytes() != body:
        full.parent.mkdir(parents=True, exist_ok=True)
        full.write_bytes(body)


def _copy(name: str, source: str) -> str:
    """Write the build-time copy of ``source`` for module ``name``, with its type declarations
    (the ``.pxd`` beside it, if any) beside the copy; return the copy's path relative to the
    project. The digest covers both files (tlmsim/kernels.py's source_digest)."""
    text = (ROOT / source).read_bytes()
    pxd = (ROOT / source).with_suffix(".pxd")
    decl = pxd.read_bytes() if pxd.exists() else b""
    digest = hashlib.sha256(text + decl).hexdigest()
    typed, _n = kernels.typed_source(text.decode("utf-8"))
    body = typed.encode("utf-8") + (f"\n\n_SOURCE_SHA256 = {digest!r}  # written by setup.py: the source this build is of\n"
                                    .encode())
    out = COPIES / Path(*name.split(".")).with_suffix(".py")
    _write(ROOT / out, body)
    if decl:
        _write((ROOT / out).with_suffix(".pxd"), decl)
    return str(out)


class OptionalBuildExt(build_ext):
    """Cythonize and compile the compiled builds; any failure leaves the pure package."""

    def run(self):
        if os.environ.get("TLMSIM_PURE", "").strip() not in ("", "0"):
            _warn("TLMSIM_PURE is set, the compiled build is skipped")
            return self._drop_old_builds()
        try:
            from Cython.Build import cythonize
        except ImportError:
            _warn("Cython is not installed")
            return self._drop_old_builds()
        self._drop_old_builds(keep_current=True)
        try:
            jobs = os.cpu_count() or 1
            made = cythonize(self.extensions, quiet=True, build_dir=str(COPIES / "c"), include_path=[str(COPIES)],
                             nthreads=jobs if jobs > 1 else 0,
                             compiler_directives={"language_level": 3, "annotation_typing": False, "binding": True})
            if not self.parallel:
                self.parallel = jobs  # compile the C files on every core
            c_sources = {e.name: e.sources for e in made}
            for ext in self.extensions:  # keep setuptools' own Extension objects (editable installs read them)
                ext.sources = c_sources[ext.name]
            super().run()
        except Exception as exc:  # noqa: BLE001 -- no compiler, a compile error: the pure package installs
            _warn(f"the compiled build failed ({type(exc).__name__}: {exc})")
            self._drop_old_builds()

    def _drop_old_builds(self, keep_current: bool = False):
        """Remove builds an earlier install left in build/ (pip builds in the tree), so that a pure
        install carries none; with ``keep_current``, only those of modules no longer built (an
        earlier name of a build)."""
        current = {self.get_ext_filename(self.get_ext_fullname(ext.name)) for ext in self.extensions}
        folder = os.path.join(self.build_lib, "_tlmsim_compiled")
        if not os.path.isdir(folder):
            return
        for name in os.listdir(folder):
            rel = os.path.join("_tlmsim_compiled", name)
            if name.endswith((".so", ".pyd")) and not (keep_current and rel in current):
                os.remove(os.path.join(folder, name))

    def copy_extensions_to_source(self):
        # editable installs and `setup.py build_ext -i`: the builds go to _tlmsim_compiled/ at the
        # project's top level (git ignores it; tlmsim/kernels.py looks there too)
        build_py = self.get_finalized_command("build_py")
        for ext in self.extensions:
            os.makedirs(os.path.dirname(self._get_inplace_equivalent(build_py, ext)[0]) or ".", exist_ok=True)
        super().copy_extensions_to_source()


setup(
    packages=find_packages(include=["tlmsim", "tlmsim.*"]) + list(SHIPPED),
    package_dir=SHIPPED,
    package_data={
        "tlmsim": ["data/*.yaml"],
        # the compiled build's type declarations (tlmsim/kernels.py hashes them with their sources)
        "tlmsim.hw": ["*.pxd"],
        "tlmsim.engine": ["*.pxd"],
        "tlmsim.soc": ["*.pxd"],
        "tlmsim.dataflow": ["*.pxd"],
        "tlmsim.platforms": ["*.yaml"],
        "tlmsim.workloads": ["*.yaml", "*.csv", "*.nir", "*.npz", "*.json"],
    },
    ext_modules=[Extension(name, [_copy(name, src)], extra_compile_args=CFLAGS) for name, src in COMPILED.items()],
    cmdclass={"build_ext": OptionalBuildExt},
)
