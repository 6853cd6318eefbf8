"""Turn a fitted law (object, JSON artifact or name) into planner objectives.

Accepted:

* a :class:`~lrplan.plan.objectives.Objective` (used as is);
* a fitted law object with ``to_dict()`` (``lrplan.laws``), or such a dict, or a JSON file holding
  it: the law name under ``law`` (or ``name``/``kind``), parameters under ``params`` in absolute-LR
  units (MPL: ``L0, A, alpha, B, C, beta, gamma``; momentum: ``L0, A, alpha, C, lam``/``lambda``),
  optional bootstrap refits under ``bootstrap`` (a list of parameter dicts) for bands, optional
  fit-window refits under ``uncertainty.window`` (``[{"drop": f, "params": {...}}]``) and
  reference-shape refits under ``uncertainty.shape`` (``[{"shape": label, "params": {...}}]``, see
  :mod:`lrplan.laws.base`) that widen every band to contain their predictions;
* a name: ``mpl-25``, ``mpl-100``, ``mpl-400`` (the published multi-power-law parameters, Luo et al.
  2025, arXiv:2503.12811; absolute LR, peak 3e-4, warmup 2160), or any name
  ``lrplan.laws.load_fit`` knows (shipped fits in ``fits/``).
"""

from __future__ import annotations

import json
from pathlib import Path

from lrplan.errors import ConfigError, LoadError
from lrplan.plan.objectives import MPL, Ensemble, Momentum, Objective, Weighted

MPL_KEYS = ("L0", "A", "alpha", "B", "C", "beta", "gamma")
MOMENTUM_KEYS = ("L0", "A", "alpha", "C")


def _published(name: str) -> dict | None:
    from lrplan.datasets import MPL_PUBLISHED_PARAMS

    key = name.lower().removeprefix("mpl-").removeprefix("published-").rstrip("m")
    if name.lower().startswith("mpl-") and key in MPL_PUBLISHED_PARAMS:
        return {"law": "mpl", "params": dict(zip(MPL_KEYS, MPL_PUBLISHED_PARAMS[key])), "peak_lr": 3e-4,
                "source": f"published multi-power-law parameters, {key}M (Luo et al. 2025)"}
    return None


def _member(law: str, params: dict, where: str, options: dict | None = None) -> Objective:
    p = {str(k): v for k, v in params.items()}
    opts = options or {}
    try:
        if law in ("mpl", "multi-power", "multipower", "multi_power", "multi-power-law"):
            return MPL(*(float(p[k]) for k in MPL_KEYS))
        if law in ("momentum", "annealing", "lr-annealing", "tissue"):
            if opts.get("warmup", "include") != "include" or float(opts.get("eps", 0) or 0) != 0 or opts.get("power"):
                raise LoadError(f"{where}: the planner optimises the original momentum law only "
                                "(warmup=include, eps=0, no power); refit with those options")
            lam = p.get("lam", p.get("lambda", p.get("lambda_", 0.999)))
            return Momentum(*(float(p[k]) for k in MOMENTUM_KEYS), lam=float(lam))
    except KeyError as e:
        raise LoadError(f"{where}: parameter {e.args[0]!r} of the {law} law is missing") from None
    except (TypeError, ValueError):
        raise LoadError(f"{where}: non-numeric parameter for the {law} law") from None
    raise LoadError(f"{where}: the planner cannot optimise law {law!r} (it supports mpl, momentum and "
                    "auto ensembles of them)")


