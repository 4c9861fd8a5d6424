"""Scenario 6: hostile keys, planted symlinks, file modes, safe JSON decoding, credentials.

* No key names a path outside ``base_dir``: arbitrary text keys (hypothesis) are either refused
  (ValueError or TypeError) or stored in a file under ``base_dir``, never anywhere else.
* A symlink planted inside ``base_dir`` (to a directory or a file outside) is neither followed
  for writes nor listed as a key; clear() and the temp-file cleanup never reach through it.
* Files and directories are created with the process umask (022 and 077).
* JSON is data only: real exploit documents (``os.system`` through ``py/reduce``, classes and
  functions of a module whose import writes a marker, ``py/mod``, ``py/repr``, payloads nested
  in lists, dict keys, numpy arrays and pandas frames), planted as files and as S3 objects
  (moto in-process and over HTTP), are refused with a DeserializationError naming the key and
  what the document names, and nothing is imported or run; writes follow the same rules. The
  text format returns any payload as a plain string.
* S3 credentials never appear in a store's repr, config, pickle or error messages.
"""

from __future__ import annotations

import base64
import contextlib
import json
import os
import pickle
import shlex
import stat
import sys
import tempfile
import uuid
import warnings
import zlib
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from persidict_core import BackendError, DeserializationError, FileDirDict, SerializationError
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


EVIL_MODULE_SOURCE = """
import pathlib

MARKER = pathlib.Path({marker!r})
MARKER.write_text("imported")


def run(*args, **kwargs):
    MARKER.write_text("called")


class Thing:
    def __init__(self, *args):
        MARKER.write_text("init")

    def __setstate__(self, state):
        MARKER.write_text("setstate")
"""


def _frame_document(columns: dict[str, list[Any]]) -> dict[str, Any]:
    """The jsonpickle document of a DataFrame, as jsonpickle's pandas handler writes it."""
    import jsonpickle
    import jsonpickle.ext.pandas
    import pandas as pd

    jsonpickle.ext.pandas.register_handlers()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        document: dict[str, Any] = json.loads(jsonpickle.encode(pd.DataFrame(columns), keys=True))
    return document


