"""tlmsim/table.py: the report tables without pandas (issue 17). Its CSVs must be the bytes
pandas writes (``DataFrame.to_csv`` as tlmsim.outputs.write_csv calls it), its kinds the
dtypes pandas infers, its sums pandas' sums: checked here against pandas itself on awkward
rows, and by hand."""

from __future__ import annotations

import io
import math
import random

import numpy as np
import pandas as pd
import pytest

from tlmsim.outputs import exact_float, write_csv
from tlmsim.table import Table, cast, cell, group_sums, infer_kind, np_sum

NAN, INF = float("nan"), float("inf")


def pandas_csv(df: pd.DataFrame) -> str:
    buf = io.StringIO()
    df.to_csv(buf, index=False, float_format=exact_float, lineterminator="\n")
    return buf.getvalue()


def table_csv(t: Table, tmp_path) -> str:
    p = t.write_csv(tmp_path / "t.csv")
    return p.read_bytes().decode("utf-8")


# awkward rows: quoting, empty strings, NaN, infinities, -0.0, subnormals, integers past 2**53,
# numpy scalars, missing keys (NaN in pandas), mixed columns (object)
AWKWARD = {
    "quoting": [{"s": 'a,b', "t": 'say "hi"', "u": "line\nend", "v": " lead", "w": ""},
                {"s": "", "t": "x", "u": "cr\rhere", "v": None, "w": "é ü ∑"}],
    "floats": [{"x": 1e16, "y": -0.0, "z": 1e-300, "w": 5e-324, "v": -1.0e22, "u": 0.1 + 0.2},
               {"x": INF, "y": -INF, "z": NAN, "w": 2.0**53, "v": 2.0**53 + 2, "u": 17443957.8}],
    "ints": [{"i": 2**53 + 1, "j": -3, "k": np.int64(7), "b": True, "nb": np.bool_(False)},
             {"i": 0, "j": 2**62, "k": 8, "b": False, "nb": np.bool_(True)}],
    "missing": [{"a": 1, "b": "x", "c": 1.5}, {"d": 2, "a": 2}, {"b": None, "e": True, "c": 2}],
    "mixed": [{"m": "a", "n": 1, "o": True, "p": np.float64(2.0)}, {"m": 2.0, "n": 2.5, "o": 1, "p": "q"},
              {"m": np.float64(3.0), "n": None, "o": None, "p": None}, {"m": None, "n": 1, "o": 2.5, "p": NAN}],
    "one_empty_string": [{"only": ""}, {"only": "x"}],
    "all_missing": [{"nan": NAN, "none": None}, {"nan": NAN, "none": None}],
}


@pytest.mark.parametrize("case", sorted(AWKWARD))
def test_csv_bytes_and_dtypes_are_pandas_own(case, tmp_path):
    rows = AWKWARD[case]
    ref = pd.DataFrame(rows)
    t = Table.from_rows(rows)
    assert [t.kinds[c] for c in t.columns] == [_kind_of(ref[c].dtype) for c in ref.columns]
    assert table_csv(t, tmp_path) == pandas_csv(ref)
    pd.testing.assert_frame_equal(t.frame(), ref)
    assert table_csv(t, tmp_path) == pandas_csv(t.frame())


def _kind_of(dtype) -> str:
    if dtype == object:
        return "object"
    if isinstance(dtype, pd.StringDtype):
        return "str"
    return {"i": "int", "f": "float", "b": "bool"}[dtype.kind]


def test_the_csv_of_an_awkward_case_by_hand(tmp_path):
    t = Table.from_rows(AWKWARD["quoting"] + [{"s": "z", "t": "y", "u": "", "v": "", "w": ""}])
    assert table_csv(t, tmp_path) == ('s,t,u,v,w\n"a,b","say ""hi""","line\nend", lead,\n'
                                      ',x,cr\rhere,,é ü ∑\nz,y,,,\n')  # a CR alone is not quoted
    f = Table.from_rows(AWKWARD["floats"])
    assert table_csv(f, tmp_path) == ("x,y,z,w,v,u\n1e+16,0,1e-300,5e-324,-1e+22,0.30000000000000004\n"
                                      "inf,-inf,,9007199254740992.0,9007199254740994.0,17443957.8\n")
    m = Table.from_rows(AWKWARD["mixed"])
    assert m.kinds == {"m": "object", "n": "float", "o": "object", "p": "object"}
    assert table_csv(m, tmp_path) == "m,n,o,p\na,1,True,2.0\n2.0,2.5,1,q\n3.0,,,\n,1,2.5,\n"
    assert table_csv(Table.from_rows(AWKWARD["one_empty_string"]), tmp_path) == 'only\n""\nx\n'


