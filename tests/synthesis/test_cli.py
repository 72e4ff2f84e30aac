"""The `synthesis` console script: search, sweep and report, with usage errors."""

import json
import socket
import subprocess
import sys
from pathlib import Path

import pytest

from synthesis.cli import _config, build_parser, main

ROOT = Path(__file__).parents[2]
CONFIGS = sorted((ROOT / "configs" / "search").rglob("*.yaml"))


def test_search_json_last_line(tmp_path, capsys):
    code = main(["search", "--task", "MazeSparse", "--method", "hc", "--budget", "5000", "--instances", "8",
                 "--out", str(tmp_path), "--json", "--no_progress"])  # fmt: skip
    assert code == 0
    result = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    assert set(result) >= {"task", "method", "seed", "best_return", "best_program", "evaluations", "wall_seconds",
                           "run_dir"}  # fmt: skip
    assert result["best_return"] == 1.0 and result["evaluations"] <= 5000


@pytest.mark.parametrize("path", CONFIGS, ids=lambda p: p.stem)
def test_every_shipped_search_config_is_a_valid_setting(path):
    task = [] if "task:" in path.read_text() else ["--task", "DoorKey"]
    latent = path.parent.name in ("cem", "cebs", "leaps")
    checkpoint = ["--checkpoint", str(ROOT / "weights" / "leaps.ckpt")] if latent else []
    args = build_parser().parse_args(["search", "--config", str(path), *task, *checkpoint])
    config = _config(args.search)
    if path.parent.name in ("cem", "cebs"):  # LLM-GS's LEAPS and CEBS baselines, one config per task
        assert (config.protocol, config.method, config.task, config.budget) == ("llm-gs", path.parent.name,
                                                                                path.stem, 1_000_000)  # fmt: skip
    if path.parent.name == "leaps":  # LEAPS' CEM for the task, capped at LEAPS' 1,000 iterations
        assert (config.protocol, config.method, config.task) == ("leaps", "cem", path.stem)
        settings = config.settings
        assert config.budget == settings.iterations * (settings.population + 1) and settings.iterations == 1000


def test_config_file_then_command_line(tmp_path, capsys):
    config = tmp_path / "c.yaml"
    config.write_text("method: hc\nk: 7\nbudget: 30\ninstances: 2\n")
    assert main(["search", "--config", str(config), "--task", "DoorKey", "--budget", "40", "--out", str(tmp_path),
                 "--json", "--no_progress"]) == 0  # fmt: skip
    result = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    saved = (tmp_path / "DoorKey" / "hc" / "seed_0" / "config.yaml").read_text()
    assert result["evaluations"] == 40 and "k: 7" in saved and "budget: 40" in saved


@pytest.mark.parametrize(("args", "message"), [
    (["--task", "Nope"], "known tasks: StairClimber"),
    (["--task", "Maze", "--method", "cem", "--checkpoint", "missing.ckpt"], "checkpoint missing.ckpt not found"),
    (["--task", "Maze", "--method", "annealing"], "unknown method"),
    (["--task", "Maze", "--budget", "0"], "must be positive"),
    (["--task", "Maze", "--seed", "-1"], "seed must be in 0 .. 2^32 - 1, got -1"),
    (["--task", "Maze", "--seed", str(2**32)], "seed must be in 0 .. 2^32 - 1, got 4,294,967,296"),
    (["--task", "Maze", "--ratio", "bogus"], "unknown ratio 'bogus'; known: log, linear"),
    (["--task", "Maze", "--scheduler", "bogus"], "unknown scheduler 'bogus'; known: sin, linear"),
    (["--task", "Maze", "--interpolation", "bogus"], "unknown interpolation 'bogus'; known: log, linear"),
    (["--task", "Maze", "--instances", "100000000000"], "instances must be in 1 .. 1,000,000, got 100,000,000,000"),
    (["--task", "Maze", "--instances", "0"], "instances must be in 1 .. 1,000,000, got 0"),
    (["--task", "Maze", "--method", "shc", "--k", "3"], "k is not a setting of shc; its settings: start_k, end_k"),
    (["--task", "Maze", "--method", "hc", "--model", "m", "--population", "4"],
     "model, population are not settings of hc; its settings: k, init_programs"),
    (["--task", "Maze", "--method", "cem", "--init", "ones"], "init is not a setting of cem; its settings: checkpoint"),
    (["--task", "Maze", "--method", "hc", "--k", "0"], "hc: k must be positive, got 0"),
    (["--task", "Maze", "--method", "shc", "--start-k", "64", "--end-k", "32"], "shc needs 1 <= start_k <= end_k"),
    (["--task", "TopOff", "--protocol", "leaps", "--method", "hc"], "the leaps protocol runs cem only"),
    (["--task", "Maze", "--method", "llm-gs", "--reader", "guess"], "unknown reader 'guess'; known: faithful, release"),
    (["--task", "Maze", "--method", "llm-gs", "--top-p", "0"], "llm: need temperature >= 0 and 0 < top_p <= 1"),
    (["--task", "Maze", "--device", "tpu"], "unknown device 'tpu'; known: cpu, cuda"),
])  # fmt: skip
def test_usage_errors_exit_2(tmp_path, capsys, args, message):
    assert main(["search", *args, "--out", str(tmp_path)]) == 2
    assert message in capsys.readouterr().err


