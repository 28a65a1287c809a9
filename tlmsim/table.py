"""A small column table for the run's reports, written to CSV without pandas (issue 17).

``tlmsim run`` builds its six report tables (:mod:`tlmsim.report`) as :class:`Table` s:
column names in order, one list of values per column and a kind per column that says
which pandas dtype the column would have. :meth:`Table.write_csv` writes the same bytes
as ``pandas.DataFrame.to_csv(index=False, float_format=exact_float, lineterminator="\\n")``
(:func:`tlmsim.outputs.write_csv`) would for :meth:`Table.frame`, without importing pandas:
its import is about 14 % of a small run's instructions (docs/performance.md, "Session 16:
noPandas"). :meth:`Table.frame` builds the pandas DataFrame (imported then) for programs,
notebooks and Parquet.

Kinds, as pandas 3 infers them from a column's Python values (:func:`infer_kind`):

==========  ====================================================  ==========================
kind        values                                                a cell in the CSV
==========  ====================================================  ==========================
``int``     integers only, none missing (dtype int64)             ``str(int(v))``
``float``   numbers, at least one float or missing (float64)      :func:`exact_float`, NaN empty
``bool``    booleans only, none missing (bool)                    ``True`` / ``False``
``str``     strings, some maybe missing (pandas' ``str``)         the text, missing empty
``object``  anything else (object)                                ``str`` (a float's is its repr); missing empty
==========  ====================================================  ==========================

A missing value is ``None`` or a float NaN; a key that a row of :meth:`Table.from_rows`
lacks is NaN, as in ``pandas.DataFrame(rows)``. Cells are quoted by the :mod:`csv`
module as pandas does (it uses the same writer): a cell with a comma, a quote or a line
end is quoted, a quote doubled.
"""

from __future__ import annotations

import csv
import os
from typing import Iterable

import numpy as np

from tlmsim.outputs import atomic_write, exact_float

KINDS = ("int", "float", "bool", "str", "object")
_NAN = float("nan")


def _missing(v) -> bool:
    return v is None or (isinstance(v, float) and v != v)


def infer_kind(values: Iterable) -> str:
    """The kind pandas gives a column of these values (see the module's table); a column
    with no values is ``object``, like the columns of ``pandas.DataFrame([], columns=...)``."""
    values = list(values)
    seen = {_category(v) for v in values}
    if seen <= {"missing"}:  # no value, or missing ones only: float with a NaN among them, else object
        return "float" if any(isinstance(v, float) for v in values) else "object"
    if seen <= {"str", "missing"}:
        return "str"
    if seen == {"bool"}:
        return "bool"
    if seen == {"int"}:
        return "int"
    if seen <= {"int", "float", "missing"}:
        return "float"
    return "object"


def _category(v) -> str:
    """What a value is to :func:`infer_kind` (numpy's scalars as Python's)."""
    if _missing(v):
        return "missing"
    if isinstance(v, (bool, np.bool_)):  # before int: a bool is an int
        return "bool"
    if isinstance(v, str):
        return "str"
    if isinstance(v, (int, np.integer)):
        return "int"
    if isinstance(v, (float, np.floating)):
        return "float"
    return "other"


def cast(v, kind: str):
    """``v`` as a value of a column of ``kind`` (what ``astype`` makes of it)."""
    if kind == "int":
        return int(v)
    if kind == "float":
        return _NAN if v is None else float(v)
    if kind == "bool":
        return bool(v)
    return v


def cell(v, kind: str) -> str:
    """The CSV text of the value ``v`` in a column of ``kind``."""
    if kind == "int":
        return str(int(v))
    if _missing(v):
        return ""
    if kind == "float":
        return exact_float(v)
    return str(v)  # a float's str is its repr (numpy's too)