def test_empty_tables(tmp_path):
    cols = ["component", "reason", "count"]
    t = Table.from_rows([], columns=cols)
    assert table_csv(t, tmp_path) == pandas_csv(pd.DataFrame([], columns=cols)) == "component,reason,count\n"
    pd.testing.assert_frame_equal(t.frame(), pd.DataFrame([], columns=cols))
    assert len(t) == 0 and t.kinds == dict.fromkeys(cols, "object")
    none = Table.from_rows([])
    assert table_csv(none, tmp_path) == pandas_csv(pd.DataFrame([])) == "\n"
    assert len(none) == 0 and none.frame().shape == (0, 0)


def test_random_tables_write_pandas_bytes(tmp_path):
    """200 seeded random tables of a few rows: values of every kind, keys left out at random."""
    rng = random.Random(17)
    pool = [0, 1, -7, 2**53 + 1, 3.5, -0.0, 0.1, 1e300, 1e-310, NAN, INF, -INF, 123456789.0, 1 / 3,
            np.float64(2.5), np.int64(-4), True, False, "", "a", "b,c", 'q"', "x\ny", None]
    numbers = [v for v in pool if isinstance(v, (int, float, np.number)) and not isinstance(v, bool)]
    for _ in range(200):
        ncols, nrows = rng.randint(1, 5), rng.randint(0, 4)
        rows = []
        for _ in range(nrows):
            row = {}
            for c in range(ncols):
                if rng.random() < 0.15:
                    continue
                row[f"c{c}"] = rng.choice(numbers if c % 2 else pool)
            rows.append(row)
        ref = pd.DataFrame(rows)
        if rows and not ref.columns.size:  # rows without a key: pandas has rows of no column, a Table not
            with pytest.raises(ValueError, match="rows without a column"):
                Table.from_rows(rows)
            continue
        t = Table.from_rows(rows)
        assert table_csv(t, tmp_path) == pandas_csv(ref), rows
        pd.testing.assert_frame_equal(t.frame(), ref)


def test_infer_kind_by_hand():
    assert infer_kind([1, np.int64(2)]) == "int"
    assert infer_kind([1, NAN]) == infer_kind([1, None]) == infer_kind([1, 0.5]) == "float"
    assert infer_kind([NAN]) == "float"
    assert infer_kind([None]) == infer_kind([]) == "object" and infer_kind([None, NAN]) == "float"
    assert infer_kind(x for x in [1, 2]) == "int"  # any iterable, read once
    assert infer_kind([True, np.bool_(False)]) == "bool"
    assert infer_kind([True, None]) == infer_kind([True, 1]) == infer_kind([True, "a"]) == "object"
    assert infer_kind(["a", None, NAN]) == "str"
    assert infer_kind(["a", 1]) == infer_kind(["a", 1.5]) == infer_kind([object()]) == "object"
    assert infer_kind([b"x"]) == "object"


def test_cast_and_cell_by_hand():
    assert cast(2.9, "int") == 2 and cast(-2.9, "int") == -2 and type(cast(True, "int")) is int
    assert cast(3, "float") == 3.0 and type(cast(3, "float")) is float and math.isnan(cast(None, "float"))
    assert cast(0, "bool") is False and cast(2, "bool") is True
    assert cast("x", "str") == "x" and cast(None, "object") is None
    assert cell(7.0, "int") == "7" and cell(np.int64(-3), "int") == "-3"
    assert cell(2.0, "float") == "2" and cell(0.1, "float") == "0.1" and cell(NAN, "float") == ""
    assert cell(None, "float") == "" and cell(INF, "float") == "inf"
    assert cell(True, "bool") == "True" and cell("", "str") == "" and cell(NAN, "str") == ""
    assert cell(2.0, "object") == "2.0" and cell(np.float64(2.0), "object") == "2.0"
    assert cell(3, "object") == "3" and cell(None, "object") == ""


