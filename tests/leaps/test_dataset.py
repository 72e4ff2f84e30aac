"""The program dataset: LEAPS layout, traces that re-execute exactly, determinism, atomic writes, the
DataModule, and clear errors on foreign or corrupt folders."""

import re

import h5py
import numpy as np
import pytest
import torch

from karel.dsl import TOKENS
from karel.interpreter import Termination, run_episode
from karel.parser import parse_ids
from karel.world import Worlds
from leaps.datamodule import DatasetError, ProgramDataModule, open_dataset
from leaps.dataset import MAX_CALLS, DatasetConfig, DatasetExistsError, statistics, write_dataset


@pytest.fixture(scope="module")
def dataset(tmp_path_factory):
    return write_dataset(tmp_path_factory.mktemp("ds") / "data", DatasetConfig(programs=120, seed=7, batch=256),
                         progress=False)  # fmt: skip


def test_layout_names_dtypes_shapes(dataset):
    ids = (dataset / "id.txt").read_text().splitlines()
    assert len(ids) == 120
    with h5py.File(dataset / "data.hdf5", "r") as f:
        assert set(f) == {*ids, "data_info"}
        info = {k: f["data_info"][k][()] for k in f["data_info"]}
        assert info["num_demo_per_program"] == 10 and info["max_demo_length"] == 20 and info["num_action_tokens"] == 5
        assert info["num_train"] + info["num_val"] + info["num_test"] == 120
        for k, name in enumerate(ids):
            g = f[name]
            length, longest = map(int, re.fullmatch(rf"no_{k}_prog_len_(\d+)_max_s_h_len_(\d+)", name).groups())
            assert g["program"].dtype == np.int8 and g["program"].shape == (length,) and length <= 50
            assert g["s_h"].dtype == bool and g["s_h"].shape == (10, longest, 8, 8, 16)
            assert g["a_h"].dtype == np.int8 and g["a_h"].shape == (10, longest - 1)
            assert g["s_h_len"].dtype == np.int16 and g["a_h_len"].dtype == np.int16
            s_len, a_len = g["s_h_len"][()], g["a_h_len"][()]
            assert (s_len == a_len + 1).all() and s_len.max() == longest and ((s_len >= 4) & (s_len <= 20)).all()
            s_h = g["s_h"][()]
            for d in range(10):
                assert s_h[d, : s_len[d]].any(axis=-1).all()  # every cell one-hot in real steps
                assert not s_h[d, s_len[d] :].any()  # zero padding in time
                assert (g["a_h"][d, a_len[d] :] == 0).all()


def test_stored_traces_re_execute_exactly(dataset):
    with h5py.File(dataset / "data.hdf5", "r") as f:
        for name in (dataset / "id.txt").read_text().splitlines()[:60]:
            g = f[name]
            program = parse_ids(g["program"][()].tolist())
            s_h = torch.from_numpy(g["s_h"][()]).permute(0, 1, 4, 2, 3)  # [10, T, 16, H, W]
            for d in range(10):
                n = int(g["s_h_len"][d])
                start = Worlds.from_onehot(s_h[d, :1]).world(0)
                episode = run_episode(program, start, crashable=True, max_calls=MAX_CALLS, record_worlds=True)
                assert episode.termination == Termination.PROGRAM_END
                assert episode.actions == g["a_h"][d, : n - 1].tolist()
                replayed = Worlds.stack(episode.worlds).to_onehot()
                assert torch.equal(replayed, s_h[d, :n]), (name, d)


def test_generation_is_deterministic_by_seed(tmp_path):
    config = DatasetConfig(programs=30, seed=3, batch=64)
    a, b = (write_dataset(tmp_path / x, config, progress=False) for x in "ab")
    c = write_dataset(tmp_path / "c", DatasetConfig(programs=30, seed=4, batch=64), progress=False)
    assert (a / "id.txt").read_text() == (b / "id.txt").read_text() != (c / "id.txt").read_text()
    with h5py.File(a / "data.hdf5", "r") as fa, h5py.File(b / "data.hdf5", "r") as fb:
        for name in (a / "id.txt").read_text().splitlines():
            for field in ("program", "s_h", "a_h", "s_h_len", "a_h_len"):
                assert np.array_equal(fa[name][field][()], fb[name][field][()])


