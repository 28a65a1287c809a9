"""The dataflow study: regenerates docs/dataflows.md, its data and its plots.

Runs every dataflow on every shipped platform for the digits SNN (its recorded spike
trace), VGG9 and VGG16 (CIFAR-10, synthetic spikes at published densities), then
writes

* docs/data/dataflow_study.csv   one row per (workload, platform, dataflow) run;
* docs/img/dataflows_edp.png     EDP per dataflow, one panel per workload;
* docs/img/dataflows_energy.png  energy by component per dataflow (ddr4-baseline);
* docs/dataflows.md              the model of each dataflow, the tables, the EDP
                                 ratios of spikex against dense-ws and ptb, and what
                                 explains them, computed from the runs.

    python tools/dataflow_study.py [--jobs 2] [--workloads digits-snn vgg9-cifar10 vgg16-cifar10]

Every run uses seed 0, so the tables regenerate byte for byte. It takes about
four minutes with two jobs on two cores.
"""

from __future__ import annotations

import argparse
import dataclasses
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

import numpy as np
import pandas as pd

ROOT = Path(__file__).resolve().parents[1]
DOCS = ROOT / "docs"
PLATFORMS = ("ddr4-baseline", "edge-lpddr4", "hbm2-server")
WORKLOADS = ("digits-snn", "vgg9-cifar10", "vgg16-cifar10")
DATAFLOWS = ("dense-ws", "dense-os", "dense-is", "ptb", "spikex", "event")
#: settings per dataflow beyond the platform's: ptb batches 2 timesteps per window (with a
#: window of T it would equal spikex without packing); spikex tags activity per timestep
SETTINGS = {"ptb": ["dataflow.time_window=2"]}
COMPONENTS = ("dram", "noc", "glb", "l1", "pe_array")


def run(job: tuple[str, str, str, bool, tuple[str, ...]]) -> dict:
    from tlmsim.engine.simulation import simulate
    from tlmsim.platform import load_platform
    from tlmsim.report import build_report
    from tlmsim.workload import load_workload

    workload_name, platform_name, dataflow, ones, extra = job
    workload = load_workload(workload_name, seed=0)
    if ones:
        spikes = {l.name: np.ones((workload.timesteps,) + l.in_shape, dtype=bool) for l in workload.layers}
        workload = dataclasses.replace(workload, spikes=spikes, spike_source="all ones")
    platform = load_platform(platform_name, [f"dataflow.name={dataflow}"] + SETTINGS.get(dataflow, []) + list(extra))
    result = simulate(platform, workload, seed=0)
    rep = build_report(result)
    s = rep.summary.iloc[0]
    lay = rep.layers
    comp = rep.components.set_index("component")
    en = rep.energy
    row = {
        "workload": workload_name, "platform": platform_name, "dataflow": dataflow, "settings": " ".join(extra),
        "spikes": "all ones" if ones else workload.spike_source,
        "latency_us": s["latency_ns"] / 1e3, "energy_uj": s["energy_pj"] / 1e6, "edp_uj_us": s["edp_pj_ns"] / 1e9,
        "compute_cycles": int(lay["compute_cycles"].sum()), "latency_cycles": float(s["latency_cycles"]),
        "dense_ops": int(lay["dense_ops"].sum()), "acc_ops": int(lay["acc_ops"].sum()),
        "dram_mb": s["dram_bytes"] / 1e6,
        "dram_weights_mb": lay["dram_weights_bytes"].sum() / 1e6,
        "glb_weights_mb": lay["glb_weights_bytes"].sum() / 1e6,
        "l1_weights_mb": lay["l1_weights_bytes"].sum() / 1e6,
        "l1_spikes_mb": lay["l1_spikes_bytes"].sum() / 1e6,
        "dram_membrane_mb": lay["dram_membrane_bytes"].sum() / 1e6,
        "glb_membrane_mb": lay["glb_membrane_bytes"].sum() / 1e6,
        "pe_weight_loads": int(result.components["pe_array"].stats.c["weight_loads"]),
        "dram_background_uj": float(en[(en.component == "dram") & (en.action.str.startswith("background"))]["energy_pj"].sum()) / 1e6,
        "wall_s": result.wall_s,
    }
    for c in COMPONENTS:
        row[f"energy_{c}_uj"] = float(comp.loc[c, "energy_pj"]) / 1e6
    return row


