"""Run and method settings: one config per method, checked the same from Python, YAML and the command line."""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path

import pytest
import yaml

from synthesis.cli import main, method_settings
from synthesis.config import RUN_SETTINGS, RunConfig
from synthesis.latent import CemConfig, LatentCebs, LatentCem, LeapsCem, LeapsCemConfig
from synthesis.llm.client import LlmSettings
from synthesis.llm_gs import LlmGs, LlmGsConfig
from synthesis.methods import METHODS, method
from synthesis.run import Run, RunFolderError
from synthesis.search import HcConfig, HillClimbing, RandomConfig, RandomSearch, ScheduledHillClimbing, ShcConfig
from synthesis.settings import SettingsError, field_docs, flat_fields

CHECKPOINT = str(Path(__file__).resolve().parents[2] / "weights" / "leaps.ckpt")
ALL = [(protocol, name) for protocol, methods in METHODS.items() for name in methods]


def test_the_method_table_maps_names_to_their_search_classes_and_configs():
    assert METHODS == {
        "llm-gs": {"hc": HillClimbing, "shc": ScheduledHillClimbing, "random": RandomSearch, "llm-gs": LlmGs,
                   "cem": LatentCem, "cebs": LatentCebs},
        "leaps": {"cem": LeapsCem},
    }  # fmt: skip
    configs = {(p, n): METHODS[p][n].Config for p, n in ALL}
    assert configs == {("llm-gs", "hc"): HcConfig, ("llm-gs", "shc"): ShcConfig, ("llm-gs", "random"): RandomConfig,
                       ("llm-gs", "llm-gs"): LlmGsConfig, ("llm-gs", "cem"): CemConfig, ("llm-gs", "cebs"): CemConfig,
                       ("leaps", "cem"): LeapsCemConfig}  # fmt: skip
    assert flat_fields(LlmGsConfig)["model"].path == ("llm", "model")  # LLM-GS's endpoint settings nest LlmSettings


@pytest.mark.parametrize(("protocol", "name"), ALL)
def test_every_setting_has_a_docstring_and_one_name(protocol, name):
    config = METHODS[protocol][name].Config
    fields = flat_fields(config)
    assert fields and all(f.doc for f in fields.values()), [f.name for f in fields.values() if not f.doc]
    assert not set(fields) & set(RUN_SETTINGS)  # no method setting shadows a run setting
    docs = field_docs(RunConfig)
    assert all(docs.get(name) for name in RUN_SETTINGS)


def test_settings_shared_by_methods_agree_and_name_their_methods():
    settings = method_settings()
    assert settings["start_k"][1] == [("llm-gs", "shc"), ("llm-gs", "llm-gs")]
    assert settings["checkpoint"][1] == [("llm-gs", "cem"), ("llm-gs", "cebs"), ("leaps", "cem")]
    assert settings["init_programs"][1] == [("llm-gs", "hc"), ("llm-gs", "shc"), ("llm-gs", "llm-gs")]
    assert settings["iterations"][1] == [("leaps", "cem")]


@pytest.mark.parametrize(("protocol", "name"), ALL)
def test_flat_settings_round_trip(protocol, name):
    task = "TopOff"
    config = RunConfig(task=task, method=name, protocol=protocol, budget=77,
                       settings=_changed(METHODS[protocol][name].Config()))  # fmt: skip
    flat = config.flat()
    assert RunConfig.from_flat(flat) == config
    assert RunConfig.from_flat(yaml.safe_load(yaml.safe_dump(flat))) == config  # as config.yaml holds it
    assert set(flat) == {*RUN_SETTINGS, *flat_fields(type(config.settings))}


def _changed(settings):
    """`settings` with every number and string setting changed to another valid value."""
    changes = {"k": 9, "start_k": 8, "end_k": 64, "ratio": "linear", "batch": 5, "llm_programs": 4, "reader": "release",
               "population": 16, "elites": 4, "sigma": 0.5, "init": "zeros", "iterations": 10, "checkpoint": CHECKPOINT,
               "init_programs": ["DEF run m( move m)"]}  # fmt: skip
    own = {f.name for f in dataclasses.fields(settings)}
    settings = dataclasses.replace(settings, **{k: v for k, v in changes.items() if k in own})
    if isinstance(settings, LlmGsConfig):
        settings = dataclasses.replace(settings, llm=LlmSettings(model="local", temperature=0.5, max_tokens=100))
    return settings


