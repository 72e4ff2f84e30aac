"""Search on MiniGrid tasks: default budget, hill climbing over the MiniGrid neighbourhood, resumable state,
LLM-GS end to end against a real HTTP chat server, and usage errors."""

import json
from pathlib import Path

import pytest

from karel.minigrid import MINIGRID
from karel.parser import parse
from karel.tasks import make
from synthesis.cli import main
from synthesis.config import RunConfig
from synthesis.evaluator import Evaluator
from synthesis.llm.candidates import read_completion
from synthesis.llm.dsl_reader import read_dsl
from synthesis.search import ScheduledHillClimbing
from tests.synthesis.chat_server import ChatServer

SEEDS = Path(__file__).parents[2] / "configs" / "search" / "init_programs" / "LavaGap.txt"
ANSWERS = [
    ("```python\ndef run():\n    while front_is_clear():\n        if front_object_type(\"lava\"):\n            right()\n"
     "            forward()\n            left()\n        else:\n            forward()\n```\n"
     "```\nDEF run m( WHILE c( front_is_clear c) w( IFELSE c( front_object_type h( lava h) c) i( right forward left i) "
     "ELSE e( forward e) w) m)\n```"),
    "```\nDEF run m( REPEAT R=3 r( forward r) right REPEAT R=3 r( forward r) m)\n```",
    "```python\ndef run():\n    move()\n```",  # a Karel action: rejected
]  # fmt: skip


def test_default_budget_is_ten_thousand_on_minigrid_and_a_million_on_karel():
    assert RunConfig(task="LavaGap").budget == 10_000
    assert RunConfig(task="DoorKey").budget == 1_000_000
    assert RunConfig(task="LavaGap", budget=50).budget == 50


def test_llm_gs_from_the_shipped_lavagap_programs_reaches_one(tmp_path, capsys):
    assert main(["search", "--task", "LavaGap", "--method", "llm-gs", "--init-programs", str(SEEDS), "--seed", "0",
                 "--out", str(tmp_path), "--no_progress", "--json"]) == 0  # fmt: skip
    result = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    assert result["best_return"] == 1.0 and result["evaluations"] <= 10_000
    best = parse(result["best_program"], MINIGRID)
    assert make("LavaGap").returns([best]).mean() == 1.0


def test_hill_climbing_state_round_trips_with_minigrid_programs():
    evaluator = Evaluator(make("RedBlueDoor"), budget=400, instances=8)
    search = ScheduledHillClimbing(evaluator, seed=3)
    while evaluator.evaluations < 150:
        search.step()
    state = json.loads(json.dumps(search.state_dict()))
    restored = ScheduledHillClimbing(Evaluator(make("RedBlueDoor"), budget=400, instances=8), seed=99)
    restored.load_state_dict(state)
    assert (restored.current, restored.best_program, restored.best_return) == \
        (search.current, search.best_program, search.best_return)  # fmt: skip
    search.run()
    restored.run()
    assert (restored.best_program, restored.evaluator.evaluations) == (
        search.best_program,
        search.evaluator.evaluations,
    )
    assert all(word not in str(search.best_program) for word in ("move", "turnLeft", "frontIsClear"))


def test_llm_gs_on_minigrid_asks_with_the_minigrid_prompt_and_reads_minigrid_programs(tmp_path, monkeypatch, capsys):
    with ChatServer(ANSWERS) as server:
        monkeypatch.setenv("OPENAI_BASE_URL", server.base_url)
        monkeypatch.setenv("OPENAI_API_KEY", "sk-test")
        assert main(["search", "--task", "LavaGap", "--method", "llm-gs", "--budget", "300", "--instances", "8",
                     "--model", "m", "--out", str(tmp_path), "--no_progress", "--json"]) == 0  # fmt: skip
    system, user = (m["content"] for m in server.requests[0]["body"]["messages"])
    assert "forward()" in system and "front_object_type h( lava h)" in system and "Karel" not in system
    assert "LAVAGAP" in user and "MiniGrid DSL" in user
    run_dir = tmp_path / "LavaGap" / "llm-gs" / "seed_0"
    summary = json.loads((run_dir / "llm" / "summary.json").read_text())
    assert summary["accepted"] == 32 and summary["rejected"] > 0
    assert all(parse(p, MINIGRID) for p in summary["programs"])
    readings = [json.loads(line) for line in (run_dir / "llm" / "candidates.jsonl").read_text().splitlines()]
    rejected = [r for r in readings if r["program"] is None]
    assert all(any("move() is not an action" in reason for reason in r["reasons"]) for r in rejected)
    result = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    first = parse(ANSWERS[0].split("```")[3].strip(), MINIGRID)
    assert result["evaluations"] <= 300 and result["best_return"] >= make("LavaGap").returns([first], 8).mean()


def test_readers_accept_the_ways_models_write_parametric_perceptions():
    expected = "DEF run m( WHILE c( not c( front_object_type h( lava h) c) c) w( forward w) m)"
    for text in (expected, 'DEF run m( WHILE not front_object_type("lava") w( forward() w) m)',
                 "DEF run m( WHILE c( not c( front_object_type(lava) c) c) w( forward w) m)"):  # fmt: skip
        assert str(read_dsl(text, MINIGRID).program) == expected
    reading = read_completion("```python\ndef run():\n    while not front_object_type('lava'):\n        forward()\n```",
                              MINIGRID)  # fmt: skip
    assert (str(reading.program), reading.path) == (expected, "python")


@pytest.mark.parametrize("args, message", [
    (["--task", "LavaGap", "--method", "cem"], "cem searches the latent space of a Karel program VAE"),
    (["--task", "lavagap"], "MiniGrid: LavaGap, PutNear, RedBlueDoor"),
])  # fmt: skip
def test_usage_errors(args, message, tmp_path, capsys):
    assert main(["search", *args, "--out", str(tmp_path), "--no_progress"]) == 2
    assert message in capsys.readouterr().err


def test_init_programs_are_read_in_the_task_language(tmp_path, capsys):
    path = tmp_path / "starts.txt"
    path.write_text("DEF run m( move m)\n")
    assert main(["search", "--task", "LavaGap", "--init-programs", str(path), "--out", str(tmp_path),
                 "--no_progress"]) == 2  # fmt: skip
    assert "starts.txt:1: token 3" in capsys.readouterr().err