def ratio(df: pd.DataFrame, wl: str, plat: str, a: str, b: str, col: str = "edp_uj_us") -> float:
    x = df[(df.workload == wl) & (df.platform == plat)].set_index("dataflow")[col]
    return float(x[b] / x[a])


def plots(df: pd.DataFrame) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    (DOCS / "img").mkdir(exist_ok=True)
    wls = list(dict.fromkeys(df.workload))
    fig, axes = plt.subplots(1, len(wls), figsize=(5 * len(wls), 4), squeeze=False)
    width = 0.8 / len(PLATFORMS)
    for ax, wl in zip(axes[0], wls):
        d = df[df.workload == wl]
        x = np.arange(len(DATAFLOWS))
        for i, plat in enumerate(PLATFORMS):
            v = d[d.platform == plat].set_index("dataflow").reindex(DATAFLOWS)["edp_uj_us"]
            ax.bar(x + (i - 1) * width, v, width, label=plat)
        ax.set_yscale("log")
        ax.set_xticks(x, DATAFLOWS, rotation=30)
        ax.set_title(wl)
        ax.set_ylabel("EDP (uJ x us, log)")
    axes[0][0].legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(DOCS / "img" / "dataflows_edp.png", dpi=110)
    plt.close(fig)

    fig, axes = plt.subplots(1, len(wls), figsize=(5 * len(wls), 4), squeeze=False)
    for ax, wl in zip(axes[0], wls):
        d = df[(df.workload == wl) & (df.platform == "ddr4-baseline")].set_index("dataflow").reindex(DATAFLOWS)
        bottom = np.zeros(len(DATAFLOWS))
        for c in COMPONENTS:
            v = d[f"energy_{c}_uj"].to_numpy()
            ax.bar(DATAFLOWS, v, bottom=bottom, label=c)
            bottom += v
        ax.set_title(f"{wl} on ddr4-baseline")
        ax.set_ylabel("energy (uJ)")
        ax.tick_params(axis="x", rotation=30)
    axes[0][0].legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(DOCS / "img" / "dataflows_energy.png", dpi=110)
    plt.close(fig)


def fmt(v: float) -> str:
    return f"{v:.4g}"


def table(df: pd.DataFrame, cols: list[str]) -> str:
    head = "| " + " | ".join(cols) + " |\n|" + "---|" * len(cols) + "\n"
    body = "".join("| " + " | ".join(fmt(r[c]) if isinstance(r[c], float) else str(r[c]) for c in cols) + " |\n"
                   for _, r in df.iterrows())
    return head + body


