"""Fixtures of the command-line tests: run ``python -m persidict`` as a user would.

Each command runs in a child process with dummy AWS credentials and an isolated AWS
configuration, against real folders and moto's S3 server over HTTP on 127.0.0.1.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import urllib.request
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

_ROOT = str(Path(__file__).resolve().parents[2])
if _ROOT not in sys.path:
    sys.path.insert(0, _ROOT)


@dataclass
class Result:
    """What a command printed and its exit status."""

    code: int
    out: str
    err: str
    stdout: bytes

    def json(self) -> Any:
        return json.loads(self.out)


@pytest.fixture
def cli_env(tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    """The environment of the child processes: dummy credentials, no AWS setup of the user."""
    empty = tmp_path_factory.mktemp("aws-config")
    env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
    env.update(
        AWS_ACCESS_KEY_ID="AKIAPERSIDICTCLITEST",
        AWS_SECRET_ACCESS_KEY="persidict-cli-test-secret",
        AWS_DEFAULT_REGION="us-east-1",
        AWS_SHARED_CREDENTIALS_FILE=str(empty / "credentials"),
        AWS_CONFIG_FILE=str(empty / "config"),
        AWS_EC2_METADATA_DISABLED="true",
    )
    return env


@pytest.fixture
def run(cli_env: dict[str, str], tmp_path: Path) -> Callable[..., Result]:
    """Run ``persidict ARGS...`` in a child process (cwd: the test's tmp_path)."""

    def call(*args: str, input: bytes | None = None, timeout: float = 240) -> Result:  # noqa: A002
        completed = subprocess.run(
            [sys.executable, "-m", "persidict", *args],
            input=input,
            capture_output=True,
            env=cli_env,
            cwd=tmp_path,
            timeout=timeout,
        )
        return Result(
            completed.returncode,
            completed.stdout.decode("utf-8", "replace"),
            completed.stderr.decode("utf-8", "replace"),
            completed.stdout,
        )

    return call


@pytest.fixture
def s3_endpoint(moto_server: str) -> Iterator[str]:
    """moto's server URL; moto's state is reset after the test."""
    yield moto_server
    request = urllib.request.Request(f"{moto_server}/moto-api/reset", method="POST")
    with urllib.request.urlopen(request, timeout=10):
        pass


@pytest.fixture
def s3_url(s3_endpoint: str) -> Callable[..., str]:
    """Return ``s3://<fresh bucket>/<prefix>?endpoint_url=<moto>`` (extra query appended)."""
    bucket = f"persidict-cli-{uuid.uuid4().hex[:12]}"

    def make(prefix: str = "store", query: str = "", endpoint: str | None = None) -> str:
        url = f"s3://{bucket}/{prefix}?endpoint_url={endpoint or s3_endpoint}"
        return url + (f"&{query}" if query else "")

    return make


@pytest.fixture
def aws_env(cli_env: dict[str, str], monkeypatch: pytest.MonkeyPatch) -> dict[str, str]:
    """The same dummy credentials in this process (for checks made with the library)."""
    for name in [n for n in os.environ if n.startswith("AWS_")]:
        monkeypatch.delenv(name)
    for name, value in cli_env.items():
        if name.startswith("AWS_"):
            monkeypatch.setenv(name, value)
    return cli_env
