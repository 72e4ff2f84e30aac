"""`synthesis sweep --backend ray` on a real local Ray instance (2 CPUs, started here): the same run folders
and results as the local backend, a killed worker's run resumed from its checkpoint, Ctrl-C."""

import json
import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
import ray

from synthesis.cli import main
from synthesis.config import RunConfig
from synthesis.run import Run

SMALL = ["--tasks", "MazeSparse,DoorKey", "--methods", "hc,shc", "--seeds", "0", "--budget", "300", "--instances", "4",
         "--no_progress"]  # fmt: skip
LONG = {"task": "DoorKey", "method": "hc", "budget": 4000, "instances": 4}  # a run of 1-2 s that never reaches 1.0
LONG_ARGS = ["--tasks", "DoorKey", "--methods", "hc", "--budget", "4000", "--instances", "4", "--no_progress"]


@pytest.fixture(scope="module")
def ray_instance():
    ray.init(address="local", num_cpus=2, include_dashboard=False, logging_level="ERROR")
    yield
    ray.shutdown()


def _folder_contents(folder: Path, resumed: bool = False) -> dict:
    """What must agree between two runs of one config: everything but wall times and the folder's path, and
    for a resumed run the count of unique evaluations (programs met in the step cut short count again)."""
    skip = ("wall_seconds", "run_dir", "unique_evaluations") if resumed else ("wall_seconds", "run_dir")
    result = json.loads((folder / "result.json").read_text())
    log = [json.loads(line) for line in (folder / "log.jsonl").read_text().splitlines()]
    return {
        "result": {k: v for k, v in result.items() if k not in skip},
        "log": [{k: v for k, v in record.items() if k not in skip} for record in log],
        "best": (folder / "best.txt").read_text(),
        "config": (folder / "config.yaml").read_text(),
    }


def _wait_for(path: Path, seconds: float = 60.0) -> None:
    deadline = time.monotonic() + seconds
    while not path.exists():
        assert time.monotonic() < deadline, f"{path} did not appear"
        time.sleep(0.01)


