"""Revision experiments against a real local chat server: what each method feeds back, and replay."""

import json

import pytest

from synthesis.cli import main
from tests.synthesis.chat_server import ChatServer
from tests.synthesis.test_llm_gs import ANSWERS

FEEDBACK = {
    "regeneration": ["none of them reaches the best return", "```python\ndef run():"],
    "regeneration-with-reward": ["(mean return", "best first"],
    "execution-trace": ["Initial map of variant", "Step 1:", "The episode ended by"],
    "program-execution-trace": ["Step 1:", "# <- here"],
}


@pytest.mark.parametrize("method", list(FEEDBACK))
def test_revision_rounds_feed_back_what_the_method_says(method, tmp_path, monkeypatch, capsys):
    args = ["revise", "--task", "DoorKey", "--method", method, "--rounds", "2", "--programs", "4", "--instances", "4",
            "--llm-cache", str(tmp_path / "cache"), "--model", "test-model", "--json"]  # fmt: skip
    with ChatServer(ANSWERS) as server:
        monkeypatch.setenv("OPENAI_BASE_URL", server.base_url)
        assert main([*args, "--out", str(tmp_path / "live")]) == 0
    result = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    assert len(result["best_return_per_round"]) == 3
    users = [r["body"]["messages"][1]["content"] for r in server.requests]
    assert "Write a Karel program for this task" in users[0]
    for text in FEEDBACK[method]:
        assert all(text in u for u in users[-2:]), text  # every revision round
    run_dir = tmp_path / "live" / "DoorKey" / f"revise-{method}" / "seed_0"
    rounds = [json.loads(line) for line in (run_dir / "rounds.jsonl").read_text().splitlines()]
    assert [r["round"] for r in rounds] == [0, 1, 2] and all(len(r["programs"]) == 4 for r in rounds)

    monkeypatch.delenv("OPENAI_BASE_URL")
    assert main([*args, "--out", str(tmp_path / "replay")]) == 0
    replayed = (tmp_path / "replay" / "DoorKey" / f"revise-{method}" / "seed_0" / "rounds.jsonl").read_text()
    assert replayed == (run_dir / "rounds.jsonl").read_text()


def test_unknown_revision_method_is_a_usage_error(capsys):
    assert main(["revise", "--task", "DoorKey", "--method", "magic"]) == 2
    assert "regeneration" in capsys.readouterr().err


def test_revision_instances_are_bounded(capsys):
    assert main(["revise", "--task", "DoorKey", "--method", "regeneration", "--instances", "100000000000"]) == 2
    assert "instances in 1 .. 1,000,000" in capsys.readouterr().err
