"""Every example of the seed documentation that uses these wrappers, run as written.

Each runs in a fresh temporary working directory. Two examples use absolute directories
(``/var/app/data``, ``/mnt/network/data``); a fixture maps those into the temporary directory
by wrapping ``FileDirDict.__init__``; the example code itself is unchanged.
"""

from __future__ import annotations

from pathlib import Path

import pytest

import persidict_core._file_dir_dict as file_dir_dict_module

# The seed imports from the facade; `nox -s tests_isolated` runs this folder without it.
pytest.importorskip("persidict", reason="the persidict facade distribution is not installed")


@pytest.fixture(autouse=True)
def in_tmp_cwd(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.chdir(tmp_path)
    return tmp_path


@pytest.fixture
def redirect_absolute_dirs(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Map the seed's absolute base directories into tmp_path (the test must not write to /var)."""
    original = file_dir_dict_module.FileDirDict.__init__

    def init(self: file_dir_dict_module.FileDirDict, base_dir: str = "__file_dir_dict__", *args: object,
             **kwargs: object) -> None:  # fmt: skip
        if str(base_dir).startswith(("/var/app", "/mnt/network")):
            base_dir = str(tmp_path / str(base_dir).lstrip("/"))
        original(self, base_dir, *args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(file_dir_dict_module.FileDirDict, "__init__", init)


def test_advanced_wrappers_write_once_dict(tmp_path: Path) -> None:
    from persidict import FileDirDict, WriteOnceDict

    store = WriteOnceDict(
        wrapped_dict=FileDirDict(append_only=True),
        p_consistency_checks=0.1,  # 10% random validation
    )
    store["k"] = 1
    store["k"] = 1
    assert store["k"] == 1
    assert (tmp_path / "__file_dir_dict__" / "k.pkl").is_file()


def test_advanced_wrappers_mutable_dict_cached(tmp_path: Path) -> None:
    from persidict import FileDirDict, LocalDict, MutableDictCached

    store = MutableDictCached(
        main_dict=FileDirDict(base_dir="./data"), data_cache=LocalDict(), etag_cache=LocalDict()
    )
    store["k"] = "v"
    assert store["k"] == "v"
    assert (tmp_path / "data" / "k.pkl").is_file()


def test_advanced_wrappers_append_only_dict_cached(tmp_path: Path) -> None:
    from persidict import AppendOnlyDictCached, FileDirDict, LocalDict

    store = AppendOnlyDictCached(
        main_dict=FileDirDict(base_dir="./data", append_only=True), data_cache=LocalDict()
    )
    store["k"] = "v"
    assert store["k"] == "v"


@pytest.mark.usefixtures("redirect_absolute_dirs")
def test_choosing_production_single_machine(tmp_path: Path) -> None:
    from persidict import FileDirDict, LocalDict, MutableDictCached

    store = MutableDictCached(
        main_dict=FileDirDict(base_dir="/var/app/data"), data_cache=LocalDict(), etag_cache=LocalDict()
    )
    store["k"] = 1
    assert (tmp_path / "var" / "app" / "data" / "k.pkl").is_file()


def test_choosing_append_only_workloads() -> None:
    from persidict import AppendOnlyDictCached, FileDirDict, LocalDict

    store = AppendOnlyDictCached(
        main_dict=FileDirDict(base_dir="./data", append_only=True), data_cache=LocalDict()
    )
    assert store.append_only is True


def test_choosing_content_addressed_storage() -> None:
    from persidict import FileDirDict, WriteOnceDict

    store = WriteOnceDict(wrapped_dict=FileDirDict(append_only=True), p_consistency_checks=0.05)
    assert store.p_consistency_checks == 0.05


@pytest.mark.usefixtures("redirect_absolute_dirs")
def test_caching_for_performance() -> None:
    from persidict import FileDirDict, LocalDict, MutableDictCached

    # Slow remote storage (e.g., network drive)
    remote = FileDirDict(base_dir="/mnt/network/data")

    # Fast local caches
    data_cache = LocalDict()
    etag_cache = LocalDict()

    # Cached access
    fast_store = MutableDictCached(main_dict=remote, data_cache=data_cache, etag_cache=etag_cache)

    remote["key"] = "value"  # the seed reads a key it assumes exists

    # First access: slow (reads from remote)
    value = fast_store["key"]

    # Subsequent accesses: fast (reads from cache)
    value = fast_store["key"]  # Much faster!
    assert value == "value"
    assert data_cache["key"] == "value"