def from_dict(d: dict, where: str = "<fit>") -> tuple[Objective, list[Objective], list[Objective], dict]:
    """(point objective, bootstrap members, band-widening refits, description) from a fit dict
    (``lrplan.laws`` artifact format: ``law``, ``params``, ``peak_lr``, ``options``,
    ``uncertainty.bootstrap``, ``uncertainty.window``, ``uncertainty.shape``). The refits are the
    fit-window refits followed by the shape refits; ``info`` lists their fractions
    (``window_refits``) and labels (``shape_refits``)."""
    if not isinstance(d, dict):
        raise LoadError(f"{where}: a fit must be a JSON object")
    law = str(d.get("law") or d.get("name") or d.get("kind") or "").lower()
    if not law:
        raise LoadError(f"{where}: no 'law' key naming the fitted law")
    if law == "auto":
        return _auto(d, where)
    params = d.get("params")
    if not isinstance(params, dict):
        raise LoadError(f"{where}: no 'params' object")
    opts = d.get("options") or {}
    point = _member(law, params, where, opts)
    unc = d.get("uncertainty") if isinstance(d.get("uncertainty"), dict) else {}
    boot = d.get("bootstrap") or unc.get("bootstrap") or []
    if isinstance(boot, dict):  # columns -> rows
        keys = list(boot)
        boot = [dict(zip(keys, row)) for row in zip(*(boot[k] for k in keys))]
    members = [_member(law, {**params, **b}, f"{where} bootstrap[{i}]", opts) for i, b in enumerate(boot)]
    refits = [w for w in unc.get("window") or [] if isinstance(w, dict)]
    shapes = [w for w in unc.get("shape") or [] if isinstance(w, dict)]
    window = [_member(law, {**params, **(w.get("params") or {})}, f"{where} window[{i}]", opts) for i, w in enumerate(refits)]
    window += [_member(law, {**params, **(w.get("params") or {})}, f"{where} shape[{i}]", opts) for i, w in enumerate(shapes)]
    info = {"law": law, "params": {k: float(v) for k, v in params.items() if isinstance(v, (int, float))},
            "bootstrap_fits": len(members)}
    if refits:
        info["window_refits"] = [float(w.get("drop", float("nan"))) for w in refits]
    if shapes:
        info["shape_refits"] = [str(w.get("shape", i)) for i, w in enumerate(shapes)]
    bound = _at_bound(d.get("fit") if isinstance(d.get("fit"), dict) else {})
    if bound:
        info["at_bound"] = [f"{law}.{name}" for name in bound]
    _add_fitted_steps(d, info)
    if "model_rel_sd" in unc:
        info["model_rel_sd"] = unc["model_rel_sd"]
    for k in ("source", "peak_lr", "name", "fitted_on"):
        if k in d:
            info[k] = d[k]
    return point, members, window, info


def _at_bound(report: dict) -> list[str]:
    """Names of the parameters a fit report says the solution holds on a bound: its ``at_bound``
    list, or (reports written before lrplan recorded that list) the names in its
    "parameter(s) at a bound: a, b" warning."""
    if isinstance(report.get("at_bound"), list):
        return [str(n) for n in report["at_bound"]]
    names = []
    for m in report.get("warnings") or []:
        _, sep, tail = str(m).partition("parameter(s) at a bound:")
        if sep:
            names += [n.strip() for n in tail.split(",") if n.strip()]
    return names


def _add_fitted_steps(d: dict, info: dict) -> None:
    """``info["fitted_steps"]``: one past the last step of the longest fitting curve (from the
    artifact's ``data`` summaries), when the artifact records it."""
    last = [r.get("last_step") for r in d.get("data") or [] if isinstance(r, dict)]
    if last and all(isinstance(x, (int, float)) for x in last):
        info["fitted_steps"] = int(max(last)) + 1


