"""The ``s3://`` scheme of store URLs, registered when persidict_s3 is imported.

``s3://bucket/prefix`` opens an `S3Dict` (a local file cache validated by ETag);
``s3://bucket/prefix?cache=none`` opens a `BasicS3Dict` (every read goes to S3).
"""

from __future__ import annotations

from typing import Any, Final

from persidict_core import StoreUrl, register_url_scheme

__all__ = ["CACHE_OPTIONS"]

CACHE_OPTIONS: Final = {"local": "s3_dict", "none": "basic_s3_dict"}
"""Values of the ``cache`` query parameter and the store kind each opens (default ``local``)."""


def _resolve_s3_url(url: StoreUrl) -> tuple[str, dict[str, Any]]:
    if not url.netloc:
        raise ValueError(f"An S3 store URL names a bucket: s3://bucket/prefix, got {url.text!r}")
    cache = url.query.get("cache", "local")
    if cache not in CACHE_OPTIONS:
        raise ValueError(
            f"cache={cache!r} in {url.text!r}: "
            "use cache=local (S3Dict, the default) or cache=none (BasicS3Dict)"
        )
    return CACHE_OPTIONS[cache], {"bucket_name": url.netloc, "root_prefix": url.path.lstrip("/")}


register_url_scheme("s3", _resolve_s3_url, options={"cache"})