class Exploits:
    """Real jsonpickle exploit documents; each one creates ``marker`` when it is decoded naively.

    Some call ``os.system``; the others name a module of ours (``evil``) whose mere import, or
    whose function or class, writes the marker: decoding must import nothing and call nothing.
    """

    def __init__(self, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
        self.marker = tmp_path / "marker"
        self.evil = f"persidict_evil_{uuid.uuid4().hex[:8]}"
        module_dir = tmp_path / "modules"
        module_dir.mkdir()
        (module_dir / f"{self.evil}.py").write_text(EVIL_MODULE_SOURCE.format(marker=str(self.marker)))
        monkeypatch.syspath_prepend(str(module_dir))

    def documents(self) -> dict[str, tuple[str, str]]:
        """Return ``{name: (document, what the error must name)}``."""
        evil, marker = self.evil, str(self.marker)
        system = {"py/reduce": [{"py/function": "os.system"}, {"py/tuple": [f"touch {shlex.quote(marker)}"]}]}
        evil_type = {"py/type": f"{evil}.Thing"}
        call = {"py/reduce": [{"py/function": "subprocess.call"}, {"py/tuple": [["touch", marker]]}]}
        frame = _frame_document({"a": [1, 2]})
        frame_with_bad_index = {**frame, "meta": {**frame["meta"], "index": json.dumps([system])}}
        cells = _frame_document({"a": [[1], [2]]})  # list cells: each one a nested document
        frame_with_bad_cell = {**cells, "values": json.dumps({"a": [json.dumps(system), "[2]"]})}
        compressed = base64.b64encode(zlib.compress(json.dumps([system]).encode())).decode()
        documents: dict[str, tuple[Any, str]] = {
            "reduce_os_system": (system, "os.system"),
            "reduce_subprocess": (call, "subprocess.call"),
            "reduce_evil_class": ({"py/reduce": [{"py/type": f"{evil}.Thing"}, {"py/tuple": []}]}, evil),
            "reduce_evil_function": ({"py/reduce": [{"py/function": f"{evil}.run"}, {"py/tuple": []}]}, evil),
            "newobj_evil_class": ({"py/reduce": ["py/newobj", {"py/tuple": [evil_type]}]}, evil),
            "object_and_state": ({"py/object": f"{evil}.Thing", "py/state": {"x": 1}}, evil),
            "type": ({"py/type": f"{evil}.Thing"}, evil),
            "function": ({"py/function": f"{evil}.run"}, evil),
            "module": ({"py/mod": f"{evil}/{evil}.run"}, "py/mod"),
            "repr": ({"py/repr": f"{evil}/{evil}.run"}, "py/repr"),
            "nested_in_lists_and_dicts": ({"a": [1, {"b": [system]}]}, "os.system"),
            "in_a_dict_key": ({"json://" + json.dumps(system): 1}, "os.system"),
            "in_a_tuple": ({"py/tuple": [1, {"py/object": f"{evil}.Thing"}]}, evil),
            "in_a_numpy_array": (
                {"py/object": "numpy.ndarray", "dtype": "object", "values": [system]},
                "os.system",
            ),
            "in_a_pandas_frame_index": (frame_with_bad_index, "os.system"),
            "in_a_pandas_frame_cell": (frame_with_bad_cell, "os.system"),
            "in_a_compressed_pandas_index": (
                {"py/object": "pandas.Index", "values": compressed, "txt": False, "comp": True, "meta": {}},
                "os.system",
            ),
        }
        texts = {name: (json.dumps(doc), expected) for name, (doc, expected) in documents.items()}
        # The same tags spelled with JSON escapes ("\u0070y/" is "py/" once parsed): a reader
        # that looks for tags in the text rather than the parsed document must not miss them.
        texts["escaped_tags"] = (json.dumps(system).replace('"py/', '"\\u0070y/'), "os.system")
        return texts

    def forget_evil_module(self) -> None:
        sys.modules.pop(self.evil, None)

    def assert_nothing_ran(self, name: str) -> None:
        assert not self.marker.exists(), f"{name}: the payload ran ({self.marker.read_text()})"
        assert self.evil not in sys.modules, f"{name}: the payload's module was imported"


@pytest.fixture
def exploits(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Exploits:
    pytest.importorskip("numpy")
    pytest.importorskip("pandas")
    return Exploits(tmp_path, monkeypatch)


def test_the_exploits_run_when_decoded_naively(exploits: Exploits) -> None:
    """Control: plain jsonpickle (even in its safe mode) runs every payload below."""
    import jsonpickle
    import jsonpickle.ext.numpy
    import jsonpickle.ext.pandas

    jsonpickle.ext.numpy.register_handlers()
    jsonpickle.ext.pandas.register_handlers()  # jsonpickle's own (ours are put back on use)
    for name, (text, _) in exploits.documents().items():
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            try:
                jsonpickle.decode(text, keys=True, safe=True)
            except Exception:  # noqa: BLE001, S110 - the side effect happens before any error
                pass
        assert exploits.marker.exists(), f"{name} is not a working exploit"
        exploits.marker.unlink()
        exploits.forget_evil_module()


def _assert_refused(store: Any, name: str, expected: str, exploits: Exploits) -> None:
    with pytest.raises(DeserializationError) as info:
        store[name]
    message = str(info.value)
    assert repr(name) in message and expected in message, message
    exploits.assert_nothing_ran(name)


def test_planted_json_exploits_never_run_in_a_file_store(tmp_path: Path, exploits: Exploits) -> None:
    base = tmp_path / "base"
    store = FileDirDict(base_dir=str(base), serialization_format="json")
    store["honest"] = {"x": [1, (2, 3)]}
    documents = exploits.documents()
    for name, (text, _) in documents.items():
        (base / f"{name}.json").write_text(text)
    _report.add("exploit_payloads", len(documents))
    for name, (_, expected) in documents.items():
        _assert_refused(store, name, expected, exploits)
        with pytest.raises(DeserializationError):
            store.get_item_if_etag_changed(name, None)
        exploits.assert_nothing_ran(name)
    with pytest.raises(DeserializationError):
        list(store.values())
    same_keys = {**dict.fromkeys(documents, 0), "honest": {"x": [1, (2, 3)]}}
    with pytest.raises(DeserializationError):
        store == same_keys  # noqa: B015 - equality reads the values, and says when one is corrupt
    exploits.assert_nothing_ran("iteration")
    assert store["honest"] == {"x": [1, (2, 3)]}
    assert len(store) == len(documents) + 1


def _plant_in_s3(store: Any, url: str | None, documents: dict[str, tuple[str, str]]) -> None:
    import boto3

    client = boto3.client("s3", endpoint_url=url, region_name="us-east-1")
    config = store.config
    for name, (text, _) in documents.items():
        client.put_object(Bucket=config.bucket_name, Key=f"{config.root_prefix}{name}.json", Body=text)


@pytest.mark.parametrize("transport", ["in-process", "http"])
def test_planted_json_exploits_never_run_in_s3(
    transport: str, exploits: Exploits, request: pytest.FixtureRequest
) -> None:
    persidict_s3 = pytest.importorskip("persidict_s3")
    moto = pytest.importorskip("moto")
    bucket = f"exploits-{uuid.uuid4().hex[:12]}"
    with contextlib.ExitStack() as stack:
        if transport == "http":
            url: str | None = request.getfixturevalue("s3_url")
        else:
            request.getfixturevalue("s3_env")
            stack.enter_context(moto.mock_aws())
            url = None
        store = persidict_s3.BasicS3Dict(
            bucket_name=bucket, root_prefix="planted", endpoint_url=url, serialization_format="json"
        )
        store["honest"] = [1, {"y": 2}]
        documents = exploits.documents()
        _plant_in_s3(store, url, documents)
        _report.add("exploit_payloads", len(documents))
        assert len(store) == len(documents) + 1
        for name, (_, expected) in documents.items():
            _assert_refused(store, name, expected, exploits)
        with pytest.raises(DeserializationError):
            dict(store.items())
        exploits.assert_nothing_ran("iteration")
        assert store["honest"] == [1, {"y": 2}]


class Unregistered:
    """A module-level class nobody registered for json."""

    def __init__(self, n: int) -> None:
        self.n = n


def test_json_writes_follow_the_reading_rules(tmp_path: Path) -> None:
    store = FileDirDict(base_dir=str(tmp_path), serialization_format="json")
    store["k"] = "old"
    for value in (Unregistered(1), [1, {"a": Unregistered(2)}], {"f": os.system}, os.system):
        with pytest.raises(SerializationError, match="register_json_class|pkl") as info:
            store["k"] = value
        assert "'k'" in str(info.value)
        _report.add("bad_inputs")
    assert store["k"] == "old"
    assert [p.name for p in tmp_path.iterdir()] == ["k.json"]


def test_text_format_never_executes(tmp_path: Path, exploits: Exploits) -> None:
    store = FileDirDict(base_dir=str(tmp_path / "base"), serialization_format="txt")
    payloads = {name: text for name, (text, _) in exploits.documents().items()}
    payloads["pickle"] = pickle.dumps(os.getcwd).decode("latin-1")
    for name, text in payloads.items():
        (tmp_path / "base" / f"{name}.txt").write_text(text, encoding="utf-8")
        assert store[name] == text
    assert dict(store.items()) == {(name,): text for name, text in payloads.items()}
    exploits.assert_nothing_ran("txt")


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