class Table:
    """Columns in order, each a list of values and a kind (:data:`KINDS`)."""

    __slots__ = ("columns", "kinds")

    def __init__(self, columns: dict[str, list] | None = None, kinds: dict[str, str] | None = None):
        self.columns: dict[str, list] = {}
        self.kinds: dict[str, str] = {}
        for name, values in (columns or {}).items():
            self.add(name, values, (kinds or {}).get(name))

    @classmethod
    def from_rows(cls, rows: list[dict], columns: list[str] | None = None) -> Table:
        """A table of these rows, as ``pandas.DataFrame(rows, columns=columns)``: without
        ``columns``, every key of the rows in the order of its first appearance; a key a
        row lacks is NaN there."""
        if columns is None:
            columns = list(dict.fromkeys(k for row in rows for k in row))
        if rows and not columns:
            raise ValueError(f"{len(rows)} rows without a column: a table's rows are its columns' values")
        return cls({c: [row.get(c, _NAN) for row in rows] for c in columns})

    @classmethod
    def from_frame(cls, df) -> Table:
        """A DataFrame's columns and values (kinds inferred from the values)."""
        return cls({str(c): df[c].tolist() for c in df.columns})

    def add(self, name: str, values: list, kind: str | None = None) -> None:
        """Add (or replace) a column; with ``kind``, its values cast to that kind."""
        values = list(values)
        if kind is None:
            kind = infer_kind(values)
        elif kind not in KINDS:
            raise ValueError(f"unknown column kind {kind!r}; expected one of {KINDS}")
        else:
            values = [cast(v, kind) for v in values]
        if self.columns and len(values) != len(self):
            raise ValueError(f"column {name!r} has {len(values)} values; the table has {len(self)} rows")
        self.columns[name] = values
        self.kinds[name] = kind

    def __len__(self) -> int:
        return len(next(iter(self.columns.values()), ()))

    def __getitem__(self, name: str) -> list:
        return self.columns[name]

    def __contains__(self, name: str) -> bool:
        return name in self.columns

    def row(self, i: int) -> dict:
        return {c: v[i] for c, v in self.columns.items()}

    def write_csv(self, path: str | os.PathLike):
        """Write the table as CSV, atomically: the bytes of :func:`tlmsim.outputs.write_csv`
        of :meth:`frame`."""
        return atomic_write(path, self._write)

    def _write(self, path: str) -> None:
        kinds = [self.kinds[c] for c in self.columns]
        with open(path, "w", encoding="utf-8", newline="") as fh:
            w = csv.writer(fh, lineterminator="\n")
            w.writerow(list(self.columns))
            w.writerows([cell(v, k) for v, k in zip(vals, kinds)] for vals in zip(*self.columns.values()))

    def frame(self):
        """The table as a pandas DataFrame (pandas imported here), dtypes by kind."""
        import pandas as pd

        if not self.columns:
            return pd.DataFrame()  # as pandas.DataFrame([]): no row, no column
        dtypes = {"int": "int64", "float": "float64", "bool": "bool", "str": "str", "object": object}
        return pd.DataFrame({c: pd.Series(v, dtype=dtypes[self.kinds[c]]) for c, v in self.columns.items()})


def group_sums(keys: Iterable, values: Iterable[float]) -> dict:
    """The sum of the values of each key (keys in sorted order) as pandas 3 sums a group
    (``groupby(...).sum()``, ``pivot_table(aggfunc="sum")``): when the rows come sorted by key
    and no value is NaN, each key's run of rows by ``numpy.add.reduceat`` (its first value,
    plus numpy's pairwise sum of the rest); otherwise row by row with Kahan's compensation,
    NaN left out, the compensation reset when it is NaN (an infinite value)."""
    keys, values = list(keys), list(values)
    rank = {k: i for i, k in enumerate(sorted(set(keys)))}
    codes = [rank[k] for k in keys]
    if values and codes == sorted(codes) and not any(v != v for v in values):
        starts = [i for i in range(len(codes)) if i == 0 or codes[i] != codes[i - 1]]
        runs = np.add.reduceat(np.array(values), starts)
        return {keys[i]: float(v) for i, v in zip(starts, runs)}
    sums = dict.fromkeys(sorted(rank), 0.0)
    comp = dict.fromkeys(sums, 0.0)
    for k, v in zip(keys, values):
        if v != v:
            continue
        y = v - comp[k]
        t = sums[k] + y
        c = t - sums[k] - y
        comp[k] = 0.0 if c != c else c
        sums[k] = t
    return sums


def np_sum(values: Iterable[float]) -> float:
    """The sum of floats as ``pandas.Series.sum`` gives it (numpy's pairwise sum, NaN as 0)."""
    return float(np.array([0.0 if _missing(v) else v for v in values]).sum())
