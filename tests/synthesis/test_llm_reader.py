"""Both readers on a set of realistic answers (tests/synthesis/llm_answers.py), the release reader against
the release's own outputs, the readings of a run served by a real HTTP server through the `openai` SDK,
and `synthesis llm-read`."""

import io
import json
from pathlib import Path

import numpy as np
import pytest

from karel.minigrid.language import MINIGRID
from karel.parser import ProgramSyntaxError, parse
from karel.tasks import make
from synthesis.cli import main
from synthesis.llm.candidates import read_completion
from synthesis.llm.client import ChatClient, LlmSettings
from synthesis.llm.prompts import system_prompt, user_prompt
from synthesis.llm.release_reader import ReleaseReadError, release_dsl, release_python
from synthesis.llm_gs import llm_programs, summarise
from tests.synthesis.chat_server import ChatServer, words
from tests.synthesis.llm_answers import CASES, measure

FIXTURE = json.loads((Path(__file__).parents[1] / "fixtures" / "llm_release_outputs.json").read_text())["cases"]
RELEASE = {item["source"].removeprefix("answer set: "): item for item in FIXTURE}


def language_of(case):
    return make(case["task"]).language


def release_or_none(function, text, language):
    try:
        return function(text, language)
    except ReleaseReadError:
        return None


def test_release_strings_equal_the_release_on_every_fixture_input():
    assert len(FIXTURE) >= 200
    mismatches = []
    for item in FIXTURE:
        language = MINIGRID if item["language"] == "minigrid" else make("DoorKey").language
        got = (
            release_or_none(release_python, item["text"], language),
            release_or_none(release_dsl, item["text"], language),
        )
        if got != (item["python"], item["dsl"]):
            mismatches.append(item["source"])
    assert mismatches == []


@pytest.mark.parametrize("name", CASES)
def test_faithful_reading(name):
    case = CASES[name]
    reading = read_completion(case["text"], language_of(case), finish_reason=case.get("finish_reason", "stop"))
    assert [str(p) for p in reading.programs] == case["faithful"]
    assert all(str(p) in case["meant"] for p in reading.programs)  # nothing read that the answer does not mean
    if not reading.programs:
        assert reading.reasons and reading.path is None


@pytest.mark.parametrize("name", CASES)
def test_release_reading(name):
    """The release reader keeps the release's strings that parse and draws one with RandomState(seed)."""
    case, expected = CASES[name], RELEASE[name]
    language = language_of(case)
    parsed = []
    for source in (expected["python"], expected["dsl"]):
        try:
            parsed.append(parse(source, language)) if source is not None else None
        except ProgramSyntaxError:
            pass
    for seed in (0, 1):
        draw = np.random.RandomState(seed)
        chosen = parsed[draw.choice(len(parsed))] if parsed else None
        reading = read_completion(case["text"], language, reader="release", rng=np.random.RandomState(seed))
        assert reading.program == chosen


def test_the_faithful_reader_reads_every_answer_meaning_a_program_and_nothing_else():
    rows = measure()  # the numbers of docs/llm-reader.md
    assert rows["faithful"] == {"read": 47, "meaning_a_program": 47, "share": 1.0, "not_meant_accepted": 0}
    assert rows["release"] == {"read": 36, "meaning_a_program": 47, "share": 0.766, "not_meant_accepted": 10}
    assert len(CASES) >= 40
    families = {"gpt-4", "claude", "llama-3-70b", "qwen2.5-coder", "7b", "deepseek-r1", "gemini"}
    assert {c["family"] for c in CASES.values()} == families


def test_runs_read_every_answer_served_over_http_and_count_tokens(monkeypatch, tmp_path):
    names = ["gpt4 doorkey", "claude draft then fix", "7b truncated python", "llama comments in dsl", "7b unknown action",
             "7b missing e closer"]  # fmt: skip
    answers = [(CASES[n]["text"], CASES[n].get("finish_reason", "stop")) for n in names]
    with ChatServer(answers) as server:
        monkeypatch.setenv("OPENAI_BASE_URL", server.base_url)
        monkeypatch.setenv("OPENAI_API_KEY", "sk-test")
        client = ChatClient(LlmSettings(model="m", request_timeout=5), log_path=tmp_path / "requests.jsonl")
        task = make("DoorKey")
        programs = llm_programs(task, client, seed=0, count=4, log_path=tmp_path / "candidates.jsonl")
    readings = [json.loads(line) for line in (tmp_path / "candidates.jsonl").read_text().splitlines()]
    assert len(readings) == 6 and [r["programs"] for r in readings] == [
        next(c["faithful"] for c in CASES.values() if c["text"] == r["completion"]) for r in readings
    ]
    assert [str(p) for p in programs] == [p for r in readings for p in r["programs"]][:4]
    [request] = [json.loads(line) for line in (tmp_path / "requests.jsonl").read_text().splitlines()]
    prompt = words(system_prompt(task.language)) + words(user_prompt(task))
    completion = sum(words(text) for text, _ in answers)
    assert request["usage"] == {"prompt_tokens": prompt, "completion_tokens": completion}
    assert request["finish_reasons"] == [finish for _, finish in answers]
    summary = summarise(readings, client)
    assert {k: summary[k] for k in ("requests_sent", "prompt_tokens", "completion_tokens", "completions", "accepted",
                                    "rejected", "cut_off")} == {"requests_sent": 1, "prompt_tokens": prompt,
                                                                "completion_tokens": completion, "completions": 6,
                                                                "accepted": 4, "rejected": 2, "cut_off": 1}  # fmt: skip
    assert summary["rejections"] == {"cut-off": 1, "dsl-error": 1, "no-python": 1}
    assert len(server.requests) == 1


def test_llm_read_prints_one_json_line(tmp_path, capsys, monkeypatch):
    case = CASES["7b extra closer"]
    path = tmp_path / "answer.txt"
    path.write_text(case["text"])
    assert main(["llm-read", "--task", "FourCorners", str(path)]) == 0
    line = json.loads(capsys.readouterr().out)
    assert line["program"] == case["faithful"][0] and line["path"] == "dsl"
    assert "repair: extra w) after 'move w)' dropped" in line["reasons"]
    monkeypatch.setattr("sys.stdin", io.StringIO(CASES["7b truncated"]["text"]))
    assert main(["llm-read", "--task", "Harvester", "--finish-reason", "length"]) == 0
    assert json.loads(capsys.readouterr().out)["program"] is None
    monkeypatch.setattr("sys.stdin", io.StringIO(CASES["claude disagreeing conversion"]["text"]))
    assert main(["llm-read", "--task", "Maze", "--reader", "release", "--seed", "3", "-"]) == 0
    assert json.loads(capsys.readouterr().out)["path"] in ("python", "dsl")


@pytest.mark.parametrize(("args", "message"), [
    (["--task", "Nope"], "unknown task 'Nope'"),
    ([], "the following arguments are required: llm-read.task"),
    (["--task", "Maze", "--bogus"], "unrecognized arguments: --bogus"),
    (["--task", "Maze", "--reader", "lenient"], "unknown reader 'lenient'; known: faithful, release"),
    (["--task", "Maze", "/no/such/answer.txt"], "cannot read /no/such/answer.txt: No such file or directory"),
])  # fmt: skip
def test_llm_read_usage_errors_are_one_line(args, message, capsys):
    assert main(["llm-read", *args]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and message in err