def test_ray_backend_gives_the_local_backends_runs(tmp_path, ray_instance, capsys):
    # One process and one Ray worker (2 CPUs per run): the time goes into starting processes, not into runs.
    assert main(["sweep", *SMALL, "--out", str(tmp_path / "local"), "--jobs", "1"]) == 0
    ray_args = ["--backend", "ray", "--cpus-per-run", "2"]
    assert main(["sweep", *SMALL, "--out", str(tmp_path / "ray"), *ray_args]) == 0
    assert main(["sweep", *SMALL, "--out", str(tmp_path / "driver"), *ray_args, "--storage", "driver"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert len(lines) == 12 and all("error" not in json.loads(line) for line in lines)
    folders = sorted(p.parent.relative_to(tmp_path / "local") for p in (tmp_path / "local").rglob("result.json"))
    assert len(folders) == 4
    for folder in folders:
        expected = _folder_contents(tmp_path / "local" / folder)
        assert _folder_contents(tmp_path / "ray" / folder) == expected
        assert _folder_contents(tmp_path / "driver" / folder) == expected
    driver_result = json.loads((tmp_path / "driver" / folders[0] / "result.json").read_text())
    assert driver_result["run_dir"] == str(tmp_path / "driver" / folders[0])  # the driver's folder, not the worker's
    assert not list((tmp_path / "ray").glob(".sweep-*"))  # the shared-storage marker is removed

    assert main(["sweep", *SMALL, "--out", str(tmp_path / "ray"), "--backend", "ray"]) == 0  # all finished: skipped
    assert capsys.readouterr().out == ""


def test_a_killed_worker_is_retried_and_its_run_resumes_from_the_checkpoint(tmp_path, ray_instance):
    Run(RunConfig(seed=0, **LONG), tmp_path / "reference", progress=False).execute()
    expected = _folder_contents(tmp_path / "reference" / "DoorKey" / "hc" / "seed_0", resumed=True)
    out = tmp_path / "runs"
    folder = out / "DoorKey" / "hc" / "seed_0"
    codes = []
    driver = threading.Thread(target=lambda: codes.append(
        main(["sweep", *LONG_ARGS, "--seeds", "0", "--out", str(out), "--backend", "ray"])))  # fmt: skip
    driver.start()
    _wait_for(folder / "checkpoint.json")
    checkpointed = json.loads((folder / "checkpoint.json").read_text())["search"]["evaluator"]["evaluations"]
    pid = int((folder / ".lock").read_text().split()[-1])  # "<host> pid <pid>": the Ray worker running the run
    os.kill(pid, signal.SIGKILL)
    driver.join(timeout=120)
    assert codes == [0]
    first, second = (json.loads(line) for line in (folder / "attempts.jsonl").read_text().splitlines())
    assert first["pid"] == pid and first["resumed_from"] is None
    assert second["pid"] != pid and checkpointed <= second["resumed_from"] < LONG["budget"]
    assert _folder_contents(folder, resumed=True) == expected


def test_ctrl_c_cancels_queued_runs_and_running_ones_checkpoint(tmp_path):
    # A driver process of its own, as on a terminal: SIGINT to it once a run has checkpointed. Its SIGINT
    # handler is set, since a process started in the background (a CI job, `pytest &`) inherits SIGINT ignored.
    out = tmp_path / "runs"
    budget = 100_000  # a run of 15-50 s: still running when the Ctrl-C (polled every 0.5 s) lands
    driver_code = ("import runpy, signal, sys; signal.signal(signal.SIGINT, signal.default_int_handler); "
                   "sys.argv[0] = 'synthesis'; runpy.run_module('synthesis', run_name='__main__')")  # fmt: skip
    command = [sys.executable, "-c", driver_code, "sweep", "--tasks", "DoorKey", "--methods", "hc", "--budget",
               str(budget), "--instances", "4", "--no_progress", "--seeds", "0-2", "--out", str(out), "--backend",
               "ray", "--cpus-per-run", "2"]  # fmt: skip
    driver = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        deadline = time.monotonic() + 300
        while not list(out.glob("DoorKey/hc/seed_*/checkpoint.json")) and driver.poll() is None:
            assert time.monotonic() < deadline, "no run checkpointed within 300 s"
            time.sleep(0.01)
        driver.send_signal(signal.SIGINT)
        stdout, stderr = driver.communicate(timeout=120)
    finally:
        driver.kill()
    assert driver.returncode == 130, stderr
    assert stdout == "" and "interrupted; run the same command again to resume" in stderr
    [started] = [p.parent for p in out.glob("DoorKey/hc/seed_*/config.yaml")]  # the two queued runs never started
    assert (started / "checkpoint.json").exists() and not (started / "result.json").exists()
    checkpointed = json.loads((started / "checkpoint.json").read_text())["search"]["evaluator"]["evaluations"]
    assert 0 < checkpointed < budget
    assert not list(out.glob(".sweep-*"))


def test_a_failed_run_is_reported_with_task_method_and_seed(tmp_path, ray_instance, capsys):
    folder = tmp_path / "MazeSparse" / "hc" / "seed_1"
    folder.mkdir(parents=True)
    (folder / "config.yaml").write_text("task: MazeSparse\nmethod: hc\nseed: 1\nbudget: 7\n")  # another run's folder
    assert main(["sweep", "--tasks", "MazeSparse", "--methods", "hc", "--seeds", "0-1", "--budget", "300",
                 "--instances", "4", "--out", str(tmp_path), "--backend", "ray", "--cpus-per-run", "2",
                 "--no_progress"]) == 1  # fmt: skip
    captured = capsys.readouterr()
    lines = {json.loads(line)["seed"]: json.loads(line) for line in captured.out.splitlines()}
    assert lines[0]["best_return"] == 1.0
    assert lines[1]["error"] == f"{folder} holds a run with another config; choose another --out or delete the folder"
    assert f"synthesis sweep: MazeSparse hc seed 1 failed: {folder} holds a run with another config" in captured.err


def test_a_task_that_does_not_see_the_drivers_folder_fails_instead_of_writing_elsewhere(tmp_path):
    from types import SimpleNamespace

    from synthesis.run import RunFolderError
    from synthesis.sweep import ray_task

    tracker = SimpleNamespace(start=SimpleNamespace(remote=lambda key: None))
    config = {"task": "DoorKey", "method": "hc", "seed": 0, "budget": 10, "instances": 2}
    config = RunConfig.from_flat(config).flat()
    with pytest.raises(RunFolderError, match="is not the driver's folder"):
        ray_task(config, str(tmp_path / "runs"), 1, str(tmp_path), ".sweep-123", tracker, None)
    assert not (tmp_path / "runs").exists()
