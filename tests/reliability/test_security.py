"""Scenario 6: hostile keys, planted symlinks, file modes, safe JSON decoding, credentials.

* No key names a path outside ``base_dir``: arbitrary text keys (hypothesis) are either refused
  (ValueError or TypeError) or stored in a file under ``base_dir``, never anywhere else.
* A symlink planted inside ``base_dir`` (to a directory or a file outside) is neither followed
  for writes nor listed as a key; clear() and the temp-file cleanup never reach through it.
* Files and directories are created with the process umask (022 and 077).
* JSON is decoded in jsonpickle's safe mode: a ``py/repr`` payload is never evaluated; the text
  format returns any payload as a plain string.
* S3 credentials never appear in a store's repr, config, pickle or error messages.
"""

from __future__ import annotations

import json
import os
import pickle
import stat
import sys
import tempfile
import warnings
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from persidict_core import BackendError, DeserializationError, FileDirDict
from tests.reliability import _report

HOSTILE_CHARS = "./\\~-_=()aZ09\x00:*?<>|\"' é\u202e\n"
HOSTILE_PIECES = st.sampled_from([*HOSTILE_CHARS, "..", "../", "/..", "~root", "C:\\", "\\\\?\\", "%2e%2e"])
hostile_text = st.one_of(
    st.text(),
    st.text(HOSTILE_CHARS, max_size=12),
    st.lists(HOSTILE_PIECES, max_size=8).map("".join),
)
hostile_key = st.one_of(
    hostile_text,
    st.lists(hostile_text, min_size=1, max_size=6).map(tuple),
    st.lists(st.sampled_from([".", "..", "a", "~", "-", "==", "()"]), min_size=1, max_size=6).map(tuple),
)


def tree(root: Path) -> set[str]:
    return {str(p.relative_to(root)) for p in root.rglob("*")}


@pytest.mark.parametrize("digest_len", [0, 4])
def test_no_key_names_a_path_outside_base_dir(digest_len: int) -> None:
    with tempfile.TemporaryDirectory() as outer_name:
        outer = Path(outer_name)
        base = outer / "inner" / "base"
        store = FileDirDict(base_dir=str(base), digest_len=digest_len, fsync=False)
        (outer / "sibling").mkdir()
        outside_before = tree(outer) - {p for p in tree(outer) if p.startswith("inner/base")}
        real_base = os.path.realpath(base)
        counts = {"tried": 0, "refused": 0, "stored": 0}

        @settings(max_examples=250, deadline=None, suppress_health_check=list(HealthCheck))
        @given(key=hostile_key)
        def one_key(key: Any) -> None:
            counts["tried"] += 1
            try:
                store[key] = "v"
            except (ValueError, TypeError):
                counts["refused"] += 1
                return
            counts["stored"] += 1
            files = [p for p in base.rglob("*") if p.is_file()]
            assert len(files) == 1, files
            assert os.path.realpath(files[0]).startswith(real_base + os.sep)
            assert store[key] == "v" and len(store) == 1
            store.clear()

        one_key()
        outside_after = tree(outer) - {p for p in tree(outer) if p.startswith("inner/base")}
        assert outside_after == outside_before
        _report.add("hostile_keys", counts["tried"])
        assert counts["refused"] > 0 and counts["stored"] > 0, counts


@pytest.mark.skipif(sys.platform == "win32", reason="symlinks need privileges on Windows")
def test_planted_symlinks_are_not_followed(tmp_path: Path) -> None:
    outside = tmp_path / "outside"
    outside.mkdir()
    secret = outside / "secret.pkl"
    secret.write_bytes(pickle.dumps("secret"))
    (outside / "other.pkl").write_bytes(pickle.dumps("other"))
    (outside / ".#x.pkl.0123456789ab.tmp").write_bytes(b"someone else's temporary file")
    os.utime(outside / ".#x.pkl.0123456789ab.tmp", (0, 0))
    outside_before = {p.name: p.read_bytes() for p in outside.iterdir()}

    base = tmp_path / "base"
    store = FileDirDict(base_dir=str(base))
    store["real"] = 1
    (base / "link").symlink_to(outside, target_is_directory=True)
    (base / "file.pkl").symlink_to(secret)
    (base / "sub").mkdir()
    (base / "sub" / "deeper").symlink_to(outside, target_is_directory=True)
    _report.add("bad_inputs", 3)

    assert set(store) == {("real",)}
    assert len(store) == 1
    assert "file" not in store and ("link", "secret") not in store
    for key in ("file", ("link", "secret"), ("sub", "deeper", "other")):
        with pytest.raises(KeyError):
            store[key]
    for key in (("link", "new"), ("sub", "deeper", "new"), ("link", "a", "b")):
        with pytest.raises(BackendError, match="symlink"):
            store[key] = "planted"
    with pytest.raises(BackendError):
        store.get_subdict("link")
    assert store.discard(("link", "secret")) is False

    store["file"] = "mine"  # replaces the link itself, never writes through it
    assert store["file"] == "mine"
    assert not (base / "file.pkl").is_symlink()
    store.remove_stale_temp_files(min_age_seconds=0)
    store.clear()
    assert len(store) == 0
    assert {p.name: p.read_bytes() for p in outside.iterdir()} == outside_before
    assert (base / "link").is_symlink()  # the planted link is left alone, not deleted through