def test_init_programs_file_errors_name_the_line(tmp_path, capsys):
    bad = tmp_path / "init.txt"
    bad.write_text("DEF run m( move m)\nDEF run m( move\n")
    assert main(["search", "--task", "DoorKey", "--init-programs", str(bad), "--out", str(tmp_path)]) == 2
    assert f"{bad}:2: token" in capsys.readouterr().err


def test_sweep_runs_in_parallel_skips_finished_runs_and_reports(tmp_path):
    command = [sys.executable, "-m", "synthesis", "sweep", "--tasks", "MazeSparse,DoorKey", "--methods", "hc,shc",
               "--seeds", "0-1", "--budget", "300", "--instances", "4", "--out", str(tmp_path), "--jobs", "2"]  # fmt: skip
    first = subprocess.run(command, capture_output=True, text=True, timeout=600, check=False)
    assert first.returncode == 0, first.stderr
    lines = [json.loads(line) for line in first.stdout.splitlines()]
    assert len(lines) == 8 and all(line["evaluations"] <= 300 for line in lines)
    second = subprocess.run(command, capture_output=True, text=True, timeout=600, check=False)
    assert second.returncode == 0 and second.stdout == "" and "8 already finished" in second.stderr

    report = subprocess.run([sys.executable, "-m", "synthesis", "report", str(tmp_path)], capture_output=True,
                            text=True, timeout=300, check=False)  # fmt: skip
    assert report.returncode == 0, report.stderr
    text = (tmp_path / "report.md").read_text()
    assert "| MazeSparse | llm-gs | hc | 2 |" in text and "| DoorKey | llm-gs | shc | 2 |" in text
    assert (tmp_path / "plots" / "MazeSparse.png").stat().st_size > 1000


def test_report_of_an_empty_folder_is_a_usage_error(tmp_path, capsys):
    assert main(["report", str(tmp_path)]) == 2
    assert "no finished runs" in capsys.readouterr().err


def test_sweep_takes_the_task_and_method_of_a_search_config_file(tmp_path):
    config = tmp_path / "config.yaml"
    config.write_text("method: random\ntask: LavaGap\nbatch: 8\n")
    done = subprocess.run([sys.executable, "-m", "synthesis", "sweep", "--config", str(config), "--seeds", "0",
                           "--budget", "16", "--instances", "4", "--out", str(tmp_path / "runs"), "--jobs", "1"],
                          capture_output=True, text=True, timeout=600, check=False)  # fmt: skip
    assert done.returncode == 0, done.stderr
    [line] = [json.loads(line) for line in done.stdout.splitlines()]
    assert (line["task"], line["method"], line["evaluations"]) == ("LavaGap", "random", 16)


def test_interrupted_sweep_resumes_to_the_same_results(tmp_path, monkeypatch):
    from synthesis.config import RunConfig
    from synthesis.run import Run
    from synthesis.search import HillClimbing

    args = ["--tasks", "DoorKey", "--methods", "hc", "--seeds", "0-1", "--budget", "20000", "--instances", "4",
            "--jobs", "2"]  # fmt: skip
    reference = subprocess.run([sys.executable, "-m", "synthesis", "sweep", *args, "--out", str(tmp_path / "a")],
                               capture_output=True, text=True, timeout=600, check=False)  # fmt: skip
    assert reference.returncode == 0, reference.stderr

    # A sweep interrupted in the middle of seed 0 (Ctrl-C inside a step) leaves that run checkpointed.
    steps = {"n": 0}
    original = HillClimbing.step

    def interrupted(self):
        steps["n"] += 1
        if steps["n"] == 6:
            raise KeyboardInterrupt
        original(self)

    monkeypatch.setattr(HillClimbing, "step", interrupted)
    config = RunConfig(task="DoorKey", method="hc", seed=0, budget=20000, instances=4)
    with pytest.raises(KeyboardInterrupt):
        Run(config, tmp_path / "b", progress=False).execute()
    run_dir = tmp_path / "b" / "DoorKey" / "hc" / "seed_0"
    assert (run_dir / "checkpoint.json").exists() and not (run_dir / "result.json").exists()

    resumed = subprocess.run([sys.executable, "-m", "synthesis", "sweep", *args, "--out", str(tmp_path / "b")],
                             capture_output=True, text=True, timeout=600, check=False)  # fmt: skip
    assert resumed.returncode == 0, resumed.stderr
    for seed in (0, 1):
        a, b = (json.loads((tmp_path / x / "DoorKey" / "hc" / f"seed_{seed}" / "result.json").read_text())
                for x in ("a", "b"))  # fmt: skip
        assert {k: a[k] for k in ("best_return", "best_program", "evaluations")} == \
            {k: b[k] for k in ("best_return", "best_program", "evaluations")}  # fmt: skip


