"""LLM-GS end to end: initial programs from a real HTTP chat server through the `openai` SDK, the logs of
every completion, exact offline replay from the recorded cache, and the shipped DoorKey seed programs."""

import json
from pathlib import Path

import pytest

from karel.tasks import make
from synthesis.cli import main
from synthesis.llm.client import ChatClient, LlmError, LlmSettings
from synthesis.llm_gs import SUMMARY_COUNTS, llm_programs
from tests.synthesis.board import read_board
from tests.synthesis.chat_server import ChatServer

SEEDS = Path(__file__).parents[2] / "configs" / "search" / "init_programs" / "DoorKey.txt"
PROGRAMS = [line for line in SEEDS.read_text().splitlines() if line.startswith("DEF")]
ANSWERS = [
    (
        f"Plan: search the left room.\n```python\ndef run():\n    while noMarkersPresent():\n        move()\n"
        f"        if not frontIsClear():\n            turnLeft()\n    pickMarker()\n```\nDSL:\n```\n{PROGRAMS[0]}\n```"
    ),
    f"```\n{PROGRAMS[1]}\n```",
    "I cannot write this program.",  # rejected: no code at all
    "```python\ndef run():\n    while x > 0:\n        move()\n```",  # rejected: not a perception
    f"Final answer: {PROGRAMS[2]}",
]


@pytest.fixture
def server(monkeypatch):
    with ChatServer(ANSWERS) as running:
        monkeypatch.setenv("OPENAI_BASE_URL", running.base_url)
        monkeypatch.setenv("OPENAI_API_KEY", "sk-test-secret-key")
        yield running


def test_llm_programs_keep_32_of_the_completions_and_log_every_reading(server, tmp_path):
    client = ChatClient(LlmSettings(model="m", request_timeout=5), log_path=tmp_path / "requests.jsonl")
    programs = llm_programs(make("DoorKey"), client, seed=0, log_path=tmp_path / "candidates.jsonl")
    assert len(programs) == 32
    readings = [json.loads(line) for line in (tmp_path / "candidates.jsonl").read_text().splitlines()]
    rejected = [r for r in readings if r["program"] is None]
    # 2 of every 5 answers fail; the first answer's Python and DSL differ, so it gives both programs:
    # 29 completions give 39 programs, enough in one request
    assert len(readings) == 48 and len(rejected) == 19
    assert sum(r["path"] == "python+dsl" for r in readings) == 10
    assert {r["round"] for r in readings} == {1}
    assert all(len(r["reasons"]) == 2 for r in rejected)  # why each path failed
    assert [r["body"]["n"] for r in server.requests] == [48]
    request = server.requests[0]["body"]
    assert "DOORKEY" in request["messages"][1]["content"] and "def run()" in request["messages"][0]["content"]


def test_too_few_programs_after_the_rounds_is_an_error(monkeypatch, tmp_path):
    with ChatServer(["no code here"]) as running:
        monkeypatch.setenv("OPENAI_BASE_URL", running.base_url)
        client = ChatClient(LlmSettings(model="m", request_timeout=5))
        with pytest.raises(LlmError, match="only 0 of 32"):
            llm_programs(make("DoorKey"), client, seed=0, rounds=2, log_path=tmp_path / "c.jsonl")


def read(run_dir):
    log = [json.loads(line) for line in (run_dir / "log.jsonl").read_text().splitlines()]
    return [(r["evaluations"], r["return"], r["program"]) for r in log], json.loads(
        (run_dir / "result.json").read_text()
    )


def test_llm_gs_run_replays_exactly_from_its_cache(server, tmp_path, monkeypatch, capsys):
    common = ["search", "--task", "DoorKey", "--method", "llm-gs", "--budget", "1500", "--instances", "8",
              "--llm-cache", str(tmp_path / "cache"), "--model", "test-model", "--no_progress", "--json"]  # fmt: skip
    assert main([*common, "--out", str(tmp_path / "live")]) == 0
    run_dir = tmp_path / "live" / "DoorKey" / "llm-gs" / "seed_0"
    summary = json.loads((run_dir / "llm" / "summary.json").read_text())
    assert summary["accepted"] == 29 and summary["rejected"] == 19 and summary["requests_sent"] == 1
    assert summary["programs_read"] == 39 and summary["disagreements"] == 10
    assert len(summary["programs"]) == 32 and summary["reader"] == "faithful"
    # the rejected answers: no code at all (10) and a condition that is not a perception (9)
    assert summary["rejections"] == {"no-dsl": 19, "no-python": 10, "python-error": 9}
    assert summary["prompt_tokens"] > 0 and summary["completion_tokens"] > 0
    assert json.loads((run_dir / "result.json").read_text())["llm"] == {k: summary[k] for k in SUMMARY_COUNTS}
    for path in run_dir.rglob("*"):
        if path.is_file() and path.suffix in (".json", ".jsonl", ".yaml", ".txt"):
            assert "sk-test-secret-key" not in path.read_text(), path
        if path.is_file() and path.name.startswith("events.out.tfevents"):
            assert b"sk-test-secret-key" not in path.read_bytes(), path
    board = read_board(run_dir / "tb")  # what the model gave, and the returns of its programs
    assert [board["scalars"][f"llm/{k}"] for k in ("accepted", "rejected")] == [[(0, 29)], [(0, 19)]]
    [(step, count)] = board["histograms"]["llm/initial_returns"]
    [(_, ranked)] = board["texts"]["llm/programs"]
    assert step == count == 32 and len(ranked.splitlines()) == 2 + 32
    assert board["scalars"]["llm/initial_best"][0][1] == pytest.approx(float(ranked.splitlines()[2].split("|")[2]),
                                                                        abs=5e-5)  # fmt: skip

    requests_before = len(server.requests)
    monkeypatch.delenv("OPENAI_BASE_URL")
    monkeypatch.delenv("OPENAI_API_KEY")
    assert main([*common, "--out", str(tmp_path / "replay")]) == 0
    assert len(server.requests) == requests_before  # no network
    live_log, live = read(run_dir)
    replay_log, replay = read(tmp_path / "replay" / "DoorKey" / "llm-gs" / "seed_0")
    assert live_log == replay_log
    assert {k: live[k] for k in ("best_return", "best_program", "evaluations")} == \
        {k: replay[k] for k in ("best_return", "best_program", "evaluations")}  # fmt: skip
    tokens = ("prompt_tokens", "completion_tokens", "accepted", "rejections")
    assert {k: live["llm"][k] for k in tokens} == {k: replay["llm"][k] for k in tokens}
    assert (live["llm"]["requests_sent"], replay["llm"]["requests_sent"], replay["llm"]["requests_replayed"]) == (
        1,
        0,
        1,
    )


