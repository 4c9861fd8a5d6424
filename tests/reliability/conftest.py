"""Fixtures of the reliability suite and the report printed at the end of the run.

Worker functions of the process tests live in ``tests/reliability/_workers.py`` and are run
in child processes started with the ``spawn`` method, which import them by module name: the
repository root is put on ``sys.path`` (as ``tests/s3/conftest.py`` does), so
``tests.reliability._workers`` imports in the parent and in every child.
"""

from __future__ import annotations

import sys
import uuid
from collections.abc import Callable
from pathlib import Path

import pytest

_ROOT = str(Path(__file__).resolve().parents[2])
if _ROOT not in sys.path:
    sys.path.insert(0, _ROOT)


# ---------------------------------------------------------------- S3 on moto's server (loopback only)
S3_KEY_ID = "AKIARELIABILITYTESTKEY"
S3_SECRET = "reliability-secret-0123456789abcdefSECRET"


@pytest.fixture
def s3_env(use_dummy_aws_credentials: Callable[[str, str], None]) -> None:
    """Dummy credentials and an AWS configuration isolated from the developer's own."""
    use_dummy_aws_credentials(S3_KEY_ID, S3_SECRET)


@pytest.fixture(scope="session")
def moto_url(moto_server: str) -> str:
    """moto's S3 server on 127.0.0.1 (the root conftest's), skipped without persidict-s3."""
    pytest.importorskip("persidict_s3")
    return moto_server


@pytest.fixture
def s3_url(moto_url: str, s3_env: None) -> str:
    """The moto server's URL with dummy credentials set (tests use fresh bucket names)."""
    return moto_url


@pytest.fixture
def bucket() -> str:
    return f"reliability-{uuid.uuid4().hex[:12]}"
