"""The core conformance suite for the S3 stores: in-process (moto's mock) and over HTTP."""

from __future__ import annotations

import itertools
from pathlib import Path
from typing import Any, ClassVar

import pytest

from persidict_core import PersiDict
from persidict_core.testing import PersiDictConformance, StoreFactory
from persidict_s3 import BasicS3Dict, S3Dict


class S3Conformance(PersiDictConformance):
    # S3's LastModified has whole-second resolution.
    timestamp_resolution: ClassVar[float] = 1.0


class TestBasicS3Dict(S3Conformance):
    @pytest.fixture
    def store_factory(self, mocked_aws: None, bucket_name: str) -> StoreFactory:
        counter = itertools.count()

        def factory(**params: Any) -> PersiDict:
            return BasicS3Dict(bucket_name=bucket_name, root_prefix=f"store{next(counter)}", **params)

        return factory


class TestBasicS3DictSubdict(S3Conformance):
    """A sub-dict of a BasicS3Dict must behave like a whole store."""

    @pytest.fixture
    def store_factory(self, mocked_aws: None, bucket_name: str) -> StoreFactory:
        counter = itertools.count()

        def factory(**params: Any) -> PersiDict:
            root = BasicS3Dict(bucket_name=bucket_name, **params)
            return root.get_subdict(("outer", f"s{next(counter)}"))

        return factory


class TestBasicS3DictOverHTTP(S3Conformance):
    """The same over real HTTP, against moto's server."""

    @pytest.fixture
    def store_factory(self, server_url: str, bucket_name: str) -> StoreFactory:
        counter = itertools.count()

        def factory(**params: Any) -> PersiDict:
            return BasicS3Dict(
                bucket_name=bucket_name,
                root_prefix=f"store{next(counter)}",
                endpoint_url=server_url,
                **params,
            )

        return factory


class TestS3Dict(S3Conformance):
    @pytest.fixture
    def store_factory(self, mocked_aws: None, bucket_name: str, tmp_path: Path) -> StoreFactory:
        counter = itertools.count()

        def factory(**params: Any) -> PersiDict:
            return S3Dict(
                bucket_name=bucket_name, root_prefix=f"store{next(counter)}", base_dir=tmp_path, **params
            )

        return factory


class TestS3DictSubdict(S3Conformance):
    """A sub-dict of an S3Dict is a cached S3Dict and behaves like a whole store."""

    @pytest.fixture
    def store_factory(self, mocked_aws: None, bucket_name: str, tmp_path: Path) -> StoreFactory:
        counter = itertools.count()

        def factory(**params: Any) -> PersiDict:
            root = S3Dict(bucket_name=bucket_name, base_dir=tmp_path, **params)
            return root.get_subdict(("outer", f"s{next(counter)}"))

        return factory


class TestS3DictOverHTTP(S3Conformance):
    @pytest.fixture
    def store_factory(self, server_url: str, bucket_name: str, tmp_path: Path) -> StoreFactory:
        counter = itertools.count()

        def factory(**params: Any) -> PersiDict:
            return S3Dict(
                bucket_name=bucket_name,
                root_prefix=f"store{next(counter)}",
                base_dir=tmp_path,
                endpoint_url=server_url,
                **params,
            )

        return factory
