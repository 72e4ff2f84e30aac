"""Shared fixture of the LEAPS tests: a tiny program dataset written once per session."""

import pytest

from leaps.dataset import DatasetConfig, write_dataset


@pytest.fixture(scope="session")
def tiny_data(tmp_path_factory):
    return write_dataset(tmp_path_factory.mktemp("tiny") / "data", DatasetConfig(programs=48, seed=11, batch=128),
                         progress=False)  # fmt: skip
