"""Every command of the ``persidict`` console script, on folders and on S3 (moto's HTTP server)."""

from __future__ import annotations

import json
import pickle
from collections.abc import Callable
from pathlib import Path

import pytest

from persidict_core import FileDirDict, open_store
from tests.cli.conftest import Result

Run = Callable[..., Result]


@pytest.fixture(params=["file", "s3"])
def url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """A store URL of each backend (the S3 one on a fresh bucket of moto's server)."""
    if request.param == "file":
        return str(tmp_path / "store")
    make: Callable[..., str] = request.getfixturevalue("s3_url")
    request.getfixturevalue("aws_env")
    return make()


def _lines(result: Result) -> list[str]:
    return result.out.splitlines()


def _ok(result: Result) -> Result:
    assert result.code == 0, (result.code, result.out, result.err)
    return result


def test_put_get_ls_tree_du_info(run: Run, url: str, tmp_path: Path) -> None:
    _ok(run("put", url, "users/alice", '{"name": "Alice", "score": 95}'))
    _ok(run("put", url, '["users", "bob"]', "plain words"))
    _ok(run("put", url, "top", "42"))
    _ok(run("put", url, "deep/a/b/c", "[1, 2]", "--text"))

    assert _lines(_ok(run("ls", url))) == ["deep/a/b/c", "top", "users/alice", "users/bob"]
    assert _lines(_ok(run("ls", url, "users"))) == ["users/alice", "users/bob"]
    assert _ok(run("ls", url, "--json")).json() == {
        "keys": [{"key": "deep/a/b/c"}, {"key": "top"}, {"key": "users/alice"}, {"key": "users/bob"}]
    }
    store = open_store(url + ("&cache=none" if url.startswith("s3://") else ""))
    sizes = {"/".join(key): len(store.read_bytes(key)) for key in store.keys()}
    long_json = _ok(run("ls", url, "--long", "--json")).json()["keys"]
    assert [entry["key"] for entry in long_json] == sorted(sizes)
    for entry in long_json:
        assert entry["size"] == sizes[entry["key"]]
        assert entry["etag"] == store.etag(entry["key"].split("/"))
        assert abs(entry["timestamp"] - store.timestamp(entry["key"].split("/"))) < 1e-6
    long_lines = _lines(_ok(run("ls", url, "-l")))
    assert len(long_lines) == 4
    size, when, etag, key = long_lines[2].split()
    assert (int(size), etag, key) == (sizes["users/alice"], store.etag(["users", "alice"]), "users/alice")
    assert when.endswith("Z") and when[4] == "-"

    assert _lines(_ok(run("tree", url)))[1:] == [
        "├── deep/",
        "│   └── a/",
        "│       └── b/",
        "│           └── c",
        "├── top",
        "└── users/",
        "    ├── alice",
        "    └── bob",
        "4 keys",
    ]
    du = _ok(run("du", url, "--json")).json()
    assert du == {
        "prefixes": [
            {"prefix": "", "keys": 1, "bytes": sizes["top"]},
            {"prefix": "deep", "keys": 1, "bytes": sizes["deep/a/b/c"]},
            {"prefix": "users", "keys": 2, "bytes": sizes["users/alice"] + sizes["users/bob"]},
        ],
        "total": {"keys": 4, "bytes": sum(sizes.values())},
    }
    deeper = _ok(run("du", url, "--depth", "2", "--json")).json()["prefixes"]
    assert [row["prefix"] for row in deeper] == ["", "deep/a", "users"]
    assert _lines(_ok(run("du", url)))[-1].split() == ["4", str(sum(sizes.values())), "(total)"]

    assert _ok(run("get", url, "users/alice")).out == "{'name': 'Alice', 'score': 95}\n"
    assert _ok(run("get", url, "users/bob")).out == "'plain words'\n"
    assert _ok(run("get", url, "deep/a/b/c")).out == "'[1, 2]'\n"
    assert _ok(run("get", url, "top", "--json")).json() == {
        "key": "top",
        "format": "pkl",
        "value": 42,
        "repr": "42",
    }
    raw = _ok(run("get", url, "users/alice", "--raw")).stdout
    assert pickle.loads(raw) == {"name": "Alice", "score": 95}
    assert raw == store.read_bytes(["users", "alice"])

    info = _ok(run("info", url)).json()
    assert info == store.config.model_dump(mode="json")
    saved = tmp_path / "config.json"
    saved.write_text(json.dumps(info))
    assert _lines(_ok(run("ls", f"@{saved}"))) == sorted(sizes)