def test_llm_gs_run_with_the_release_reader_and_the_report_table(server, tmp_path, capsys):
    from synthesis.report import write_report

    assert main(["search", "--task", "DoorKey", "--method", "llm-gs", "--budget", "60", "--instances", "4",
                 "--reader", "release", "--model", "m", "--out", str(tmp_path), "--no_progress"]) == 0  # fmt: skip
    result = json.loads((tmp_path / "DoorKey" / "llm-gs" / "seed_0" / "result.json").read_text())
    assert result["llm"]["reader"] == "release" and result["llm"]["accepted"] == 32
    report = write_report(tmp_path).read_text()
    assert "| DoorKey | llm-gs | release | 1 | 2 |" in report and "## What the model cost and gave" in report


def test_no_endpoint_and_no_cache_is_a_clear_error(tmp_path, monkeypatch, capsys):
    monkeypatch.delenv("OPENAI_BASE_URL", raising=False)
    monkeypatch.delenv("OPENAI_API_KEY", raising=False)
    assert main(["search", "--task", "DoorKey", "--method", "llm-gs", "--out", str(tmp_path), "--no_progress"]) == 1
    assert "OPENAI_API_KEY" in capsys.readouterr().err


def test_shipped_seed_programs_do_not_solve_doorkey_alone():
    from karel.interpreter import evaluate, mean_return
    from karel.parser import parse

    assert all(mean_return(evaluate(parse(p), make("DoorKey"))) < 1 for p in PROGRAMS)


@pytest.mark.slow
def test_llm_gs_from_the_shipped_seed_programs_solves_doorkey(tmp_path, capsys):
    assert main(["search", "--task", "DoorKey", "--method", "llm-gs", "--init-programs", str(SEEDS), "--seed", "0",
                 "--out", str(tmp_path), "--no_progress", "--json"]) == 0  # fmt: skip
    result = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    assert result["best_return"] == 1.0 and result["evaluations"] < 1_000_000


def test_credentials_in_the_base_url_are_never_written(server, tmp_path, monkeypatch):
    port = server.httpd.server_address[1]
    monkeypatch.setenv("OPENAI_BASE_URL", f"http://someone:hunter2-password@127.0.0.1:{port}/v1")
    assert main(["search", "--task", "DoorKey", "--method", "llm-gs", "--budget", "40", "--instances", "2",
                 "--model", "m", "--out", str(tmp_path), "--no_progress"]) == 0  # fmt: skip
    run_dir = tmp_path / "DoorKey" / "llm-gs" / "seed_0"
    summary = json.loads((run_dir / "llm" / "summary.json").read_text())
    assert summary["settings"]["base_url"] == f"http://127.0.0.1:{port}/v1" and summary["failed_requests"] == 0
    written = [p for p in run_dir.rglob("*") if p.is_file() and "tfevents" not in p.name]
    assert len(written) > 5
    for path in written:
        text = path.read_bytes()
        assert b"hunter2" not in text and b"someone" not in text and b"sk-test-secret-key" not in text, path


def test_a_server_answering_no_choices_ends_the_run_with_one_line(tmp_path, monkeypatch, capsys):
    import synthesis.llm.client

    monkeypatch.setattr(synthesis.llm.client, "MALFORMED_BACKOFF", 0.01)
    with ChatServer(ANSWERS, ["empty"]) as running:
        monkeypatch.setenv("OPENAI_BASE_URL", running.base_url)
        code = main(["search", "--task", "DoorKey", "--method", "llm-gs", "--budget", "40", "--max-retries", "2",
                     "--out", str(tmp_path), "--no_progress"])  # fmt: skip
    assert code == 1 and len(running.requests) == 3
    err = capsys.readouterr().err
    assert err == ("synthesis search: error: the endpoint's answer was not a usable chat completion 3 times in a "
                   'row: no completions ("choices": [])\n')  # fmt: skip