def test_branch_coverage_option(tmp_path):
    out = write_dataset(tmp_path / "cov", DatasetConfig(programs=40, seed=5, batch=64, cover_branches=True),
                        progress=False)  # fmt: skip
    stats = statistics(out)
    assert stats["programs"] == 40 and stats["duplicate_programs"] == 0
    assert 1 <= stats["demo_states"]["min"] and stats["demo_states"]["max"] <= 20  # coverage admits short demos
    with h5py.File(out / "data.hdf5", "r") as f:
        assert all(f[name]["s_h_len"][()].max() >= 2 for name in (out / "id.txt").read_text().split())


def test_interrupted_generation_leaves_no_dataset(tmp_path, monkeypatch):
    import itertools

    import leaps.dataset as module

    original = module.generate

    def failing(config, progress):
        yield from itertools.islice(original(config, progress), 2)
        raise KeyboardInterrupt

    monkeypatch.setattr(module, "generate", failing)
    with pytest.raises(KeyboardInterrupt):
        write_dataset(tmp_path / "x", DatasetConfig(programs=5), progress=False)
    assert list((tmp_path / "x").iterdir()) == []


def test_statistics(dataset):
    stats = statistics(dataset)
    assert stats["programs"] == 120 and stats["duplicate_programs"] == 0
    assert sum(stats["program_tokens"]["histogram"].values()) == 120
    assert 0 < stats["constructs"]["WHILE"] < 1 and 4 <= stats["demo_states"]["mean"] <= 20


def test_datamodule_batches_and_split(dataset):
    module = ProgramDataModule(str(dataset), batch_size=16, seed=1)
    module.setup("fit")
    sizes = {k: len(v) for k, v in module.datasets.items()}
    kept = sum(sizes.values())
    assert sizes["train"] == int(kept * 0.7) and sizes["val"] == int(kept * 0.15)
    batch = next(iter(module.train_dataloader()))
    assert batch["program"].shape == (16, 46) and batch["program"].dtype == torch.int64
    assert torch.equal(batch["program_mask"], batch["program"] != 50)
    assert (batch["program"][:, 0] == TOKENS.index("DEF")).all()
    assert batch["s_h"].shape == (16, 10, 16, 8, 8) and batch["s_h"].dtype == torch.float32
    assert batch["a_h"].shape == (16, 10, 19) and batch["a_h_len"].shape == (16, 10)
    steps = torch.arange(19)
    assert (batch["a_h"][steps.expand(16, 10, 19) >= batch["a_h_len"][..., None]] == 5).all()  # no-op padding
    other = ProgramDataModule(str(dataset), batch_size=16, seed=1)
    other.setup("fit")
    assert other.datasets["val"].ids == module.datasets["val"].ids  # the split is fixed by the seed


def test_datamodule_reads_lazily_in_worker_processes(dataset):
    module = ProgramDataModule(str(dataset), batch_size=32, num_workers=2)
    module.setup("fit")
    assert module.datasets["train"]._file is None  # nothing opened in the main process
    batches = list(module.val_dataloader())
    assert sum(len(b["program"]) for b in batches) == len(module.datasets["val"])
    assert module.datasets["val"]._file is None


def test_foreign_or_corrupt_folders_get_clear_errors(dataset, tmp_path):
    with pytest.raises(DatasetError, match="missing id.txt"), open_dataset(tmp_path):
        pass
    broken = tmp_path / "broken"
    broken.mkdir()
    (broken / "id.txt").write_text("no_0_prog_len_5_max_s_h_len_4\n")
    with h5py.File(broken / "data.hdf5", "w") as f:
        f.create_group("data_info")
    with pytest.raises(DatasetError, match="1 groups listed in id.txt are missing"), open_dataset(broken):
        pass
    with h5py.File(broken / "data.hdf5", "a") as f:
        g = f.create_group("no_0_prog_len_5_max_s_h_len_4")
        g.create_dataset("program", data=np.zeros(5, np.int8))
        g.create_dataset("s_h", data=np.zeros((10, 4, 8, 8, 16), np.float32))  # wrong dtype
        for field in ("a_h", "s_h_len", "a_h_len"):
            g.create_dataset(field, data=np.zeros(10, np.int16))
    with pytest.raises(DatasetError, match="'s_h' has dtype float32, expected bool"):
        ProgramDataModule(str(broken)).setup("fit")
    (broken / "data.hdf5").write_bytes(b"not hdf5")
    with pytest.raises(DatasetError, match="not a readable HDF5 file"), open_dataset(broken):
        pass