@pytest.mark.parametrize(("kwargs", "message"), [
    ({"method": "shc", "settings": ShcConfig(start_k=0)}, "shc needs 1 <= start_k <= end_k, got 0 and 2048"),
    ({"method": "hc", "settings": ShcConfig()}, "hc takes HcConfig settings, not ShcConfig"),
    ({"method": "cem", "settings": CemConfig(checkpoint="nowhere.ckpt")}, "checkpoint nowhere.ckpt not found"),
    ({"method": "cem", "settings": CemConfig(checkpoint=CHECKPOINT, elites=40)}, "1 <= elites <= population"),
    ({"method": "cem", "protocol": "leaps", "settings": CemConfig(checkpoint=CHECKPOINT)},
     "cem takes LeapsCemConfig settings, not CemConfig"),
    ({"method": "llm-gs", "settings": LlmGsConfig(llm=LlmSettings(max_retries=-1))}, "max_retries >= 0"),
    ({"method": "random", "settings": RandomConfig(batch=0)}, "random: batch must be positive, got 0"),
    ({"method": "hc", "budget": 0}, "budget must be positive"),
    ({"method": "annealing"}, "unknown method 'annealing'; known: hc, shc, random, llm-gs, cem, cebs"),
    ({"method": "hc", "protocol": "leaps"}, "the leaps protocol runs cem only"),
    ({"method": "hc", "protocol": "dreamcoder"}, "unknown protocol 'dreamcoder'; known: llm-gs, leaps"),
])  # fmt: skip
def test_a_config_made_in_python_is_checked_as_on_the_command_line(kwargs, message):
    with pytest.raises(SettingsError, match=message.replace("(", r"\(").replace(")", r"\)")):
        RunConfig(task="TopOff", **kwargs)


def test_a_setting_of_another_method_names_the_methods_settings():
    with pytest.raises(SettingsError, match="k is not a setting of shc; its settings: start_k, end_k, ratio"):
        RunConfig.from_flat({"task": "TopOff", "method": "shc", "k": 3})
    with pytest.raises(SettingsError, match="init is not a setting of cem; its settings: checkpoint, population"):
        RunConfig.from_flat({"task": "TopOff", "method": "cem", "init": "ones", "checkpoint": CHECKPOINT})
    # A sweep's settings serve several methods: each takes its own.
    config = RunConfig.from_flat({"task": "TopOff", "method": "shc", "k": 3, "start_k": 4}, drop_foreign=True)
    assert config.settings == ShcConfig(start_k=4)


def test_a_sweep_setting_that_no_method_of_the_sweep_has_is_a_usage_error(tmp_path, capsys):
    assert main(["sweep", "--tasks", "DoorKey", "--methods", "hc,shc", "--population", "4", "--seeds", "0",
                 "--out", str(tmp_path), "--no_progress"]) == 2  # fmt: skip
    err = capsys.readouterr().err
    assert "population is not a setting of hc, shc (it is one of cem, cebs, cem under --protocol leaps)" in err
    assert not list(tmp_path.iterdir())
    # A setting of LEAPS' CEM is not one of cem under the llm-gs protocol, though the method names match.
    assert main(["sweep", "--tasks", "TopOff", "--methods", "cem", "--iterations", "5", "--seeds", "0",
                 "--out", str(tmp_path), "--no_progress"]) == 2  # fmt: skip
    assert "iterations is not a setting of cem (it is one of cem under --protocol leaps)" in capsys.readouterr().err
    assert not list(tmp_path.iterdir())


def test_help_lists_every_setting_with_its_docstring(capsys):
    with pytest.raises(SystemExit):
        main(["search", "--help"])
    text = " ".join(capsys.readouterr().out.split())
    for name, (f, _) in method_settings().items():
        if name != "init_programs":
            assert f"--{name.replace('_', '-')}" in text and " ".join(f.doc.split()) in text
    assert "neighbours per climb step (hc; default: 250)" in text
    assert "type: int | null" not in text  # the real defaults, not jsonargparse's unset ones


def test_a_folder_written_with_every_methods_settings_resumes(tmp_path):
    """Folders written before settings were kept per method list all of them in config.yaml; such a
    finished folder is still recognised as this run (and a different setting still refused)."""
    config = RunConfig(task="MazeSparse", method="hc", budget=40, instances=2)
    first = Run(config, tmp_path, progress=False).execute()
    path = tmp_path / "MazeSparse" / "hc" / "seed_0" / "config.yaml"
    legacy = {
        **config.flat(),
        "start_k": 32,
        "model": "gpt-4-turbo-2024-04-09",
        "population": 32,
        "init": "tiny_normal",
    }
    path.write_text(yaml.safe_dump(legacy))
    assert Run(config, tmp_path, progress=False).execute() == first
    path.write_text(yaml.safe_dump({**legacy, "k": 7}))
    with pytest.raises(RunFolderError, match="holds a run with another config"):
        Run(config, tmp_path, progress=False).execute()
    assert json.loads((path.parent / "result.json").read_text()) == first


def test_method_lookup_names_the_protocols_methods():
    assert method("cebs") is LatentCebs and method("cem", "leaps") is LeapsCem
    with pytest.raises(SettingsError, match="the leaps protocol runs cem only"):
        method("shc", "leaps")