HC = ["search", "--task", "TopOff", "--method", "hc", "--budget", "30", "--instances", "2", "--no_progress"]


def test_an_unwritable_out_is_one_line_exit_1(tmp_path, capsys):
    (tmp_path / "file").write_text("")
    assert main([*HC, "--out", str(tmp_path / "file" / "runs")]) == 1
    assert capsys.readouterr().err == (f"synthesis search: error: Not a directory: "
                                       f"{tmp_path / 'file' / 'runs' / 'TopOff' / 'hc' / 'seed_0'}\n")  # fmt: skip


@pytest.mark.parametrize(
    "name, content, reason",
    [
        ("config.yaml", b"task: [unclosed", "ParserError"),
        ("config.yaml", b"\xff\xfe\x00", "UnicodeDecodeError"),
        ("checkpoint.json", b'{"search": {"evalu', "JSONDecodeError"),
        ("checkpoint.json", b'{"wall_seconds": 1.0}', "not this search's state: KeyError"),
        ("result.json", b"", "JSONDecodeError"),
        ("result.json", b"[1, 2]", "not a run result"),
    ],
)
def test_a_corrupt_run_folder_file_is_named_and_kept(tmp_path, capsys, name, content, reason):
    out = tmp_path / "runs"
    run_dir = out / "TopOff" / "hc" / "seed_0"
    run_dir.mkdir(parents=True)
    if name != "config.yaml":  # the run's own config, so that the folder is this run's
        assert main([*HC, "--out", str(tmp_path / "good")]) == 0
        (run_dir / "config.yaml").write_bytes(
            (tmp_path / "good" / "TopOff" / "hc" / "seed_0" / "config.yaml").read_bytes()
        )
        if name == "checkpoint.json":
            (run_dir / "log.jsonl").write_text("")
    (run_dir / name).write_bytes(content)
    capsys.readouterr()
    assert main([*HC, "--out", str(out)]) == 2
    err = capsys.readouterr().err
    assert err.startswith(f"synthesis search: error: {run_dir / name} is corrupt (") and reason in err
    assert err.endswith(f"; repair it, or delete the run folder {run_dir} to start the run again\n")
    assert (run_dir / name).read_bytes() == content


def test_report_on_a_corrupt_result_names_the_file(tmp_path, capsys):
    assert main([*HC, "--out", str(tmp_path)]) == 0
    result = tmp_path / "TopOff" / "hc" / "seed_0" / "result.json"
    for content, reason in ((b'{"task": "TopOff", "meth', "not valid JSON"),
                            (b'{"task": "TopOff"}', "not a run result (missing or wrong method, seed, best_return"),
                            (b"\xff", "not valid JSON")):  # fmt: skip
        result.write_bytes(content)
        capsys.readouterr()
        assert main(["report", str(tmp_path)]) == 2
        err = capsys.readouterr().err
        assert err.startswith(f"synthesis report: error: {result}: {reason}") and err.endswith(
            "; repair or delete it\n"
        )
    assert not (tmp_path / "report.md").exists()


@pytest.mark.parametrize(("args", "message"), [
    (["--backend", "spark"], "unknown --backend 'spark'"),
    (["--backend", "ray", "--device", "cuda"], "needs --gpus-per-run > 0"),
    (["--backend", "ray", "--gpus-per-run", "0.5"], "--device cpu runs do not use"),
    (["--backend", "ray", "--cpus-per-run", "0"], "must be positive"),
    (["--address", "auto"], "belong to --backend ray"),
    (["--backend", "ray", "--address", "head-node"], "bad --address 'head-node'; use auto, HOST:PORT"),
    (["--backend", "ray", "--storage", "s3"], "unknown --storage 's3'"),
    (["--seeds", "3-1"], "--seeds '3-1' is an empty range"),
    (["--seeds", "0,2,0"], "--seeds '0,2,0' lists 0 more than once"),
    (["--seeds", "-1"], "bad --seeds '-1'"),
    (["--methods", "hc,shc,hc"], "--methods 'hc,shc,hc' lists hc more than once"),
])  # fmt: skip
def test_sweep_usage_errors_exit_2(tmp_path, capsys, args, message):
    assert main(["sweep", "--tasks", "DoorKey", "--out", str(tmp_path), *args]) == 2
    assert message in capsys.readouterr().err
    assert not list(tmp_path.iterdir())


def test_an_unreachable_cluster_is_one_line_and_exit_1(tmp_path, capsys):
    with socket.socket() as free:  # a port nobody listens on
        free.bind(("127.0.0.1", 0))
        port = free.getsockname()[1]
    code = main(["sweep", "--tasks", "DoorKey", "--seeds", "0", "--budget", "30", "--out", str(tmp_path), "--backend",
                 "ray", "--address", f"127.0.0.1:{port}", "--no_progress"])  # fmt: skip
    assert code == 1
    assert f"synthesis sweep: error: cannot reach the Ray cluster at 127.0.0.1:{port}: Connection refused" in \
        capsys.readouterr().err  # fmt: skip