def copy_dataset(source, target):
    import shutil

    shutil.copytree(source, target)
    return target


def test_a_later_group_missing_a_field_is_a_dataset_error(dataset, tmp_path):
    broken = copy_dataset(dataset, tmp_path / "broken")
    last = (broken / "id.txt").read_text().split()[-1]
    with h5py.File(broken / "data.hdf5", "a") as f:
        del f[last]["s_h_len"]
    with pytest.raises(DatasetError, match=f"group '{last}': missing 's_h_len'"):
        statistics(broken)
    module = ProgramDataModule(str(broken), batch_size=512)
    module.setup("fit")  # only the first group is checked up front ...
    part = next(k for k, v in module.datasets.items() if last in v.ids)
    with pytest.raises(DatasetError, match=f"data.hdf5: group '{last}': missing 's_h_len'"):
        module.datasets[part][module.datasets[part].ids.index(last)]  # ... every group when it is read


def test_corrupted_bytes_are_a_dataset_error(dataset, tmp_path):
    broken = copy_dataset(dataset, tmp_path / "broken")
    data = bytearray((broken / "data.hdf5").read_bytes())
    start, stop = len(data) // 5, len(data) * 4 // 5
    data[start:stop] = np.random.default_rng(0).integers(0, 256, stop - start, dtype=np.uint8).tobytes()
    (broken / "data.hdf5").write_bytes(bytes(data))
    with pytest.raises(DatasetError, match=r"data\.hdf5: (corrupt HDF5 file|group '.*' cannot be read)"):
        statistics(broken)
    (broken / "id.txt").write_bytes(b"\xff\xfe\x00")
    with pytest.raises(DatasetError, match="id.txt: not a readable list of group names"):
        statistics(broken)


def test_an_existing_dataset_is_replaced_only_when_asked(tmp_path):
    out = write_dataset(tmp_path / "d", DatasetConfig(programs=3, seed=1, batch=64), progress=False)
    before = (out / "id.txt").read_text()
    with pytest.raises(DatasetExistsError, match="already holds a dataset .*--overwrite"):
        write_dataset(out, DatasetConfig(programs=4, seed=2, batch=64), progress=False)
    assert (out / "id.txt").read_text() == before
    write_dataset(out, DatasetConfig(programs=4, seed=2, batch=64), progress=False, overwrite=True)
    assert len((out / "id.txt").read_text().split()) == 4 and sorted(p.name for p in out.iterdir()) == [
        "data.hdf5", "id.txt"]  # fmt: skip


def test_disk_full_raises_one_os_error_and_keeps_the_old_dataset(tmp_path, monkeypatch):
    import errno

    import leaps.dataset as module

    out = write_dataset(tmp_path / "d", DatasetConfig(programs=3, seed=1, batch=64), progress=False)
    old = {name: (out / name).read_bytes() for name in ("data.hdf5", "id.txt")}

    class FullDisk:  # the raw file of the temporary data.hdf5, on a disk with 20 kB free
        def __init__(self, raw):
            self.raw, self.free = raw, 20_000

        def write(self, data):
            if len(data) > self.free:
                raise OSError(errno.ENOSPC, "No space left on device")
            self.free -= len(data)
            return self.raw.write(data)

        def __getattr__(self, name):
            return getattr(self.raw, name)

    original = module._GuardedFile.__init__
    monkeypatch.setattr(module._GuardedFile, "__init__", lambda self, raw: original(self, FullDisk(raw)))
    with pytest.raises(OSError, match="No space left on device") as caught:
        write_dataset(out, DatasetConfig(programs=40, seed=2, batch=64), progress=False, overwrite=True)
    assert caught.value.errno == errno.ENOSPC and caught.value.filename == str(out / "data.hdf5")
    assert {name: (out / name).read_bytes() for name in ("data.hdf5", "id.txt")} == old  # untouched
    assert sorted(p.name for p in out.iterdir()) == ["data.hdf5", "id.txt"]  # no temporary file left