def _auto(d: dict, where: str):
    """An ``auto`` fit: the weighted mean of its members (members with weight 0 are ignored).

    Bands: the i-th bootstrap member of the ensemble is the same weighted mean of every member
    law's i-th bootstrap refit (the refits of different laws are independent draws, so pairing
    them by index is as good as any pairing); there are as many as the member with the fewest
    refits has, and none if one member has no refits. Fit-window refits are paired by their
    fraction (the ensemble's refit at fraction f is the weighted mean of every member's refit at f,
    for the fractions every member has). A shape refit (a member law's reference shape) is the
    weighted mean of that member's shape refit and the other members' point fits. ``info["at_bound"]``
    collects the members' parameters on a bound (``"law.name"``)."""
    weights = d.get("weights") or {}
    parts, boots, windows, shapes = [], [], [], []
    info = {"law": "auto", "members": {}, "bootstrap_fits": 0, "peak_lr": d.get("peak_lr")}
    for m in d.get("members") or []:
        w = float(weights.get(m.get("law"), 0.0))
        if w <= 0:
            continue
        obj, members, window, minfo = from_dict(m, f"{where} member {m.get('law')!r}")
        parts.append((w, obj))
        boots.append(members)
        n_win = len(minfo.get("window_refits", []))
        windows.append(dict(zip(minfo.get("window_refits", []), window[:n_win])))
        shapes.append(dict(zip(minfo.get("shape_refits", []), window[n_win:])))
        info["members"][minfo["law"]] = {"weight": w, "params": minfo["params"]}
        if minfo.get("at_bound"):
            info.setdefault("at_bound", []).extend(minfo["at_bound"])
        info["peak_lr"] = info["peak_lr"] or minfo.get("peak_lr")
    if not parts:
        raise LoadError(f"{where}: auto fit without members of positive weight")
    band = _paired(parts, boots)
    common = [f for f in windows[0] if all(f in w for w in windows)]
    window = _paired(parts, [[w[f] for f in common] for w in windows])
    info["bootstrap_fits"] = len(band)
    if window:
        info["window_refits"] = common
    for i, sh in enumerate(shapes):
        for label, refit in sh.items():
            window.append(Weighted([(w, refit if j == i else obj) for j, (w, obj) in enumerate(parts)]))
            info.setdefault("shape_refits", []).append(label)
    _add_fitted_steps(d, info)
    return Weighted(parts), band, window, info


def _paired(parts: list, refits: list[list[Objective]]) -> list[Objective]:
    """The weighted means of every member's i-th refit, for each i the member with the fewest refits has."""
    return [Weighted([(w, r[i]) for (w, _), r in zip(parts, refits)]) for i in range(min(len(r) for r in refits))]


def load_objective(fit, robust: str | None = None, z: float = 1.645) -> tuple[Objective, Objective, Ensemble | None, dict]:
    """Resolve ``fit`` (see module docstring).

    Returns ``(point, optimised, band_model, info)``: the point-estimate objective, the objective
    the planner optimises (the point fit, or with ``robust="mean"``/``"upper"`` the ensemble of
    bootstrap fits), the ensemble used for bands (bootstrap fits plus fit-window refits; None
    without either) and a description.
    """
    if isinstance(fit, Objective):
        point, members, window, info = fit, list(getattr(fit, "members", [])), [], {"law": fit.name}
    elif isinstance(fit, dict):
        point, members, window, info = from_dict(fit)
    elif hasattr(fit, "to_dict"):
        point, members, window, info = from_dict(fit.to_dict(), where=type(fit).__name__)
    else:
        name = str(fit)
        d = _published(name)
        where = name
        if d is None:
            path = Path(name)
            if path.suffix.lower() == ".json" or path.exists():
                if not path.exists():
                    raise LoadError(f"{path}: fit file not found")
                try:
                    d = json.loads(path.read_text())
                except (OSError, UnicodeDecodeError, json.JSONDecodeError) as e:
                    raise LoadError(f"{path}: not a JSON fit ({type(e).__name__})") from None
            else:
                d = _load_named(name)
        point, members, window, info = from_dict(d, where)
    band = Ensemble(members or [point], window=window) if members or window else None
    if robust is None or robust == "none":
        return point, point, band, info
    if not members:
        raise ConfigError(f"robust={robust!r} needs a fit with bootstrap refits; this fit has none")
    info = {**info, "robust": robust}
    return point, Ensemble(members, mode=robust, z=z), band, info


def _load_named(name: str) -> dict:
    try:
        from lrplan.laws import load_fit  # the loss-law package (issue 8)
    except ImportError:
        raise LoadError(f"unknown fit {name!r}: not a .json file and not a built-in name "
                        "(mpl-25, mpl-100, mpl-400)") from None
    law = load_fit(name)
    return law.to_dict() if hasattr(law, "to_dict") else law
