"""Figure 8: the conflicting-group test margin against rho under every margin-controlling method (claim M1).

One panel per M1 row that carries the method series (numerics.report.margins: the linear model, the ReLU NTK as a
kernel, the trained two-layer ReLU network, the ResNet-18), one line per method. Margins are in units of the method's
mean training margin, so methods whose raw margins differ by orders (squared loss ~1, long logistic ~10) share an axis.
Shaded: the rho = 1/2 band. With no preference the conflicting margin would equal the mean of the aligned and
conflicting ones; at rho = 1/2 it lies within half the gap band of it, so the band is that midpoint (averaged over the
methods) +- band / 2, drawn across every rho: a line leaving it downwards is the preference.
"""
from __future__ import annotations

import textwrap
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
from matplotlib.lines import Line2D  # noqa: E402
from matplotlib.patches import Patch  # noqa: E402

KEYS = ("method_rho", "method_conflicting", "method_aligned", "balance_band")


def margin_methods(rows, out: Path) -> Path | None:
    """Draw fig8_margin_methods.png from the M1 rows' series; None when no row carries them."""
    found = [r for r in rows if r.claim == "M1" and all(k in r.series for k in KEYS)]
    if not found:
        return None
    methods = list(dict.fromkeys(m for r in found for m in r.series["method_conflicting"]))
    colours = {m: f"C{i % 10}" for i, m in enumerate(methods)}          # one colour per method in every panel
    fig, axes = plt.subplots(1, len(found), figsize=(4.2 * len(found), 4.0), squeeze=False)
    for ax, row in zip(axes[0], found):
        s = row.series
        rho = np.asarray(s["method_rho"], dtype=float)
        mids = [(a[0] + c[0]) / 2 for a, c in zip(s["method_aligned"].values(), s["method_conflicting"].values())]
        centre, half = float(np.mean(mids)), float(s["balance_band"]) / 2
        ax.axhspan(centre - half, centre + half, color="0.88", zorder=0)
        for method, values in s["method_conflicting"].items():
            ax.plot(rho, values, "-o", color=colours[method], markersize=4)
        ax.set_title(textwrap.fill(row.network.split(":")[0], 40), fontsize=9)
        ax.set_xlabel(r"$\rho$ (aligned fraction)")
    axes[0][0].set_ylabel("conflicting test margin / mean training margin")
    handles = [Patch(color="0.88", label=r"$\rho = 1/2$ band (no preference)")] + \
        [Line2D([], [], color=colours[m], marker="o", markersize=4, label=m.replace("_", " ")) for m in methods]
    fig.legend(handles=handles, loc="lower center", ncol=min(len(handles), 5), fontsize=8, frameon=False)
    fig.suptitle(r"M1: conflicting-group test margin vs $\rho$ under margin-controlling methods "
                 r"(canonical GMM; ResNet-18: colored digits)", fontsize=10)
    fig.tight_layout(rect=(0, 0.1, 1, 1))
    path = out / "fig8_margin_methods.png"
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path
