"""Sweeps: tasks x methods x seeds as independent runs, on a local process pool or on a Ray cluster.

Both backends execute the same `Run` (synthesis.run) in the same run folders, so they skip the same
finished runs, resume the same interrupted ones and give the same results run for run (best return,
evaluations, programs, improvement log; only wall times differ).

- `local`: a process pool of `jobs` processes on this machine.
- `ray`: every run is one Ray task asking for `cpus_per_run` CPUs and `gpus_per_run` GPUs. A task whose
  worker dies (process killed, node lost, preemption) is started again by Ray up to `retries` times and its
  run resumes from the last checkpoint in its folder; an error raised by the run itself (a folder holding
  another config, say) is not retried but reported as a failed run.

Where the run folders live (`storage`, ray only):

- `shared` (default): the workers write `<out>/<task>/<method>/seed_<s>/` themselves, so `out` must be
  storage every node sees at the same path (NFS, Lustre, a mounted bucket). The driver checks this: it
  leaves a marker file in `out` that every task looks for, and a task that cannot see it fails with a
  message instead of writing its folder where the driver never finds it.
- `driver`: a task runs in a folder on its worker's local disk (under the system's temporary folder,
  named by the digest of the run's config and the driver's `out`), returns the finished folder's files to
  the driver, which writes them under `out`, and removes its local copy. An unfinished folder already under `out` is sent along and resumed. A worker
  that dies resumes from its local checkpoint only if Ray retries it on the same node; otherwise the run
  starts over (with the same result).

Relative paths in the settings (`out`, `checkpoint`, `llm_cache`) are the driver's: a task first changes
into the driver's working directory when its node has that folder (shared storage mounted at the same
path); otherwise only absolute paths that exist on every node work.

Progress: one bar on stderr over the sweep's runs (done / running / failed); one JSON line per finished or
failed run on stdout, and each failure also as one line on stderr naming task, method and seed. Ctrl-C
cancels the runs not started yet and interrupts the running ones, which save their checkpoints.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import socket
import sys
import tempfile
import time
import uuid
from pathlib import Path

from karel.atomic import write_atomic
from synthesis.config import RunConfig
from synthesis.run import Run, RunFolderError, run_dir

BACKENDS = ("local", "ray")
STORAGES = ("shared", "driver")
LINE_KEYS = ("task", "method", "seed", "best_return", "evaluations", "wall_seconds")
CANCEL_SECONDS = 120.0  # Ctrl-C: how long the driver waits for interrupted runs to save their checkpoints


class SweepError(RuntimeError):
    """The sweep cannot start (the Ray cluster cannot be reached)."""


def _init_message(address: str | None, error: BaseException) -> str:
    causes = [error]
    while causes[-1].__cause__ is not None and len(causes) < 8:
        causes.append(causes[-1].__cause__)
    text = " ".join(str(c) for c in causes)
    message = (
        f"cannot reach the Ray cluster at {address or 'a new local instance'}: {str(error).strip().splitlines()[0]}"
    )
    if "InvalidAuthToken" in text or "AuthenticationError" in text or "auth" in type(causes[-1]).__name__.lower():
        message += " (the cluster uses token authentication: set RAY_AUTH_MODE=token, see docs/cluster.md)"
    return message


def _check_reachable(address: str | None) -> None:
    """Fail fast on a HOST:PORT nobody listens on (Ray itself keeps retrying such an address for minutes)."""
    if address is None or address == "auto":
        return
    host, _, port = address.removeprefix("ray://").rpartition(":")
    try:
        socket.create_connection((host, int(port)), timeout=10).close()
    except OSError as error:
        raise SweepError(f"cannot reach the Ray cluster at {address}: {error.strerror or error}") from None


class SweepBar:
    """One progress bar over the sweep's runs on stderr; a line per finished or failed run on stdout."""

    def __init__(self, total: int, finished: int, enabled: bool):
        from tqdm import tqdm

        self.tqdm = tqdm
        self.bar = tqdm(total=total, initial=finished, unit="run", desc="sweep", disable=not enabled, file=sys.stderr)
        self.failed = 0
        self.running = 0
        self._postfix()

    def _postfix(self) -> None:
        self.bar.set_postfix_str(f"running {self.running}, failed {self.failed}")

    def set_running(self, running: int) -> None:
        if running != self.running:
            self.running = running
            self._postfix()

    def done(self, result: dict) -> None:
        self.tqdm.write(json.dumps({k: result[k] for k in LINE_KEYS}), file=sys.stdout)
        sys.stdout.flush()
        self.bar.update(1)

    def fail(self, config: RunConfig, message: str) -> None:
        self.failed += 1
        self.tqdm.write(json.dumps({"task": config.task, "method": config.method, "seed": config.seed,
                                    "error": message}), file=sys.stdout)  # fmt: skip
        sys.stdout.flush()
        self.tqdm.write(f"synthesis sweep: {config.task} {config.method} seed {config.seed} failed: {message}",
                        file=sys.stderr)  # fmt: skip
        self._postfix()
        self.bar.update(1)

    def close(self) -> None:
        self.bar.close()


