"""memoize: keys, options, the wrapper's API, methods, async functions, store formats."""

from __future__ import annotations

import asyncio
import functools
import inspect
import pickle
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from persidict_cache import MemoizedFunction, MemoStats, memoize
from persidict_core import FileDirDict, LocalDict, MutationPolicyError, PersiDict, SerializationError


def _counted(store: PersiDict, **options: Any) -> tuple[MemoizedFunction[..., Any], list[Any]]:
    calls: list[Any] = []

    def add(x: int, y: int = 2) -> int:
        """Add two numbers."""
        calls.append((x, y))
        return x + y

    return memoize(store, **options)(add), calls


def test_results_are_stored_under_module_qualname_digest(tmp_path: Path) -> None:
    store = FileDirDict(base_dir=tmp_path)
    add, calls = _counted(store)
    assert add(1) == 3
    assert add(1) == 3
    assert add(x=1, y=2) == 3
    assert calls == [(1, 2)]
    key = add.key_of(1)
    assert key[:2] == (__name__, "_counted.locals.add")
    assert len(key) == 3 and len(key[2]) == 32
    assert list(store.keys()) == [key]
    assert store[key] == 3
    files = sorted(p.relative_to(tmp_path).as_posix() for p in tmp_path.rglob("*") if p.is_file())
    assert files == [f"{__name__}/_counted.locals.add/{key[2]}.pkl"]
    assert add.stats() == MemoStats(hits=2, misses=1, waits=0, computations=1)


def test_wraps_metadata() -> None:
    add, _ = _counted(LocalDict())
    assert add.__name__ == "add"
    assert add.__doc__ == "Add two numbers."
    assert add.__wrapped__.__name__ == "add"
    assert inspect.signature(add) == inspect.signature(add.__wrapped__)
    assert add.store.__class__ is LocalDict
    assert "add" in repr(add)


def test_a_module_level_memoized_function_pickles_by_reference() -> None:
    from tests.cache._memo_workers import cube

    assert pickle.loads(pickle.dumps(cube)) is cube
    assert cube(2) == 8
    add, _ = _counted(LocalDict())
    with pytest.raises((pickle.PicklingError, AttributeError)):
        pickle.dumps(add)  # a local function cannot be found by name, as with plain functions


def test_version_is_part_of_the_key_and_invalidates() -> None:
    store = LocalDict()
    v1, calls1 = _counted(store, version=1)
    v2, calls2 = _counted(store, version="2 beta")
    assert v1.key_of(1)[2] == "1"
    assert v2.key_of(1)[2] == "2_beta"
    v1(1), v2(1)
    assert calls1 == [(1, 2)] and calls2 == [(1, 2)]
    assert len(store) == 2


def test_ignore_leaves_arguments_out_of_the_key() -> None:
    calls: list[Any] = []

    def f(x: int, verbose: bool = False) -> int:
        calls.append(x)
        return x

    memo = memoize(LocalDict(), ignore=("verbose",))(f)
    assert memo(1) == memo(1, verbose=True) == 1
    assert calls == [1]
    with pytest.raises(ValueError, match="ignore names no parameter"):
        memoize(LocalDict(), ignore=("nope",))(f)


def test_custom_key_function() -> None:
    store = LocalDict()

    def fetch(url: str, timeout: float = 1.0) -> str:
        return url.upper()

    memo = memoize(store, key=lambda url, timeout=1.0: ("by url", url))(fetch)
    assert memo("http://x/a?b") == "HTTP://X/A?B"
    assert memo.key_of("http://x/a?b")[2:] == ("by_url", "http___x_a_b")
    hashed = memoize(store, key=lambda url, timeout=1.0: {"u": url})(fetch)
    assert len(hashed.key_of("u")[2]) == 32
    with pytest.raises(TypeError, match="key must be a callable"):
        memoize(store, key="x")  # type: ignore[arg-type]


def test_forget_clear_uncached_refresh() -> None:
    store = LocalDict()
    store["unrelated"] = 1
    add, calls = _counted(store)
    add(1), add(2)
    assert add.forget(1) is True
    assert add.forget(1) is False
    add(1)
    assert calls == [(1, 2), (2, 2), (1, 2)]
    assert add.uncached(5) == 7 and len(store) == 3  # not stored
    assert add.refresh(2) == 4 and calls[-1] == (2, 2)
    assert len(calls) == 5
    add.clear()
    assert list(store.keys()) == [("unrelated",)]
    always, always_calls = _counted(store, refresh=True)
    always(1), always(1)
    assert len(always_calls) == 2 and len(store) == 2


_METHOD_STORE = LocalDict()
_METHOD_RUNS: list[Any] = []


class Model:
    def __init__(self, name: str) -> None:
        self.name = name

    @memoize(_METHOD_STORE)
    def predict(self, x: int) -> str:
        _METHOD_RUNS.append((self.name, x))
        return f"{self.name}:{x}"

    @memoize(_METHOD_STORE, include_self=True)
    def own(self, x: int) -> str:
        _METHOD_RUNS.append(("own", self.name, x))
        return f"{self.name}:{x}"

    @staticmethod
    @memoize(_METHOD_STORE)
    def static_under(x: int) -> int:
        return -x

    @memoize(_METHOD_STORE)
    @staticmethod
    def static_over(x: int) -> int:
        return -x

    @classmethod
    @memoize(_METHOD_STORE)
    def made(cls, x: int) -> int:
        return x * 3