def write_doc(df: pd.DataFrame, ones: pd.DataFrame, noskip: pd.DataFrame) -> None:
    wls = list(dict.fromkeys(df.workload))
    out = [HEADER]
    out.append("## Results\n\nSeed 0; the digits SNN runs its recorded trace (sample 0), VGG9 and VGG16 "
               "synthetic spikes at the published per-layer densities (see docs/workloads.md). "
               "`ptb` uses `time_window: 2`; all other settings are the platform's defaults "
               "(spikex: `time_window: 1`, `packing: auto`, `spike_format: auto`; zero skipping on).\n\n"
               "![EDP](img/dataflows_edp.png)\n\n![energy](img/dataflows_energy.png)\n")
    cols = ["platform", "dataflow", "latency_us", "energy_uj", "edp_uj_us", "dram_mb", "dram_weights_mb",
            "l1_weights_mb", "l1_spikes_mb", "glb_membrane_mb", "acc_ops", "dense_ops"]
    for wl in wls:
        out.append(f"\n### {wl}\n\n" + table(df[df.workload == wl], cols))
        d = df[(df.workload == wl) & (df.platform == "ddr4-baseline")]
        out.append("\nEnergy by component on ddr4-baseline (uJ):\n\n"
                   + table(d, ["dataflow"] + [f"energy_{c}_uj" for c in COMPONENTS] + ["dram_background_uj"]))
    out.append("\n## EDP of spikex against dense-ws and ptb\n\nRatio = EDP of the other dataflow / EDP of "
               "spikex (above 1: spikex is better).\n\n| workload | platform | dense-ws / spikex | ptb / spikex "
               "| latency dense-ws / spikex | energy dense-ws / spikex |\n|---|---|---|---|---|---|\n")
    for wl in wls:
        for plat in PLATFORMS:
            out.append(f"| {wl} | {plat} | {ratio(df, wl, plat, 'spikex', 'dense-ws'):.2f} | "
                       f"{ratio(df, wl, plat, 'spikex', 'ptb'):.2f} | "
                       f"{ratio(df, wl, plat, 'spikex', 'dense-ws', 'latency_us'):.2f} | "
                       f"{ratio(df, wl, plat, 'spikex', 'dense-ws', 'energy_uj'):.2f} |\n")
    out.append(explain(df, noskip))
    out.append("\n## Sanity: all-ones spikes\n\nWith every input spiking there is nothing to skip. "
               "Zero skipping must then gain nothing (tested: `tests/dataflow/test_sparse_dataflows.py`); "
               "what remains are the structural differences (weights kept over time, packing, no "
               "pipeline fill per timestep). digits SNN on ddr4-baseline, all-ones input spikes:\n\n"
               + table(ones, ["dataflow", "compute_cycles", "latency_us", "edp_uj_us", "acc_ops", "dense_ops"]))
    cyc = ones.set_index("dataflow")["compute_cycles"]
    out.append(f"\nAt density 1, spikex needs {cyc['dense-ws'] / cyc['spikex']:.2f}x fewer compute cycles than "
               "dense-ws, all of it structural: dense-ws pays the pipeline fill and drain of every fold (and its "
               "weight fill when K needs several folds) every timestep, while spikex streams all timesteps through "
               "a fold once it is loaded, and packs narrow folds (dense-ws with `time_window` = T does the same "
               "streaming and then matches spikex without packing exactly; tested). "
               f"event needs {cyc['event'] / cyc['dense-ws']:.2f}x the compute cycles of dense-ws at density 1: "
               "the model spreads one event's whole fan-out over all R x C accumulators with no pipeline fill, "
               "which is optimistic (see the limits below); its cost is weight traffic: every timestep fetches "
               "the fan-out weights of every active channel.\n")
    out.append(LIMITS)
    (DOCS / "dataflows.md").write_text("".join(out))


def explain(df: pd.DataFrame, noskip: pd.DataFrame) -> str:
    """Sentences computed from the runs: where spikex's EDP advantage comes from."""
    lines = ["\n### What explains the ratios\n"]
    for wl in dict.fromkeys(df.workload):
        d = df[(df.workload == wl) & (df.platform == "ddr4-baseline")].set_index("dataflow")
        ws, px, pt = d.loc["dense-ws"], d.loc["spikex"], d.loc["ptb"]
        skipped = 1 - px["acc_ops"] / px["dense_ops"]
        ns = noskip.loc[wl]
        lines.append(
            f"\n- **{wl}** (ddr4-baseline): dense-ws moves {ws['l1_weights_mb']:.3g} MB of weights into L1 "
            f"({ws['dram_weights_mb']:.3g} MB of them from DRAM), spikex {px['l1_weights_mb']:.3g} MB "
            f"({px['dram_weights_mb']:.3g} MB from DRAM): weights loaded once per tile instead of once per "
            f"timestep. spikex skips {skipped:.1%} of the dense accumulates (activity tags) and keeps membranes "
            f"in the neuron units (GLB membrane traffic {px['glb_membrane_mb']:.3g} MB against "
            f"{ws['glb_membrane_mb']:.3g} MB). Its compute cycles are {ws['compute_cycles'] / px['compute_cycles']:.2f}x "
            f"fewer than dense-ws's and {pt['compute_cycles'] / px['compute_cycles']:.2f}x fewer than ptb's; "
            f"with zero skipping off spikex needs {ns['compute_cycles'] / px['compute_cycles']:.2f}x its cycles "
            f"and {ns['edp_uj_us'] / px['edp_uj_us']:.2f}x its EDP, so skipped work accounts for that part and "
            f"weight reuse, packing and fewer pipeline fills for the rest. "
            f"DRAM background energy (standby power x time) is {ws['dram_background_uj'] / ws['energy_uj']:.0%} of "
            f"dense-ws's energy, so the shorter run also saves energy: EDP falls with about the square of the latency."
        )
    r = [ratio(df, wl, p, "spikex", "dense-ws") for wl in dict.fromkeys(df.workload) for p in PLATFORMS]
    lines.append(
        f"\n\nAcross the {len(r)} (workload, platform) pairs spikex's EDP is {min(r):.1f}x to {max(r):.1f}x lower "
        "than dense-ws's. SpikeX reports 15.1x to 150.87x lower EDP than its baselines. Ours is lower for three "
        "reasons: (1) our dense-ws baseline is already a tiled, double-buffered design that keeps tensors "
        "resident in the GLB when they fit and keeps a fold's weights in the array while they are reused, "
        "not a naive one; (2) SpikeX's figure includes hardware-aware training "
        "(fewer spikes) and an architecture search for each network, while here the network, its spikes and "
        "the platform are fixed and the same for every dataflow; (3) our activity tags skip a streamed element "
        "only when all R inputs of a fold are silent at that timestep, which is rare for 32-row folds at input "
        "densities of 5-20 %, so skipped accumulates save energy but few cycles (see the zero-skipping-off "
        "figures above).\n"
    )
    return "".join(lines)