def execute_run(config: dict, out: str, threads: int) -> dict:
    """Run (or resume) one search to its end in this process with `threads` numba and torch threads."""
    import numba
    import torch

    numba.set_num_threads(max(1, min(threads, numba.config.NUMBA_NUM_THREADS)))
    torch.set_num_threads(max(1, threads))
    return Run(RunConfig.from_flat(config), out, progress=False).execute()


def _message(error: BaseException) -> str:
    text = str(error).strip() or type(error).__name__
    if isinstance(error, RunFolderError | ValueError | OSError):
        return text.splitlines()[0]
    return f"{type(error).__name__}: {text.splitlines()[0]}"


def sweep(configs: list[RunConfig], out: str, *, backend: str = "local", jobs: int = 1, progress: bool = True,
          address: str | None = None, cpus_per_run: int = 1, gpus_per_run: float = 0.0, retries: int = 3,
          storage: str = "shared") -> int:  # fmt: skip
    """Run every config not finished under `out` on `backend`; return the number of failed runs.

    Raises KeyboardInterrupt after Ctrl-C, once the running runs have saved their checkpoints."""
    pending = [c for c in configs if not (run_dir(out, c) / "result.json").exists()]
    print(f"sweep: {len(configs)} runs, {len(configs) - len(pending)} already finished", file=sys.stderr)
    bar = SweepBar(len(configs), len(configs) - len(pending), progress and bool(pending))
    try:
        if not pending:
            return 0
        if backend == "local":
            _sweep_local(pending, out, jobs, bar)
        else:
            _sweep_ray(pending, out, bar, address, cpus_per_run, gpus_per_run, retries, storage)
    finally:
        bar.close()
    return bar.failed


