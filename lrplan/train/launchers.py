"""Launchers: one protocol, ``launcher.map(fn, configs) -> list of results`` (in order).

``fn`` is a top-level (picklable) function taking one plain dict, e.g.
:func:`lrplan.train.sweep.run_one`. Three implementations:

``local``
    :class:`concurrent.futures.ProcessPoolExecutor` (``forkserver``) with ``workers`` processes; each
    run gets ``threads = cores // workers`` torch threads unless its config sets ``threads``.
``submitit``
    SLURM through submitit (``pip install 'lrplan[slurm]'``): one array job (``map_array``).
    ``cluster="local"`` runs the jobs as local subprocesses, ``cluster="debug"`` in this process
    (tests); other keyword arguments go to ``executor.update_parameters`` (``timeout_min``,
    ``slurm_partition``, ``slurm_array_parallelism``, ...).
``ray``
    Ray tasks (``pip install 'lrplan[ray]'``): connects to ``address`` (default ``$RAY_ADDRESS``,
    else a local Ray started on 127.0.0.1), one task per config with ``num_cpus`` CPUs.
"""

from __future__ import annotations

import os
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path
from typing import Any, Callable, Protocol, Sequence

from lrplan.errors import ConfigError, LrplanError

Fn = Callable[[dict], Any]


class Launcher(Protocol):
    def map(self, fn: Fn, configs: Sequence[dict]) -> list: ...


def cores() -> int:
    """CPU cores this process may use."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # pragma: no cover - not Linux
        return os.cpu_count() or 1


class LocalLauncher:
    """Run configs in ``workers`` processes on this machine (default: all usable cores, one thread each)."""

    def __init__(self, workers: int | None = None, threads: int | None = None):
        if workers is not None and workers < 1:
            raise ConfigError(f"launcher workers must be >= 1, got {workers}")
        self.workers = workers or cores()
        self.threads = threads or max(cores() // self.workers, 1)

    def map(self, fn: Fn, configs: Sequence[dict]) -> list:
        configs = [dict(c) for c in configs]
        for c in configs:
            if not c.get("threads"):
                c["threads"] = self.threads
        if not configs:
            return []
        import multiprocessing as mp

        # forkserver: workers fork from a clean server that has imported torch once (fast start,
        # no fork of a parent whose torch thread pools are live)
        ctx = mp.get_context("forkserver")
        ctx.set_forkserver_preload(["lrplan.train.trainer"])
        with ProcessPoolExecutor(max_workers=min(self.workers, len(configs)), mp_context=ctx) as ex:
            return list(ex.map(fn, configs))


class SubmititLauncher:
    """SLURM array jobs through submitit (``cluster="local"``/``"debug"`` off-cluster)."""

    def __init__(self, folder: str | os.PathLike, cluster: str | None = None, **parameters):
        try:
            import submitit
        except ImportError:
            raise LrplanError("the submitit launcher needs submitit: pip install 'lrplan[slurm]'") from None
        self.executor = submitit.AutoExecutor(folder=str(Path(folder) / "%j"), cluster=cluster)
        parameters.setdefault("timeout_min", 60)
        self.executor.update_parameters(**parameters)

    def map(self, fn: Fn, configs: Sequence[dict]) -> list:
        if not configs:
            return []
        jobs = self.executor.map_array(fn, list(configs))
        return [job.result() for job in jobs]


class RayLauncher:
    """Ray tasks; a local Ray bound to 127.0.0.1 when no cluster address is given."""

    def __init__(self, address: str | None = None, num_cpus: float = 1, num_gpus: float = 0, **init_kwargs):
        try:
            import ray
        except ImportError:
            raise LrplanError("the ray launcher needs ray: pip install 'lrplan[ray]'") from None
        self.ray = ray
        self.num_cpus, self.num_gpus = num_cpus, num_gpus
        address = address or os.environ.get("RAY_ADDRESS")
        if not ray.is_initialized():
            if address:
                ray.init(address=address, **init_kwargs)
            else:
                init_kwargs.setdefault("include_dashboard", False)
                ray.init(_node_ip_address="127.0.0.1", **init_kwargs)

    def map(self, fn: Fn, configs: Sequence[dict]) -> list:
        remote = self.ray.remote(num_cpus=self.num_cpus, num_gpus=self.num_gpus)(fn)
        configs = [dict(c, threads=c.get("threads") or max(int(self.num_cpus), 1)) for c in configs]
        return self.ray.get([remote.remote(c) for c in configs])


LAUNCHERS = ("local", "submitit", "ray")


def get_launcher(name: str, workers: int | None = None, folder: str | os.PathLike = ".", **options) -> Launcher:
    """A launcher by name: ``local`` (``workers``), ``submitit`` (logs under ``folder``), ``ray``."""
    if name == "local":
        extra = sorted(set(options) - {"threads"})
        if extra:
            raise ConfigError(f"launcher local: unknown option '{extra[0]}' (it takes workers and threads)")
        return LocalLauncher(workers, **options)
    if name == "submitit":
        return SubmititLauncher(folder, **options)
    if name == "ray":
        return RayLauncher(**options)
    raise ConfigError(f"unknown launcher {name!r}; choose one of: {', '.join(LAUNCHERS)}")
