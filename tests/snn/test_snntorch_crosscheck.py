"""Cross-check of the reference simulator against snnTorch on the shipped digits graph.
Skipped unless the `train` extra (torch, snntorch) is installed."""

import numpy as np
import pytest

torch = pytest.importorskip("torch")
snn = pytest.importorskip("snntorch")

from tlmsim.resources import package_dir  # noqa: E402
from tlmsim.snn.graph import load_nir  # noqa: E402
from tlmsim.snn.refsim import simulate_graph  # noqa: E402
from tlmsim.workload import read_spike_file  # noqa: E402


def test_snntorch_leaky_gives_the_same_spikes():
    d = package_dir("workloads")
    g = load_nir(d / "digits_snn.nir")
    spikes, _ = read_spike_file(d / "digits_snn_trace.npz")
    x = np.moveaxis(spikes["conv1"], 0, 1).astype(np.float32)[:, :100]  # (T, 100, 1, 8, 8)
    conv = torch.nn.Conv2d(1, 16, 3, padding=1)
    fc1, fc2 = torch.nn.Linear(256, 64), torch.nn.Linear(64, 10)
    with torch.no_grad():
        for mod, name in ((conv, "conv1"), (fc1, "fc1"), (fc2, "fc2")):
            mod.weight[:] = torch.tensor(g[name].params["weight"])
            mod.bias[:] = torch.tensor(g[name].params["bias"])
    # NIR LIF with tau = 10, r = tau, dt = 1, v_reset = 0  ==  snnTorch Leaky(beta = 1 - dt / tau = 0.9),
    # reset to zero in the same step (reset_delay=False), threshold 1
    layers = [snn.Leaky(beta=0.9, threshold=1.0, reset_mechanism="zero", reset_delay=False) for _ in range(3)]
    mems = [lay.init_leaky() for lay in layers]
    out = []
    with torch.no_grad():
        for t in range(x.shape[0]):
            s1, mems[0] = layers[0](conv(torch.tensor(x[t])), mems[0])
            s2, mems[1] = layers[1](fc1((torch.nn.functional.avg_pool2d(s1, 2) * 4).flatten(1)), mems[1])
            s3, mems[2] = layers[2](fc2(s2), mems[2])
            out.append((s1.numpy() > 0, s2.numpy() > 0, s3.numpy() > 0))
    ref = simulate_graph(g, x.astype(np.float64), record="spikes").outputs
    for i, node in enumerate(("lif1", "lif2", "lif3")):
        theirs = np.stack([o[i] for o in out])
        # float32 (torch) against float64 (reference): allow a handful of threshold ties
        assert (theirs == ref[node]).mean() > 0.999, node


def test_snntorch_rleaky_gives_the_same_spikes_on_the_shipped_rsnn():
    # the shipped recurrent graph (LIF tau = 10 = r, dt = 1, recurrent Affine) == snnTorch RLeaky(beta = 0.9,
    # all-to-all recurrent Linear, reset to zero in the same step), read out by a Leaky-like LI we do not compare
    d = package_dir("workloads")
    g = load_nir(d / "digits_rsnn.nir")
    spikes, _ = read_spike_file(d / "digits_rsnn_trace.npz")
    x = np.moveaxis(spikes["fc_in"], 0, 1).astype(np.float32)  # (T, 360, 24)
    rl = snn.RLeaky(beta=0.9, threshold=1.0, linear_features=64, reset_mechanism="zero", reset_delay=False)
    fc_in = torch.nn.Linear(24, 64)
    with torch.no_grad():
        fc_in.weight[:] = torch.tensor(g["fc_in"].params["weight"])
        fc_in.bias[:] = torch.tensor(g["fc_in"].params["bias"])
        rl.recurrent.weight[:] = torch.tensor(g["fc_rec"].params["weight"])
        rl.recurrent.bias[:] = torch.tensor(g["fc_rec"].params["bias"])
        spk, mem = rl.init_rleaky()
        out = []
        for t in range(x.shape[0]):
            spk, mem = rl(fc_in(torch.tensor(x[t])), spk, mem)
            out.append(spk.numpy() > 0)
    ref = simulate_graph(g, x.astype(np.float64), record="spikes").outputs["lif"]
    assert (np.stack(out) == ref).mean() > 0.999
    assert ref[1:].any()