HEADER = """# Dataflows

*This file is generated by `python tools/dataflow_study.py`; edit the script, not the file.*

A dataflow maps each layer onto the PE array: which operand stays in the array, how a
layer is cut into tiles that fit the buffers, what each tile costs in cycles and
bytes. All dataflows share the tiler (`tlmsim/dataflow/systolic.py`): per layer it
builds the tilings the dataflow proposes (loop orders, chunk sizes), picks GLB
residency for each, and keeps the fastest by a roofline estimate, `max(array cycles,
DRAM bytes / DRAM peak bytes per cycle)`; among equally fast tilings (two loop orders
of a compute-bound shape) the one that moves the fewest DRAM bytes, then the one with
fewer tiles. `tlmsim run --dataflow NAME` overrides the platform's `dataflow.name`.

| dataflow | module | stationary | skips zeros | spikes move as | membrane between timesteps |
|---|---|---|---|---|---|
| `dense-ws` | `dense_ws.py` | weights (K on rows, N on columns, pixels streamed) | no | bitmap | to GLB/DRAM and back |
| `dense-os` | `dense_os.py` | outputs (pixels on rows, N on columns, K streamed) | no | bitmap | to GLB/DRAM and back |
| `dense-is` | `dense_is.py` | inputs (K on rows, pixels on columns, N streamed) | no | bitmap | to GLB/DRAM and back |
| `ptb` | `ptb.py` | weights, kept over a window of `time_window` timesteps | silent (pixel, window) rows | smallest format per tile | to GLB/DRAM and back per window |
| `spikex` | `spikex.py` | weights, kept over all timesteps; idle columns packed in time or space | activity tags per (pixel, window, fold) | smallest format per tile | stays in the neuron units |
| `event` | `event.py` | outputs of a block of channels (psums on chip) | silent inputs are not events | AER | to GLB/DRAM and back |

## Cycle rules

* **dense-ws / ptb / spikex** (`ws.py`): a tile is a set of folds (R x C weight
  blocks); each fold costs `fill + (R + C - 2) + stream`: `fill = R` when its weights
  are loaded (0 when the array still holds the same single fold), `stream` = the
  streamed elements, one cycle per timestep of a (pixel row, window) element. With
  zero skipping, elements whose activity tag is clear cost nothing. spikex packs the
  `C // nc` idle column groups of a narrow fold with more windows (time) or pixels
  (space). With `time_window: 1`, dense-ws is SCALE-Sim's WS fold `2R + C + M - 2`.
* **dense-os**: per R x C output block, `K + R + C - 2` (SCALE-Sim's OS fold); a block
  whose K is split across tiles pays the pipeline once.
* **dense-is**: per fold (R reduction rows x C pixels), `2R + C + N - 2`.
* **event**: per event `max(ceil(fanout x ob / rate), weight-fetch cycles)`, where
  fanout counts the output pixels the input position feeds, `rate` is R x C when the
  block's `ob x M` outputs fit the PEs (else L1's partial-sum read-modify-write rate),
  and the weight fetch reads its `kh x kw x ob` weights at L1 bandwidth.
* **neuron updates** (all): `cycles(model) x ceil(updates / C)` per timestep, with
  `pe_array.if_update_cycles` (1), `lif_update_cycles` (1), `cuba_lif_update_cycles`
  (2); energy per update: IF add + compare, LIF add + shift + compare, CubaLIF 2 adds +
  2 shifts + compare, at `membrane_bits`.
* **pooling** (all): `ceil(outputs x kh x kw / (R x C))` per timestep and channel group.

The dense dataflows equal SCALE-Sim 3.0.0's compute cycles on 9 layers x 3 dataflows x
2 array sizes (54 runs, `tests/golden/scalesim_compute_cycles.csv`): exactly SCALE-Sim's
total + 1 (it reports folds x cycles - 1).

## Switches (`dataflow.*`)

| key | effect |
|---|---|
| `zero_skip` | ptb/spikex/event: off = every dense accumulate and every streamed element (spikex then performs exactly the dense number of accumulates; tested) |
| `weight_compression` | weights move in compressed sparse columns when smaller; nonzeros follow the layer's `weight_sparsity` |
| `time_window` | timesteps per window: weight reuse window of dense-ws/ptb, activity-tag granularity of spikex |
| `packing` | spikex: `auto`, `time`, `space`, `none` |
| `spike_format` | ptb/spikex: `auto` (smallest per tile), `bitmap`, `aer`, `csr`, `rle` |

`layers.csv` reports, per layer, the tiling chosen (`tiling`), the spike formats used
(`spike_formats`, format:tiles), operations (`dense_ops`, `acc_ops`, `ops_skipped`),
weight, spike, membrane and output bytes at DRAM, GLB and L1 (`dram_*`, `glb_*`,
`l1_*`), compute and stall cycles by reason.

"""