def test_table_columns_rows_and_kinds():
    t = Table({"a": [1, 2], "b": [0.5, 1]}, kinds={"b": "float"})
    assert len(t) == 2 and list(t.columns) == ["a", "b"] and t["b"] == [0.5, 1.0] and type(t["b"][1]) is float
    assert t.kinds == {"a": "int", "b": "float"} and "a" in t and "z" not in t
    assert t.row(1) == {"a": 2, "b": 1.0}
    t.add("c", [1.9, 0.0], "int")
    assert t["c"] == [1, 0] and t.kinds["c"] == "int"
    t.add("a", ["x", "y"])  # replaced in place: the order of the columns stays
    assert list(t.columns) == ["a", "b", "c"] and t.kinds["a"] == "str"
    with pytest.raises(ValueError, match="column 'd' has 3 values; the table has 2 rows"):
        t.add("d", [1, 2, 3])
    with pytest.raises(ValueError, match="unknown column kind 'integer'"):
        t.add("d", [1, 2], "integer")
    assert len(Table()) == 0 and Table().row(0) == {}  # no column: no rows
    one = Table()
    one.add("first", [1, 2, 3])  # the first column sets the length
    assert len(one) == 3
    sel = Table.from_rows([{"a": 1}, {"b": 2}], columns=["b", "z"])
    assert list(sel.columns) == ["b", "z"] and math.isnan(sel["b"][0]) and sel["b"][1] == 2
    assert sel.kinds == {"b": "float", "z": "float"}


def test_a_kind_given_sets_the_dataframe_dtype():
    t = Table({"o": ["a", "b"], "i": [1.9, -1.9], "f": [1, 2], "b": [1, 0]},
              kinds={"o": "object", "i": "int", "f": "float", "b": "bool"})
    df = t.frame()
    assert [str(df[c].dtype) for c in df.columns] == ["object", "int64", "float64", "bool"]
    assert df["i"].tolist() == [1, -1] and df["b"].tolist() == [True, False]
    assert Table({"o": ["a", "b"]}).frame()["o"].dtype != object  # inferred: pandas' str


def test_from_frame_keeps_values_and_kinds():
    df = pd.DataFrame({"s": ["a", "b"], "i": [1, 2], "f": [0.5, NAN], "b": [True, False]})
    t = Table.from_frame(df)
    assert t.kinds == {"s": "str", "i": "int", "f": "float", "b": "bool"}
    assert t["i"] == [1, 2] and t["s"] == ["a", "b"] and t["b"] == [True, False]
    pd.testing.assert_frame_equal(t.frame(), df)


def test_write_csv_is_atomic_and_the_umasks(tmp_path):
    import os

    p = Table({"x": [1.5]}).write_csv(tmp_path / "x.csv")
    assert p == tmp_path / "x.csv" and p.read_text() == "x\n1.5\n"
    assert [f.name for f in tmp_path.iterdir()] == ["x.csv"]
    old = os.umask(0o027)
    try:
        q = Table({"x": [1]}).write_csv(tmp_path / "y.csv")
    finally:
        os.umask(old)
    assert q.stat().st_mode & 0o777 == 0o640
    # the same bytes as the pandas writer of tlmsim.outputs
    write_csv(pd.DataFrame({"x": [1.5]}), tmp_path / "z.csv")
    assert (tmp_path / "z.csv").read_bytes() == p.read_bytes()