def test_json_and_text_formats_print_text(run: Run, url: str) -> None:
    json_url = url + ("&" if "?" in url else "?") + "serialization_format=json"
    _ok(run("put", json_url, "doc", '{"a": [1, 2], "b": "x"}'))
    assert json.loads(_ok(run("get", json_url, "doc")).out) == {"a": [1, 2], "b": "x"}
    assert _ok(run("get", json_url, "doc", "--json")).json()["value"] == {"a": [1, 2], "b": "x"}
    text_url = url + ("&" if "?" in url else "?") + "serialization_format=txt"
    _ok(run("put", text_url, "note", '{"not": "parsed"}'))
    assert _ok(run("get", text_url, "note")).out == '{"not": "parsed"}\n'


def test_put_from_a_file_and_stdin(run: Run, url: str, tmp_path: Path) -> None:
    value = {"numbers": list(range(5)), "nested": {"ok": True}}
    source = tmp_path / "value.pkl"
    source.write_bytes(pickle.dumps(value))
    _ok(run("put", url, "from/file", "--file", str(source)))
    _ok(run("put", url, "from/stdin", "--file", "-", input=pickle.dumps([1, 2, 3])))
    assert _ok(run("get", url, "from/file", "--json")).json()["value"] == value
    assert _ok(run("get", url, "from/stdin", "--json")).json()["value"] == [1, 2, 3]
    garbage = tmp_path / "garbage.bin"
    garbage.write_bytes(b"not a pickle")
    bad = run("put", url, "x", "--file", str(garbage))
    assert bad.code == 2 and "--file does not hold a value" in bad.err
    assert _lines(_ok(run("ls", url))) == ["from/file", "from/stdin"]
    assert run("put", url, "x").code == 2  # neither VALUE nor --file


def test_rm_keys_and_prefix(run: Run, url: str) -> None:
    for key in ("a/1", "a/2", "a/3", "b/1", "c"):
        _ok(run("put", url, key, "1"))
    assert _ok(run("rm", url, "c", "b/1", "--json")).json() == {"deleted": 2, "missing": []}
    missing = run("rm", url, "a/1", "nope")
    assert missing.code == 1 and missing.err.strip() == "persidict: no such key: nope"
    assert missing.out.strip() == "deleted 1 keys"
    refused = run("rm", url, "--prefix", "a")  # stdin is not a terminal: no prompt, no deletion
    assert refused.code == 2 and "without --yes" in refused.err
    assert _lines(_ok(run("ls", url))) == ["a/2", "a/3"]
    assert _ok(run("rm", url, "--prefix", "a", "--yes")).out.strip() == "deleted 2 keys under a/"
    assert _ok(run("ls", url)).out == ""
    assert run("rm", url).code == 2


def test_verify_finds_planted_corrupt_values(run: Run, tmp_path: Path) -> None:
    folder = tmp_path / "store"
    store = FileDirDict(folder, fsync=False)
    for i in range(30):
        store[f"k{i:02d}"] = {"i": i, "payload": "x" * 100}
    store["sub", "deep"] = [1, 2, 3]
    assert _ok(run("verify", str(folder))).out.strip() == "checked 31 keys: 0 unreadable"
    (folder / "k03.pkl").write_bytes(b"garbage, not a pickle")
    truncated = (folder / "k17.pkl").read_bytes()[:10]
    (folder / "k17.pkl").write_bytes(truncated)
    (folder / "sub" / "deep.pkl").write_bytes(b"")
    (folder / "README.txt").write_text("a foreign file is no key: ignored")
    result = run("verify", str(folder), "--workers", "4")
    assert result.code == 1
    lines = _lines(result)
    assert [line.split(":")[0] for line in lines[:-1]] == [
        "unreadable k03",
        "unreadable k17",
        "unreadable sub/deep",
    ]
    assert all("DeserializationError" in line for line in lines[:-1])
    assert lines[-1] == "checked 31 keys: 3 unreadable"
    document = run("verify", str(folder), "--json").json()
    assert document["checked"] == 31
    assert [item["key"] for item in document["unreadable"]] == ["k03", "k17", "sub/deep"]