def _sweep_local(pending: list[RunConfig], out: str, jobs: int, bar: SweepBar) -> None:
    from concurrent.futures import FIRST_COMPLETED, ProcessPoolExecutor, wait
    from multiprocessing import get_context

    jobs = max(1, min(jobs, len(pending)))
    threads = max(1, (os.cpu_count() or 1) // jobs)
    pool = ProcessPoolExecutor(jobs, mp_context=get_context("spawn"))
    try:
        futures = {pool.submit(execute_run, c.flat(), out, threads): c for c in pending}
        remaining = set(futures)
        while remaining:
            done, remaining = wait(remaining, timeout=0.5, return_when=FIRST_COMPLETED)
            for future in done:
                try:
                    bar.done(future.result())
                except Exception as error:  # noqa: BLE001 (one failed run must not stop the others)
                    bar.fail(futures[future], _message(error))
            bar.set_running(min(jobs, sum(f.running() for f in remaining)))
    except KeyboardInterrupt:  # the workers checkpoint their runs; queued runs are not started
        pool.shutdown(wait=True, cancel_futures=True)
        raise
    pool.shutdown(wait=True)


# --- ray ---------------------------------------------------------------------------------------------------


def _digest(config: dict) -> str:
    return hashlib.sha256(json.dumps(config, sort_keys=True).encode()).hexdigest()[:16]


def _read_folder(folder: Path) -> dict[str, bytes]:
    """Every file of a run folder (relative path -> bytes), without the lock and temporary files."""
    return {str(p.relative_to(folder)): p.read_bytes() for p in sorted(folder.rglob("*"))
            if p.is_file() and not p.name.startswith(".")}  # fmt: skip


def _write_folder(folder: Path, files: dict[str, bytes]) -> None:
    """Write a run folder's files, result.json last (a folder with result.json is complete)."""
    for name in sorted(files, key=lambda n: n == "result.json"):
        path = folder / name
        path.parent.mkdir(parents=True, exist_ok=True)
        write_atomic(path, files[name])


def ray_task(config: dict, out: str, threads: int, cwd: str, marker: str, tracker, files: dict | None) -> dict:
    """The body of one Ray task: one run, in `out` (shared storage) or, when `files` is given (driver storage),
    in a folder on this node returned as files."""
    tracker.start.remote(_digest(config))
    if Path(cwd).is_dir():
        os.chdir(cwd)  # relative paths in the settings are the driver's
    if files is None:
        if not (Path(out) / marker).exists():
            raise RunFolderError(f"--out {out} on {socket.gethostname()} is not the driver's folder (no shared "
                                 "storage, or another working directory); use a folder every node sees at the same "
                                 "path, or --storage driver")  # fmt: skip
        return {"result": execute_run(config, out, threads)}
    local_out = Path(tempfile.gettempdir()) / "synthesis-sweep" / _digest({"config": config, "cwd": cwd, "out": out})
    folder = run_dir(local_out, RunConfig.from_flat(config))
    if files and not (folder / "checkpoint.json").exists():
        _write_folder(folder, files)  # the driver's unfinished folder, resumed here
    result = execute_run(config, str(local_out), threads)
    files = _read_folder(folder)
    shutil.rmtree(local_out, ignore_errors=True)
    return {"result": result, "files": files}


def _receive(config: RunConfig, out: str, reply: dict) -> dict:
    """Write a run folder returned by a task (driver storage) under `out`; return its result."""
    folder = run_dir(out, config)
    files, result = reply["files"], dict(reply["result"], run_dir=str(folder))
    for name in ("config.yaml", "vae.sha256"):
        if (folder / name).exists() and name in files and (folder / name).read_bytes() != files[name]:
            raise RunFolderError(f"{folder} holds a run with another {name}; choose another --out or delete "
                                 "the folder")  # fmt: skip
    files["result.json"] = (json.dumps(result, indent=1) + "\n").encode()
    _write_folder(folder, files)
    return result


def _sweep_ray(pending, out, bar, address, cpus_per_run, gpus_per_run, retries, storage) -> None:
    import ray
    from ray.exceptions import RayError, RayTaskError, TaskCancelledError

    started_here = not ray.is_initialized()
    if started_here:
        _check_reachable(address)
        # No address: a new instance here, even when this machine runs a cluster (--address auto joins that).
        local = {"include_dashboard": False} if address is None else {}  # Ray Client takes fewer arguments
        try:
            ray.init(address=address or "local", logging_level="WARNING", **local)
        except (ConnectionError, RuntimeError, ValueError) as error:
            raise SweepError(_init_message(address, error)) from None
    marker = f".sweep-{uuid.uuid4().hex[:12]}"
    Path(out).mkdir(parents=True, exist_ok=True)
    write_atomic(Path(out) / marker, f"{socket.gethostname()} pid {os.getpid()} {time.ctime()}\n")
    try:
        tracker = ray.remote(num_cpus=0)(_Tracker).remote()
        task = ray.remote(ray_task).options(num_cpus=cpus_per_run, num_gpus=gpus_per_run, max_retries=retries,
                                            retry_exceptions=False)  # fmt: skip
        refs = {}
        for config in pending:
            files = None
            if storage == "driver":
                folder = run_dir(out, config)
                files = _read_folder(folder) if folder.is_dir() else {}
            ref = task.remote(config.flat(), out, cpus_per_run, os.getcwd(), marker, tracker, files)
            refs[ref] = config
        remaining, finished = list(refs), 0
        try:
            while remaining:
                done, remaining = ray.wait(remaining, num_returns=1, timeout=0.5)
                for ref in done:
                    config, finished = refs[ref], finished + 1
                    try:
                        reply = ray.get(ref)
                        bar.done(_receive(config, out, reply) if storage == "driver" else reply["result"])
                    except RayTaskError as error:  # the run raised: not retried
                        bar.fail(config, _message(error.cause if error.cause is not None else error))
                    except RayError as error:  # its worker died more than `retries` times, and the like
                        bar.fail(config, f"{type(error).__name__}: {str(error).strip().splitlines()[0]}")
                    except RunFolderError as error:  # driver storage: the folder under out is another run's
                        bar.fail(config, str(error))
                bar.set_running(max(0, ray.get(tracker.started.remote()) - finished))
        except KeyboardInterrupt:
            # Not started yet: cancelled. Running: KeyboardInterrupt inside the run, which saves its checkpoint.
            for ref in remaining:
                ray.cancel(ref, force=False)
            ray.wait(remaining, num_returns=len(remaining), timeout=CANCEL_SECONDS)
            for ref in remaining:
                try:
                    ray.get(ref, timeout=0)
                except (RayError, TaskCancelledError):
                    pass
            raise
    finally:
        (Path(out) / marker).unlink(missing_ok=True)
        if started_here:
            ray.shutdown()


class _Tracker:
    """A Ray actor counting the runs that have started (a retried run counts once)."""

    def __init__(self):
        self.keys = set()

    def start(self, key: str) -> None:
        self.keys.add(key)

    def started(self) -> int:
        return len(self.keys)