@pytest.mark.skipif(sys.platform == "win32", reason="POSIX permissions")
@pytest.mark.parametrize("umask", [0o022, 0o077, 0o002])
def test_files_follow_the_process_umask(tmp_path: Path, umask: int) -> None:
    old = os.umask(umask)
    try:
        store = FileDirDict(base_dir=str(tmp_path / "base"))
        store[("a", "b", "c")] = 1
        store["top"] = 2
        store.get_subdict("sub")["x"] = 3
    finally:
        os.umask(old)
    for path in (tmp_path / "base" / "a" / "b" / "c.pkl", tmp_path / "base" / "top.pkl"):
        assert stat.S_IMODE(path.stat().st_mode) == 0o666 & ~umask, oct(path.stat().st_mode)
    for path in (tmp_path / "base" / "a", tmp_path / "base" / "a" / "b", tmp_path / "base" / "sub"):
        assert stat.S_IMODE(path.stat().st_mode) == 0o777 & ~umask, oct(path.stat().st_mode)


def _payloads(marker: Path) -> dict[str, str]:
    # jsonpickle splits "module/expression" at '/': the marker's path is spelled without one.
    spelled = repr(str(marker).replace("/", "|")) + ".replace(chr(124), chr(47))"
    command = f"__import__('pathlib').Path({spelled}).write_text('pwned')"
    return {
        "py/repr": json.dumps({"py/repr": f"builtins/{command}"}),
        "nested py/repr": json.dumps({"a": [{"py/repr": f"builtins/exec({command!r})"}]}),
    }


def test_the_json_payloads_do_execute_when_decoded_unsafely(tmp_path: Path) -> None:
    """Control: the payloads below are real exploits, so their test can fail."""
    jsonpickle = pytest.importorskip("jsonpickle")
    marker = tmp_path / "marker"
    for text in _payloads(marker).values():
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", DeprecationWarning)
            jsonpickle.decode(text, safe=False)
        assert marker.read_text() == "pwned"
        marker.unlink()


def test_json_is_decoded_in_safe_mode(tmp_path: Path) -> None:
    marker = tmp_path / "marker"
    store = FileDirDict(base_dir=str(tmp_path / "base"), serialization_format="json")
    store["honest"] = {"x": [1, 2]}
    for name, text in _payloads(marker).items():
        key = name.replace(" ", "_").replace("/", "_")
        (tmp_path / "base" / f"{key}.json").write_text(text)
        _report.add("bad_inputs")
        try:
            store[key]
        except DeserializationError:
            pass
        assert not marker.exists(), f"{name} was evaluated"
        try:
            list(store.values())
        except DeserializationError:
            pass
        assert not marker.exists(), f"{name} was evaluated while iterating"
    assert store["honest"] == {"x": [1, 2]}


def test_text_format_never_executes(tmp_path: Path) -> None:
    marker = tmp_path / "marker"
    store = FileDirDict(base_dir=str(tmp_path / "base"), serialization_format="txt")
    payloads = {**_payloads(marker), "pickle": pickle.dumps(os.getcwd).decode("latin-1")}
    for name, text in payloads.items():
        key = name.replace(" ", "_").replace("/", "_")
        (tmp_path / "base" / f"{key}.txt").write_text(text, encoding="utf-8")
        assert store[key] == text
    assert dict(store.items()) == {(k.replace(" ", "_").replace("/", "_"),): v for k, v in payloads.items()}
    assert not marker.exists()


# ---------------------------------------------------------------- credentials (S3)
def test_credentials_never_leak(s3_url: str, bucket: str, tmp_path: Path) -> None:
    persidict_s3 = pytest.importorskip("persidict_s3")
    from tests.reliability.conftest import S3_KEY_ID, S3_SECRET

    secrets = (S3_KEY_ID, S3_SECRET)
    basic = persidict_s3.BasicS3Dict(bucket_name=bucket, endpoint_url=s3_url, root_prefix="p")
    cached = persidict_s3.S3Dict(
        bucket_name=bucket, endpoint_url=s3_url, root_prefix="q", base_dir=str(tmp_path)
    )
    texts: list[str] = []
    for store in (basic, cached):
        store["k"] = "v"
        texts += [repr(store), str(store.get_params()), store.config.model_dump_json()]
        texts.append(pickle.dumps(store).decode("latin-1"))
        with pytest.raises(KeyError) as missing:
            store["absent"]
        texts.append(str(missing.value))
    with pytest.raises(BackendError) as failed:
        persidict_s3.BasicS3Dict(
            bucket_name=bucket,
            endpoint_url="http://127.0.0.1:9",  # discard port: nothing listens
            client_config={"retries": {"max_attempts": 1}, "connect_timeout": 1},
        )
    error: BaseException | None = failed.value
    while error is not None:
        texts += [str(error), repr(error)]
        error = error.__cause__ or error.__context__
    cache_files = [p.read_bytes().decode("latin-1") for p in tmp_path.rglob("*") if p.is_file()]
    leaks = [t for t in texts + cache_files for s in secrets if s in t]
    _report.add("violations", len(leaks))
    assert not leaks
