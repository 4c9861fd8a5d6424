"""The core conformance suite for the S3 stores: in-process (moto's mock) and over HTTP."""

from __future__ import annotations

import itertools
from collections.abc import Callable
from pathlib import Path
from typing import Any, ClassVar

import pytest

from persidict_core import PersiDict
from persidict_core.testing import PersiDictConformance, StoreFactory
from persidict_s3 import BasicS3Dict, S3Dict
from tests.s3._proxy import S3Proxy


class S3Conformance(PersiDictConformance):
    # S3's LastModified has whole-second resolution.
    timestamp_resolution: ClassVar[float] = 1.0
    race_rounds: ClassVar[int] = 10  # 8 threads x 10 increments: every request is an HTTP round trip
    # Every step of the model-based test lists the bucket and reads every key: fewer, shorter runs.
    model_examples: ClassVar[int] = 10
    model_steps: ClassVar[int] = 15


class InProcessMoto(S3Conformance):
    """The suite on moto's in-process mock, which evaluates ``If-Match`` without a lock.

    S3 checks a condition and writes in one step; moto checks, then writes, so two racers can
    both pass the check. The suite's races therefore run over HTTP (the classes below), where
    our proxy forwards the writes of one object one at a time, as S3 does.
    """

    races_unsupported: ClassVar[str] = (
        "moto's in-process mock checks conditions without a lock: the races run over HTTP (*OverHTTP)"
    )


class OverHTTP(S3Conformance):
    """The suite over real HTTP, against moto's server behind a proxy that serializes writes."""

    model_examples: ClassVar[int] = 0
    model_unsupported: ClassVar[str] = (
        "the model-based test runs on in-process moto (the same store code, without HTTP round trips)"
    )


class TestBasicS3Dict(InProcessMoto):
    @pytest.fixture
    def store_factory(self, mocked_aws: None, bucket_name: str) -> StoreFactory:
        counter = itertools.count()

        def factory(**params: Any) -> PersiDict:
            return BasicS3Dict(bucket_name=bucket_name, root_prefix=f"store{next(counter)}", **params)

        return factory


class TestBasicS3DictSubdict(InProcessMoto):
    """A sub-dict of a BasicS3Dict must behave like a whole store."""

    @pytest.fixture
    def store_factory(self, mocked_aws: None, bucket_name: str) -> StoreFactory:
        counter = itertools.count()

        def factory(**params: Any) -> PersiDict:
            root = BasicS3Dict(bucket_name=bucket_name, **params)
            return root.get_subdict(("outer", f"s{next(counter)}"))

        return factory


class TestBasicS3DictOverHTTP(OverHTTP):
    """The same over real HTTP, against moto's server behind a proxy that serializes writes."""

    @pytest.fixture
    def store_factory(self, make_proxy: Callable[..., S3Proxy], bucket_name: str) -> StoreFactory:
        counter = itertools.count()
        url = make_proxy(serialize_writes=True).url

        def factory(**params: Any) -> PersiDict:
            return BasicS3Dict(
                bucket_name=bucket_name,
                root_prefix=f"store{next(counter)}",
                endpoint_url=url,
                **params,
            )

        return factory


class TestS3Dict(InProcessMoto):
    @pytest.fixture
    def store_factory(self, mocked_aws: None, bucket_name: str, tmp_path: Path) -> StoreFactory:
        counter = itertools.count()

        def factory(**params: Any) -> PersiDict:
            return S3Dict(
                bucket_name=bucket_name, root_prefix=f"store{next(counter)}", base_dir=tmp_path, **params
            )

        return factory


class TestS3DictSubdict(InProcessMoto):
    """A sub-dict of an S3Dict is a cached S3Dict and behaves like a whole store."""

    @pytest.fixture
    def store_factory(self, mocked_aws: None, bucket_name: str, tmp_path: Path) -> StoreFactory:
        counter = itertools.count()

        def factory(**params: Any) -> PersiDict:
            root = S3Dict(bucket_name=bucket_name, base_dir=tmp_path, **params)
            return root.get_subdict(("outer", f"s{next(counter)}"))

        return factory


class TestS3DictOverHTTP(OverHTTP):
    @pytest.fixture
    def store_factory(
        self, make_proxy: Callable[..., S3Proxy], bucket_name: str, tmp_path: Path
    ) -> StoreFactory:
        counter = itertools.count()
        url = make_proxy(serialize_writes=True).url

        def factory(**params: Any) -> PersiDict:
            return S3Dict(
                bucket_name=bucket_name,
                root_prefix=f"store{next(counter)}",
                base_dir=tmp_path,
                endpoint_url=url,
                **params,
            )

        return factory
