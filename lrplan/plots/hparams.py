"""Plot fitted optimum surfaces of an :class:`lrplan.hparams.HparamLaw`: LR*(N, D) and B*(D)."""

from __future__ import annotations

import numpy as np


def plot_hparam_law(law, grid=None, title: str | None = None):
    """Two panels against D (tokens, log-log): the law's LR* for each N of the fit (lines) with each
    cell's bowl optimum (dots) and grid argmin (crosses); B* (tokens) the same way. The shaded band
    is the plateau within the law's tolerance when the law has curvature."""
    import matplotlib

    matplotlib.use("Agg", force=False)
    from matplotlib.figure import Figure

    opt = law.optima_
    fig = Figure(figsize=(10, 4))
    ax_lr, ax_b = fig.subplots(1, 2)
    if opt is not None and len(opt):
        Ns = sorted(set(opt["N"]))
        d_lo, d_hi = float(opt["D"].min()) / 1.5, float(opt["D"].max()) * 1.5
    else:
        rng = law.range_ or {"N": [1e8, 1e9], "D": [1e9, 1e11]}
        Ns = list(np.geomspace(*rng["N"], 3))
        d_lo, d_hi = rng["D"]
    Ds = np.geomspace(d_lo, d_hi, 60)
    colors = matplotlib.colormaps["viridis"](np.linspace(0, 0.9, len(Ns)))
    for N, col in zip(Ns, colors):
        lr, b = law.predict(N, Ds)
        ax_lr.plot(Ds, lr, color=col, lw=1.5, label=f"N={N:.3g}")
        if law.hessian_ is not None:
            bands = [law.plateau(N, d, law.tol) for d in Ds]
            ax_lr.fill_between(Ds, [p["lr"][0] for p in bands], [p["lr"][1] for p in bands], color=col, alpha=0.12)
        if np.all(np.isfinite(b)):
            ax_b.plot(Ds, b, color=col, lw=1.5, label=f"N={N:.3g}")
        if opt is not None and len(opt):
            o = opt[opt["N"] == N]
            ax_lr.scatter(o["D"], o["lr_opt"], color=col, s=22, zorder=3)
            ax_lr.scatter(o["D"], o["lr_grid"], color=col, marker="x", s=22, zorder=3)
            ax_b.scatter(o["D"], o["batch_opt"], color=col, s=22, zorder=3)
            ax_b.scatter(o["D"], o["batch_grid"], color=col, marker="x", s=22, zorder=3)
    from matplotlib.lines import Line2D
    from matplotlib.ticker import NullFormatter

    ax_b.legend(handles=[Line2D([], [], color="gray", marker="o", ls="", label="cell optimum (bowl)"),
                         Line2D([], [], color="gray", marker="x", ls="", label="cell grid argmin")], fontsize=7)
    for ax, lab in ((ax_lr, "peak LR"), (ax_b, "batch (tokens)")):
        ax.set_xscale("log")
        ax.xaxis.set_minor_formatter(NullFormatter())
        ax.set_yscale("log")
        ax.set_xlabel("D (tokens)")
        ax.set_ylabel(lab)
        ax.grid(alpha=0.3, which="both")
    ax_lr.legend(fontsize=7)
    ax_lr.set_title(law.lr_law_.formula("LR*"), fontsize=8)
    ax_b.set_title(law.batch_law_.formula("B*") if law.batch_law_ is not None else "no batch law", fontsize=8)
    if title:
        fig.suptitle(title)
    fig.tight_layout()
    return fig