def test_methods_leave_the_instance_out_unless_asked() -> None:
    _METHOD_STORE.clear()
    a, b = Model("a"), Model("b")
    assert a.predict(1) == "a:1"
    assert b.predict(1) == "a:1"  # the instance is not part of the key
    assert a.own(1) == "a:1" and b.own(1) == "b:1"  # hashed by content: its class and state
    assert a.predict.key_of(1) == b.predict.key_of(1) == Model.predict.key_of(a, 1)
    assert a.own.key_of(1) != b.own.key_of(1)
    assert a.own.key_of(1) == Model("a").own.key_of(1)
    assert Model.static_under(2) == Model.static_over(2) == a.static_over(2) == -2
    assert Model.static_over.key_of(1) != Model.static_over.key_of(2)  # no first argument dropped
    assert Model.static_under.key_of(1) != Model.static_under.key_of(2)
    assert Model.made(2) == a.made(2) == 6  # type: ignore[call-arg, arg-type]
    assert a.predict.forget(1) is True
    assert a.predict.key_of(1)[:2] == (__name__, "Model.predict")
    assert len(_METHOD_RUNS) == 3


def test_a_local_class_instance_cannot_be_hashed() -> None:
    class Local:
        @memoize(LocalDict(), include_self=True)
        def f(self) -> int:
            return 1

    with pytest.raises(TypeError, match="argument 'self' cannot be hashed.*no stable name"):
        Local().f()


def test_async_functions() -> None:
    calls: list[int] = []

    async def fetch(x: int) -> int:
        calls.append(x)
        await asyncio.sleep(0.05)
        return x * 10

    memo = memoize(LocalDict(), lease_seconds=5.0)(fetch)

    async def main() -> list[int]:
        return list(await asyncio.gather(*(memo(3) for _ in range(5)), memo(4)))

    assert asyncio.run(main()) == [30] * 5 + [40]
    assert sorted(calls) == [3, 4]
    assert memo.stats().computations == 2 and memo.stats().waits == 4
    assert inspect.iscoroutine(coro := memo(3))
    assert asyncio.run(coro) == 30
    assert memo.stats().hits == 1


def test_numpy_arguments_hit_by_content() -> None:
    calls: list[Any] = []

    def total(a: Any) -> float:
        calls.append(1)
        return float(a.sum())

    memo = memoize(LocalDict())(total)
    assert memo(np.arange(10.0)) == memo(np.arange(10.0)) == 45.0
    assert len(calls) == 1


def test_a_json_store_gets_json_results_and_a_clear_error_otherwise(tmp_path: Path) -> None:
    store = FileDirDict(base_dir=tmp_path, serialization_format="json")

    def make(kind: str) -> Any:
        return {"fine": [1, 2]} if kind == "fine" else {"f": lambda: 1}

    memo = memoize(store)(make)
    assert memo("fine") == {"fine": [1, 2]}
    assert (tmp_path / memo.key_of("fine")[0] / memo.key_of("fine")[1]).is_dir()
    with pytest.raises(SerializationError) as info:
        memo("bad")
    assert isinstance(info.value, TypeError)
    assert memo.key_of("bad") not in store
    assert len(store) == 1  # no lease left behind


def test_a_text_store_takes_str_results_only(tmp_path: Path) -> None:
    store = FileDirDict(base_dir=tmp_path, serialization_format="txt")

    def show(x: Any) -> Any:
        return x

    memo = memoize(store)(show)
    assert memo("abc") == "abc"
    with pytest.raises(TypeError):
        memo(3)
    assert len(store) == 1


def test_append_only_stores_need_a_lease_store(tmp_path: Path) -> None:
    results = FileDirDict(base_dir=tmp_path / "r", append_only=True)

    def f(x: int) -> int:
        return x

    with pytest.raises(ValueError, match="lease_store"):
        memoize(results)(f)
    memo = memoize(results, lease_store=LocalDict())(f)
    assert memo(1) == memo(1) == 1
    with pytest.raises(MutationPolicyError):
        memo.forget(1)
    assert memoize(results, single_flight=False)(f)(2) == 2


def test_single_flight_off_still_writes_once() -> None:
    store = LocalDict()
    add, calls = _counted(store, single_flight=False)
    assert add(1) == add(1) == 3
    assert calls == [(1, 2)]


@pytest.mark.parametrize(
    ("options", "error"),
    [
        ({"lease_seconds": 0}, ValueError),
        ({"lease_seconds": "1"}, ValueError),
        ({"wait_timeout": -1}, ValueError),
        ({"version": 1.5}, TypeError),
        ({"ignore": [1]}, TypeError),
    ],
)
def test_bad_options_are_refused(options: dict[str, Any], error: type[Exception]) -> None:
    with pytest.raises(error):
        memoize(LocalDict(), **options)


def test_bad_store_or_target_is_a_type_error() -> None:
    with pytest.raises(TypeError, match="PersiDict"):
        memoize({})  # type: ignore[arg-type]
    with pytest.raises(TypeError, match="cannot decorate"):
        memoize(LocalDict())(42)  # type: ignore[arg-type]


def test_a_callable_without_a_qualified_name_is_refused() -> None:
    def base(x: int, y: int) -> int:
        return x + y

    with pytest.raises(TypeError, match="qualified name"):
        memoize(LocalDict())(functools.partial(base, y=1))
