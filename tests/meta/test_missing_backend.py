"""Without persidict-s3, touching an S3 name says which distribution to install.

Run by ``nox -s missing_backend`` (the facade and every package but persidict-s3). Wherever
persidict-s3 is installed, these tests are skipped.
"""

from __future__ import annotations

import importlib.util

import pytest

import persidict

pytestmark = pytest.mark.skipif(
    importlib.util.find_spec("persidict_s3") is not None,
    reason="persidict-s3 is installed here; `nox -s missing_backend` runs these tests without it",
)


@pytest.mark.parametrize("name", ["S3Dict", "BasicS3Dict", "S3Dict_FileDirCached", "S3DictConfig"])
def test_s3_names_raise_missing_backend_error(name: str) -> None:
    with pytest.raises(persidict.MissingBackendError, match=r"pip install persidict-s3") as info:
        getattr(persidict, name)
    assert isinstance(info.value, ImportError)
    assert name in str(info.value)


def test_from_import_raises_an_import_error() -> None:
    with pytest.raises(ImportError, match="persidict-s3"):
        from persidict import S3Dict  # noqa: F401


def test_missing_backend_error_is_the_core_one() -> None:
    import persidict_core

    assert persidict.MissingBackendError is persidict_core.MissingBackendError
    assert issubclass(persidict.MissingBackendError, ImportError)
    assert issubclass(persidict.MissingBackendError, persidict.PersiDictError)


def test_local_names_still_work() -> None:
    assert persidict.FileDirDict.__name__ == "FileDirDict"
    assert persidict.MutableDictCached.__name__ == "MutableDictCached"


def test_s3_urls_name_the_missing_distribution() -> None:
    with pytest.raises(persidict.MissingBackendError, match=r"pip install persidict-s3"):
        persidict.open_store("s3://bucket/prefix")
    assert type(persidict.open_store("memory://")).__name__ == "LocalDict"