def test_verify_on_s3_finds_a_foreign_object(
    run: Run, s3_url: Callable[..., str], s3_endpoint: str, aws_env: dict[str, str]
) -> None:
    import boto3

    url = s3_url("verified")
    for i in range(5):
        _ok(run("put", url, f"k{i}", str(i)))
    bucket = url.split("/")[2]
    client = boto3.client("s3", endpoint_url=s3_endpoint, region_name="us-east-1")
    client.put_object(Bucket=bucket, Key="verified/k2.pkl", Body=b"\x80\x05truncated")
    result = run("verify", url)
    assert result.code == 1
    assert _lines(result)[0].startswith("unreadable k2: DeserializationError")
    assert _lines(result)[-1] == "checked 5 keys: 1 unreadable"


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["ls", "ftp://host/x"], "Unknown URL scheme 'ftp'"),
        (["ls", "{tmp}?digest_lenn=8"], "did you mean 'digest_len'?"),
        (["ls", "{tmp}?serialization_format=json&apend_only=true"], "did you mean 'append_only'?"),
        (["ls", "{tmp}?digest_len=eight"], "digest_len: Input should be a valid integer"),
        (["ls", "{tmp}?digest_len=1&digest_len=2"], "given twice"),
        (["ls", "memory://name"], "memory:// URLs take no name"),
        (["ls", "s3:///prefix"], "names a bucket"),
        (["ls", "s3://bucket?cache=sometimes"], "cache='sometimes'"),
        (["ls", "s3://bucket?cach=none"], "did you mean 'cache'?"),
        (["ls", "@{tmp}/no-such-config.json"], "Cannot read the store config file"),
        (["get", "{tmp}", "a/../b"], "invalid key 'a/../b'"),
        (["get", "{tmp}", '["a", 1]'], "a JSON key must be a list of strings"),
        (["cp", "{tmp}", "memory://", "--workers", "0"], "--workers"),
        (["frobnicate"], "No such command 'frobnicate'"),
        (["ls"], "Missing argument 'URL'"),
    ],
)
def test_usage_errors_are_one_line_and_exit_2(
    run: Run, tmp_path: Path, args: list[str], message: str
) -> None:
    (tmp_path / "existing").mkdir()
    result = run(*[arg.replace("{tmp}", str(tmp_path / "existing")) for arg in args])
    assert result.code == 2, result
    assert result.out == ""
    assert len(result.err.splitlines()) == 1, result.err
    assert result.err.startswith("persidict: error: ")
    assert message in result.err
    assert "Traceback" not in result.err


def test_failures_exit_1_and_debug_shows_the_traceback(run: Run, tmp_path: Path) -> None:
    missing_dir = run("ls", str(tmp_path / "absent"))
    assert missing_dir.code == 1 and len(missing_dir.err.splitlines()) == 1
    assert not (tmp_path / "absent").exists()  # a read-only command creates nothing
    FileDirDict(tmp_path / "s", fsync=False)["k"] = 1
    missing_key = run("get", str(tmp_path / "s"), "nope")
    assert (missing_key.code, missing_key.err) == (1, "persidict: error: no such key: nope\n")
    debug = run("--debug", "get", str(tmp_path / "s"), "nope")
    assert debug.code == 1 and "Traceback" in debug.err and "KeyError" in debug.err
    append_only = str(tmp_path / "s") + "?append_only=true"
    refused = run("put", append_only, "k", "2")
    assert refused.code == 1 and "append-only" in refused.err and len(refused.err.splitlines()) == 1


def test_version_and_help(run: Run) -> None:
    assert _ok(run("--version")).out.startswith("persidict, version ")
    assert "cp" in _ok(run("--help")).out


def test_the_installed_console_script_runs(tmp_path: Path, cli_env: dict[str, str]) -> None:
    import os
    import shutil
    import subprocess
    import sys

    script = shutil.which("persidict", path=os.path.dirname(sys.executable))
    assert script is not None, "the persidict console script is not installed next to this Python"
    folder = str(tmp_path / "store")
    subprocess.run([script, "put", folder, "a/b", '{"x": 1}'], check=True, env=cli_env, timeout=120)
    shown = subprocess.run([script, "ls", folder], capture_output=True, text=True, env=cli_env, timeout=120)
    assert (shown.returncode, shown.stdout) == (0, "a/b\n")


def test_s3_is_read_without_a_local_cache_unless_asked(
    run: Run, s3_url: Callable[..., str], tmp_path: Path, aws_env: dict[str, str]
) -> None:
    url = s3_url("nocache")
    _ok(run("put", url, "k", "1"))
    assert _ok(run("info", url)).json()["kind"] == "basic_s3_dict"
    assert not (tmp_path / "__s3_dict__").exists()  # no cache folder left in the current directory
    cached = _ok(run("info", url + f"&cache=local&base_dir={tmp_path / 'cache'}")).json()
    assert cached["kind"] == "s3_dict" and cached["base_dir"] == str(tmp_path / "cache")
    assert _ok(run("get", url + "&cache=local", "k")).out == "1\n"
    assert (tmp_path / "__s3_dict__").is_dir()  # the default cache folder, as the library makes it
