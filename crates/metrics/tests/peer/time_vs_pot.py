#!/usr/bin/env python3
"""Side-by-side timing of the exact W2: our `w2_csv` example against POT's ot.emd2 (via
benches/peers/ot_pot.py), on the same CSV files, alternating runs in one session.

Usage: time_vs_pot.py PATH/TO/w2_csv PATH/TO/ot_pot.py [REPEATS]
Prints one JSON line per run and a summary with the median time ratio (ours / POT).
"""
import json, os, statistics, subprocess, sys, tempfile
import numpy as np

ours, peer = sys.argv[1], sys.argv[2]
repeats = int(sys.argv[3]) if len(sys.argv) > 3 else 3
tmp = tempfile.mkdtemp()


def save(name, a):
    path = os.path.join(tmp, name)
    np.savetxt(path, a, delimiter=",", fmt="%.17g")
    return path


rng = np.random.default_rng(2026)
cases = {
    "gauss_vs_aniso_3000x3000_d2": (rng.normal(size=(3000, 2)), rng.normal(size=(3000, 2)) * [1.5, 0.5] + [1.0, 0.0]),
    "uniform_vs_uniform_3000x3000_d2": (rng.uniform(size=(3000, 2)), rng.uniform(size=(3000, 2))),
    "mixture_vs_gauss_3000x3000_d2": (np.vstack([rng.normal(size=(1500, 2)) * 0.4 - 1.5, rng.normal(size=(1500, 2)) * 0.4 + 1.5]),
                                      rng.normal(size=(3000, 2))),
}
summary = {}
for name, (X, Y) in cases.items():
    fx, fy = save(name + "_x.csv", X), save(name + "_y.csv", Y)
    t_ours, t_pot, w_ours, w_pot = [], [], None, None
    for _ in range(repeats):
        o = json.loads(subprocess.run([ours, fx, fy], capture_output=True, text=True, check=True).stdout)
        p = json.loads(subprocess.run([sys.executable, peer, fx, fy, "1"], capture_output=True, text=True, check=True).stdout)
        t_ours.append(o["seconds"]); t_pot.append(p["w2_exact_s"]); w_ours, w_pot = o["w2"], p["w2_exact"]
        print(json.dumps({"case": name, "ours_s": o["seconds"], "pot_s": p["w2_exact_s"], "pivots": o["pivots"]}))
    summary[name] = {"w2_ours": w_ours, "w2_pot": w_pot, "rel_diff": abs(w_ours - w_pot) / w_pot,
                     "ours_median_s": statistics.median(t_ours), "pot_median_s": statistics.median(t_pot),
                     "ratio": statistics.median(t_ours) / statistics.median(t_pot)}
print(json.dumps(summary, indent=1))