LIMITS = """
## Limits of these models

* Partial sums of a tile's folds are assumed to stay on chip (in the array or the L1
  output region); their read-modify-write traffic inside L1 is not counted.
* Weight nonzeros for compression follow the layer's stated sparsity uniformly, not a
  real pruned mask.
* The event dataflow assumes the fan-out of one event can be spread over all R x C
  accumulators in parallel when the block's outputs fit the PEs (otherwise it is
  bound by L1's partial-sum read-modify-write bandwidth), and by the L1 weight fetch.
* Activity tags are free in time and energy (one bit per element).
"""


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--jobs", type=int, default=2)
    ap.add_argument("--workloads", nargs="*", default=list(WORKLOADS))
    ap.add_argument("--from-csv", action="store_true",
                    help="rewrite the plots and docs/dataflows.md from docs/data/dataflow_study.csv without running")
    args = ap.parse_args()
    if args.from_csv:
        all_df = pd.read_csv(DOCS / "data" / "dataflow_study.csv", keep_default_na=False)
        all_df["wall_s"] = 0.0
        return finish(all_df)
    jobs = [(wl, p, d, False, ()) for wl in args.workloads for p in PLATFORMS for d in DATAFLOWS]
    jobs += [(wl, "ddr4-baseline", "spikex", False, ("dataflow.zero_skip=false",)) for wl in args.workloads]
    jobs += [("digits-snn", "ddr4-baseline", d, True, ()) for d in DATAFLOWS]
    with ProcessPoolExecutor(args.jobs) as ex:
        rows = list(ex.map(run, jobs))
    all_df = pd.DataFrame(rows)
    (DOCS / "data").mkdir(exist_ok=True)
    all_df.drop(columns=["wall_s"]).to_csv(DOCS / "data" / "dataflow_study.csv", index=False)
    finish(all_df)


def finish(all_df: pd.DataFrame) -> None:
    base = all_df[all_df.settings == ""]
    df = base[base.spikes != "all ones"].reset_index(drop=True)
    ones = base[base.spikes == "all ones"].reset_index(drop=True)
    noskip = all_df[all_df.settings != ""].set_index("workload")
    plots(df)
    write_doc(df, ones, noskip)
    print(f"wrote docs/dataflows.md, docs/data/dataflow_study.csv, docs/img/dataflows_*.png ({len(all_df)} runs, "
          f"{all_df.wall_s.sum():.0f} s of simulation)")


if __name__ == "__main__":
    main()