def test_group_sums_by_hand():
    # rows not sorted by key: Kahan, row by row. Left to right 1 + 1e-16 = 1 twice; Kahan carries the
    # lost 1e-16s: 1 + 2e-16 rounds to 1 + 2**-52
    s = group_sums(["a", "b", "a", "a"], [1.0, 5.0, 1e-16, 1e-16])
    assert s == {"a": 1.0 + 2.0**-52, "b": 5.0} and list(s) == ["a", "b"]
    assert list(group_sums(["b", "a", "b"], [1.0, 2.0, 3.0])) == ["a", "b"]  # in key order
    assert group_sums(["k", "j", "k"], [INF, 1.0, 2.0]) == {"j": 1.0, "k": INF}  # not NaN: the compensation reset
    # sorted by key: numpy.add.reduceat, the first value plus the sum of the rest (17.098 + 594.944),
    # where left to right (and Kahan) make 612.042
    s = group_sums(["a", "a", "a", "b"], [17.098, 376.322, 218.622, 1.0])
    assert s == {"a": 17.098 + (376.322 + 218.622), "b": 1.0} and s["a"] == 612.0419999999999
    assert 17.098 + 376.322 + 218.622 == 612.042
    # eight values after the first: numpy's pairwise sum of them (2**-50 exactly), then 1 + 2**-50
    assert group_sums(["k"] * 9, [1.0] + [2.0**-53] * 8) == {"k": 1.0 + 2.0**-50}
    # sorted but with a NaN: Kahan, the NaN left out
    assert group_sums(["k"] * 4, [1.0, 1e-16, 1e-16, NAN]) == {"k": 1.0 + 2.0**-52}
    assert group_sums(["k", "k"], [NAN, NAN]) == {"k": 0.0}
    assert group_sums(["k", "j", "k"], [1.0, NAN, 2.0]) == {"j": 0.0, "k": 3.0}  # a NaN between, left out
    assert group_sums([("x", "b"), ("x", "a")], [1.0, 2.0]) == {("x", "a"): 2.0, ("x", "b"): 1.0}
    assert group_sums([], []) == {}


def test_group_sums_are_pandas_group_sums():
    """200 groups of 1-40 values each, of magnitudes 1e-20 to 1e20, interleaved and sorted by key:
    groupby and pivot_table."""
    rng = random.Random(5)
    keys, vals = [], []
    for g in range(200):
        for _ in range(rng.randint(1, 40)):
            keys.append(f"g{g:03d}")
            vals.append(rng.choice([1.0, -1.0, 1e-16, 1e16, 0.1, 3.0]) * rng.random() * 10 ** rng.randint(-20, 20))
    order = list(range(len(keys)))
    rng.shuffle(order)
    for rows in (order, sorted(order, key=lambda i: keys[i])):  # shuffled: Kahan; sorted by key: reduceat
        ks, vs = [keys[i] for i in rows], [vals[i] for i in rows]
        ref = pd.DataFrame({"k": ks, "v": vs}).groupby("k", sort=True)["v"].sum()
        ours = group_sums(ks, vs)
        assert list(ours) == list(ref.index) and list(ours.values()) == ref.tolist()
        assert sum(ours[k] != math.fsum(v for kk, v in zip(ks, vs) if kk == k) for k in ours) > 0  # not exact
        reasons = [rng.choice("xy") for _ in ks]
        wide = pd.DataFrame({"k": ks, "r": reasons, "v": vs})
        for data in (wide, wide.sort_values(["k", "r"], kind="stable")):
            piv = data.pivot_table(index="k", columns="r", values="v", aggfunc="sum")
            pairs = group_sums(zip(data["k"], data["r"]), data["v"])
            assert len(pairs) > 300 and all(piv.loc[k, r] == v for (k, r), v in pairs.items())


def test_np_sum_by_hand_and_as_pandas():
    # 1 then eight 2**-53: left to right each is lost (a tie, rounded to even); numpy's pairwise sum adds
    # the eight first (2**-50 exactly), then 1 + 2**-50
    vals = [1.0] + [2.0**-53] * 8
    assert sum(vals) == 1.0 and np_sum(vals) == 1.0 + 2.0**-50 == pd.Series(vals).sum()
    assert np_sum([]) == 0.0 and np_sum([1.5, NAN, None]) == 1.5 and type(np_sum([1])) is float
    rng = random.Random(3)
    for n in (1, 7, 8, 9, 15, 127, 128, 129, 300, 1000):
        vals = [rng.uniform(-1, 1) * 10 ** rng.randint(-10, 10) for _ in range(n)]
        assert np_sum(vals) == pd.Series(vals).sum()
