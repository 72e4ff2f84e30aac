"""Published fixture returns (reference/llm_gs.md 4.1, reference/prog_policies.md 6.11) through `karel eval --json`.

Expected means were produced by running the LLM-GS release on instances 0..31 (and 0..15, the instance
count of the prog_policies notes); our returns must match to 1e-9.
"""

import json
from pathlib import Path

import pytest

from karel.cli import main

FIXTURES = json.loads((Path(__file__).parents[1] / "fixtures" / "published_fixtures.json").read_text())


def eval_json(capsys, task: str, program: str, instances: int, engine: str = "reference") -> dict:
    code = main(
        ["eval", "--task", task, "--program", program, "--instances", str(instances), "--json", "--engine", engine]
    )
    assert code == 0
    return json.loads(capsys.readouterr().out)


@pytest.mark.parametrize("engine", ["reference", "vm"])
@pytest.mark.parametrize("fixture", FIXTURES, ids=[f"{f['task']}-{i}" for i, f in enumerate(FIXTURES)])
def test_fixture_mean_over_32_instances(capsys, fixture, engine):
    result = eval_json(capsys, fixture["task"], fixture["program"], 32, engine)
    assert result["engine"] == engine
    assert result["mean"] == pytest.approx(fixture["mean32"], abs=1e-9)
    assert result["program"] == fixture["program"]
    assert len(result["returns"]) == 32


@pytest.mark.parametrize("fixture", [f for f in FIXTURES if "6.11" in f["source"]], ids=lambda f: f["task"])
def test_prog_policies_fixture_mean_over_16_instances(capsys, fixture):
    assert eval_json(capsys, fixture["task"], fixture["program"], 16)["mean"] == pytest.approx(
        fixture["mean16"], abs=1e-9
    )
