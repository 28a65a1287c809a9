"""The co-design loop: spike-penalised training against simulated EDP.

1. Searches the architecture for the shipped digits SNN (``tlmsim search
   tools/codesign_search.yaml``: EDP under a 4 mm2 area budget, TPE, on a Dask
   LocalCluster), unless ``--platform-from`` names an earlier search directory.
2. Trains the digits SNN once per spike penalty lambda (``tools/train_digits.py
   --spike-penalty lambda``; needs the ``train`` extra: give ``--train-python`` for
   a Python that has it), each into ``WORK/digits_l<lambda>``.
3. Runs every trained model on the best searched platform (and, for reference, on
   ddr4-baseline) for the first ``--samples`` held-out images (their recorded spikes),
   and reports the mean latency, energy and EDP per image, the hidden firing rate and
   the held-out accuracy of the float model and of the 8-bit fixed-point network of
   ``tlmsim run --verify``.
4. Writes docs/data/codesign.csv, docs/img/codesign.png (accuracy against EDP) and
   docs/codesign.md.

    python tools/codesign.py --train-python /path/to/venv-with-torch/bin/python \\
        [--lambdas 0 0.1 0.3 1 3] [--samples 20] [--work /tmp/codesign] [--workers 2] [--train-threads 2]

The training Python must also import tlmsim (the trainer checks its export with
tlmsim's reference simulator): install this repository into that environment, or run
with ``PYTHONPATH=<repository>``. It takes about 10 minutes on two cores (training
dominates: about 90 s per model with ``--train-threads 1``; measured 2026-12-02).
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import yaml

ROOT = Path(__file__).resolve().parents[1]
DOCS = ROOT / "docs"


def search(work: Path, workers: int) -> dict:
    from tlmsim.explore.search import load_search, run_search

    spec = load_search(ROOT / "tools" / "codesign_search.yaml")
    run_search(spec, work / "search", workers=workers, progress=True)
    return best_of(work / "search")


def best_of(directory: Path) -> dict:
    best = yaml.safe_load((directory / "best.yaml").read_text())["best"][0]
    return best


def train(python: str, out: Path, lam: float, threads: int) -> dict:
    meta = out.with_suffix(".json")
    if not meta.is_file():
        subprocess.run([python, str(ROOT / "tools" / "train_digits.py"), "--out", str(out),
                        "--spike-penalty", str(lam), "--threads", str(threads)], check=True)
    return json.loads(meta.read_text())


def fixed_point_accuracy(model: Path, meta: dict) -> float:
    """Held-out accuracy of the 8-bit fixed-point network (the --verify arithmetic)."""
    from tlmsim.snn.graph import load_nir
    from tlmsim.snn.to_workload import graph_layers
    from tlmsim.verify.fixed_point import quantize, reference
    from tlmsim.workload import WorkloadSpec, build_layers, read_spike_file

    graph = load_nir(model.with_suffix(".nir"))
    dicts, _ = graph_layers(graph)
    layers = build_layers(WorkloadSpec(name="m", timesteps=meta["timesteps"], weight_bits=8, layers=dicts))
    q = quantize(graph, layers, weight_bits=8, membrane_bits=16)
    arrays, _ = read_spike_file(Path(str(model) + "_trace.npz"))
    first = arrays[layers[0].name]  # (N, T, *in_shape)
    labels = np.asarray(meta["test_labels"])
    hits = 0
    for i in range(first.shape[0]):
        out = reference(q, {0: first[i].astype(np.int64)}, meta["timesteps"], accumulator_bits=16)
        counts = out[layers[-1].index].sum(axis=0).reshape(-1)
        hits += int(np.argmax(counts) == labels[i])
    return hits / first.shape[0]


def simulate_model(model: Path, meta: dict, platform: str, sets: list[str], samples: int) -> dict:
    from tlmsim.soc.run import simulate
    from tlmsim.platform import load_platform
    from tlmsim.report import build_report
    from tlmsim.workload import load_workload

    p = load_platform(platform, sets)
    rows = []
    for s in range(samples):
        wl = model.parent / f"{model.name}_s{s}.yaml"
        wl.write_text(yaml.safe_dump({"name": model.name, "timesteps": meta["timesteps"], "weight_bits": 8,
                                      "nir": model.name + ".nir", "spikes": model.name + "_trace.npz",
                                      "sample": s}))
        w = load_workload(wl, seed=0)
        report = build_report(simulate(p, w, seed=0))
        rep = report.summary.iloc[0]
        dens = float(np.mean([a.mean() for n, a in w.spikes.items() if n != w.layers[0].name]))
        lay = report.layers
        rows.append({"latency_us": rep["latency_ns"] / 1e3, "energy_uj": rep["energy_pj"] / 1e6,
                     "edp_uj_us": rep["edp_pj_ns"] / 1e9, "compute_cycles": float(rep["compute_cycles"]),
                     "acc_ops": float(lay["acc_ops"].sum()),
                     "first_layer_cycle_share": float(lay["compute_cycles"].iloc[0] / max(1, lay["compute_cycles"].sum())),
                     "neuron_cycle_share": float(lay["neuron_cycles"].sum() / max(1, lay["compute_cycles"].sum())),
                     "dram_energy_uj": float(rep["energy_dram_pj"]) / 1e6, "hidden_input_density": dens})
    return pd.DataFrame(rows).mean().to_dict()


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--train-python", default=sys.executable)
    ap.add_argument("--lambdas", type=float, nargs="*", default=[0.0, 0.1, 0.3, 1.0, 3.0])
    ap.add_argument("--samples", type=int, default=20)
    ap.add_argument("--work", default="/tmp/tlmsim-codesign")
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--train-threads", type=int, default=2, help="torch threads per training (1 on a shared machine)")
    ap.add_argument("--platform-from", help="an earlier search directory (with best.yaml) to reuse")
    ap.add_argument("--reuse-sims", action="store_true",
                    help="keep each model's simulated figures in WORK/digits_l*_sims.json and reuse them (same "
                         "platform and samples); only while the simulator is unchanged")
    args = ap.parse_args()
    work = Path(args.work)
    work.mkdir(parents=True, exist_ok=True)
    best = best_of(Path(args.platform_from)) if args.platform_from else search(work, args.workers)
    sets = [f"{k}={v}" for k, v in best["parameters"].items()]
    print(f"best searched platform (trial {best['trial']}, {best['area_mm2']:.2f} mm2): {' '.join(sets)}")
    rows = []
    for lam in args.lambdas:
        model = work / ("digits_l" + f"{lam:g}".replace(".", "p"))  # no dot: train_digits adds suffixes
        meta = train(args.train_python, model, lam, args.train_threads)
        cache = model.parent / f"{model.name}_sims.json"
        key = json.dumps([sets, args.samples])
        cached = json.loads(cache.read_text()) if args.reuse_sims and cache.is_file() else {}
        if key in cached:
            fpa, on_best, on_base = cached[key]
        else:
            fpa = fixed_point_accuracy(model, meta)
            on_best = simulate_model(model, meta, "ddr4-baseline", sets, args.samples)
            on_base = simulate_model(model, meta, "ddr4-baseline", [], args.samples)
            if args.reuse_sims:
                cache.write_text(json.dumps({**cached, key: [fpa, on_best, on_base]}))
        row = {"lambda": lam, "accuracy": meta["trained_accuracy"], "fixed_point_accuracy": fpa,
               "hidden_firing_rate": meta["hidden_firing_rate"]}
        row.update({f"best_{k}": v for k, v in on_best.items() if k != "hidden_input_density"})
        row["hidden_input_density"] = on_best["hidden_input_density"]
        row.update({f"baseline_{k}": v for k, v in on_base.items() if k != "hidden_input_density"})
        rows.append(row)
        print({k: round(v, 4) for k, v in row.items()})
    df = pd.DataFrame(rows)
    (DOCS / "data").mkdir(exist_ok=True)
    df.to_csv(DOCS / "data" / "codesign.csv", index=False)
    plot(df)
    write_doc(df, best, args)


def plot(df: pd.DataFrame) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    (DOCS / "img").mkdir(exist_ok=True)
    fig, axes = plt.subplots(1, 2, figsize=(10, 4.2))
    for ax, (col, label) in zip(axes, (("best_edp_uj_us", "best searched platform"),
                                       ("baseline_edp_uj_us", "ddr4-baseline (dense-ws)"))):
        ax.plot(df[col], df["accuracy"] * 100, "o-")
        for i, r in df.iterrows():
            ax.annotate(f"λ={r['lambda']:g}", (r[col], r["accuracy"] * 100), fontsize=8,
                        textcoords="offset points", xytext=(6, -10 if i % 2 else 4))
        ax.set_xlabel("EDP per image (uJ x us)")
        ax.set_ylabel("held-out accuracy (%)")
        ax.set_title(label)
    fig.suptitle("digits SNN: spike-penalised training against simulated EDP")
    fig.tight_layout()
    fig.savefig(DOCS / "img" / "codesign.png", dpi=110)
    plt.close(fig)


def write_doc(df: pd.DataFrame, best: dict, args) -> None:
    sets = " ".join(f"--set {k}={v}" for k, v in best["parameters"].items())
    cols = ["lambda", "accuracy", "fixed_point_accuracy", "hidden_firing_rate", "hidden_input_density",
            "best_acc_ops", "best_compute_cycles", "best_latency_us", "best_energy_uj", "best_edp_uj_us",
            "baseline_edp_uj_us"]
    table = "| " + " | ".join(cols) + " |\n|" + "---|" * len(cols) + "\n" + "".join(
        "| " + " | ".join(f"{r[c]:.4g}" for c in cols) + " |\n" for _, r in df.iterrows())
    base = df.iloc[0]
    lines = [
        "# Co-design: spike-penalised training against simulated EDP\n\n",
        "*Generated by `python tools/codesign.py`; edit the script, not the file.*\n\n",
        "SpikeX's gains come from co-optimising the network and the architecture. Here: the "
        "architecture is searched once for the shipped digits SNN (`tools/codesign_search.yaml`: "
        "EDP under a 4 mm2 area budget, TPE, 40 trials), then the SNN is retrained with a firing-rate "
        "penalty λ (`tools/train_digits.py --spike-penalty λ`: loss + λ x mean hidden firing rate) "
        "and every model runs on the searched platform.\n\n",
        f"Best searched platform: trial {best['trial']}, {best['area_mm2']:.2f} mm2: "
        f"`tlmsim run ddr4-baseline digits-snn {sets}`.\n\n",
        f"Spike penalties λ run: {', '.join(f'{v:g}' for v in df['lambda'])}. "
        f"Each EDP is the mean over the first {args.samples} held-out images (their recorded spikes); "
        "accuracy is over all 360 held-out images, for the float model (`accuracy`) and for the 8-bit "
        "fixed-point network that `tlmsim run --verify` computes (`fixed_point_accuracy`). "
        "`hidden_input_density` is the mean spike density of the inputs of the layers after the first.\n\n",
        table,
        "\n![accuracy against EDP](img/codesign.png)\n\n",
    ]
    for _, r in df.iloc[1:].iterrows():
        rate = (f"hidden firing rate {base['hidden_firing_rate'] / r['hidden_firing_rate']:.1f}x lower"
                if r["hidden_firing_rate"] > 0 else "no hidden spikes at all (the network has gone silent)")
        lines.append(
            f"- λ = {r['lambda']:g}: accuracy {r['accuracy']:.2%} ({r['accuracy'] - base['accuracy']:+.2%} against "
            f"λ = 0), {rate}, "
            f"accumulates {base['best_acc_ops'] / max(r['best_acc_ops'], 1):.1f}x fewer, compute cycles "
            f"{base['best_compute_cycles'] / r['best_compute_cycles']:.2f}x fewer, EDP "
            f"{base['best_edp_uj_us'] / r['best_edp_uj_us']:.2f}x lower on the searched platform "
            f"({base['baseline_edp_uj_us'] / r['baseline_edp_uj_us']:.2f}x on ddr4-baseline, whose dense-ws does "
            "the same work for any spikes).\n")
    last = df.iloc[-1]
    live = df[df["hidden_firing_rate"] > 0]
    most = live.iloc[-1] if len(live) else base
    flow = best["parameters"].get("dataflow.name", "the platform's dataflow")
    gain = base["best_edp_uj_us"] / most["best_edp_uj_us"]
    verdict = "shows clearly in EDP" if gain >= 1.3 else "shows in EDP" if gain >= 1.1 else "barely shows in EDP"
    lines.append(
        f"\nOn the searched platform ({flow}) training for fewer spikes {verdict}: λ = {most['lambda']:g} "
        f"fires {base['hidden_firing_rate'] / max(most['hidden_firing_rate'], 1e-12):.1f}x less in the hidden "
        f"layers and runs at {base['best_edp_uj_us'] / most['best_edp_uj_us']:.2f}x lower EDP "
        f"({base['best_compute_cycles'] / most['best_compute_cycles']:.2f}x fewer compute cycles); "
        f"{'a silent network' if last['hidden_firing_rate'] == 0 else 'the largest penalty'} (λ = {last['lambda']:g}) "
        f"reaches {base['best_edp_uj_us'] / last['best_edp_uj_us']:.2f}x. What the penalty cannot remove: the first "
        "layer, whose input is the rate-coded image (not penalised), takes "
        f"{last['best_first_layer_cycle_share']:.0%} of the compute cycles at λ = {last['lambda']:g}; neuron "
        f"updates (every neuron leaks every timestep) take {last['best_neuron_cycle_share']:.0%}; and DRAM "
        "standby energy follows the run time. ddr4-baseline's dense-ws does the same work for any spikes "
        f"({base['baseline_edp_uj_us'] / last['baseline_edp_uj_us']:.2f}x). The architecture search gives the "
        f"other factor: the searched platform's EDP is {base['baseline_edp_uj_us'] / base['best_edp_uj_us']:.0f}x "
        "lower than ddr4-baseline's for the same λ = 0 model.\n")
    (DOCS / "codesign.md").write_text("".join(lines))


if __name__ == "__main__":
    main()
