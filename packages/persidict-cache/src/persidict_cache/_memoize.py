"""`memoize`: persistent memoization over any store, computed once across threads, processes and machines.

Layout in the store (every element made safe: ``<locals>`` becomes ``locals``, other unsafe
characters become ``_``)::

    (<module>, <qualname>, [<version>,] <digest>)          the result (the returned value itself)
    (<module>, <qualname>~error, [<version>,] <digest>)    a raised exception (cache_exceptions=True)
    (<module>, <qualname>~lease, [<version>,] <digest>)    the lease of a running computation

``~`` never occurs in a Python qualified name, so the error and lease prefixes can never be
mistaken for results, and listing ``(<module>, <qualname>)`` shows results only.

Single-flight: a caller that misses takes the lease with an insert-if-absent, computes, writes
the result with an insert-if-absent (write-once) and deletes its lease; other callers poll the
result (backoff with jitter) while the lease lives. The owner rewrites its lease from a heartbeat
thread every ``lease_seconds / 3``: a waiter that sees the same lease ETag for ``lease_seconds``
by its own monotonic clock (or a lease whose recorded expiry passed more than ``lease_seconds``
ago) considers the owner dead and
takes the lease over with a compare-and-swap on that ETag, so exactly one waiter takes over.
"""

from __future__ import annotations

import functools
import hashlib
import inspect
import json
import os
import random
import re
import socket
import threading
import time
import uuid
from collections.abc import Callable, Coroutine, Generator, Iterable
from dataclasses import dataclass
from typing import Any, Final, Generic, ParamSpec, TypeVar, cast, overload

from persidict_core import (
    ANY_ETAG,
    ETAG_IS_THE_SAME,
    ITEM_NOT_AVAILABLE,
    NEVER_RETRIEVE,
    PersiDict,
)
from persidict_safestr import NonEmptySafeStrTuple, SafeStrTuple, is_safe_str_element, replace_unsafe_chars

from ._common import require_store
from ._hashing import ValueHasher

__all__ = ["MemoStats", "MemoizedFunction", "memoize"]

P = ParamSpec("P")
R = TypeVar("R")

_LEASE_SUFFIX: Final = "~lease"
_ERROR_SUFFIX: Final = "~error"
_MAX_ELEMENT: Final = 200
_FIRST_POLL_S: Final = 0.02
_MAX_POLL_S: Final = 1.0


_KNOWN_KEYS_MAX: Final = 4096
_CACHEABLE_TYPES: Final = frozenset({int, str, bool, bytes, type(None)})
_NO_DEFAULT: Final = object()


class _Missing:
    """The result is not stored (a private sentinel: ``None`` is a valid result)."""


_MISSING: Final = _Missing()


@dataclass(frozen=True)
class _CachedError:
    """A stored exception (``cache_exceptions=True``), found where a result was looked for."""

    error: BaseException


def _delivered(found: Any) -> Any:
    """The result of a call from what was found: a stored exception is raised."""
    if isinstance(found, _CachedError):
        raise found.error
    return found


@dataclass(frozen=True)
class MemoStats:
    """What a memoized function did in this process (see `MemoizedFunction.stats`).

    Attributes:
        hits: Calls answered from the store at once.
        misses: Calls that found no stored result (they computed or waited).
        waits: Calls that waited for another caller's computation.
        computations: Runs of the function's body by this object (``uncached`` excluded).
    """

    hits: int
    misses: int
    waits: int
    computations: int


class _Counters:
    __slots__ = ("computations", "hits", "lock", "misses", "waits")

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.hits = self.misses = self.waits = self.computations = 0

    def add(self, name: str) -> None:
        with self.lock:
            setattr(self, name, getattr(self, name) + 1)


def safe_element(text: str) -> str:
    """Turn ``text`` into a readable key element (``<locals>`` -> ``locals``, unsafe -> ``_``)."""
    cleaned = replace_unsafe_chars(re.sub(r"<(\w+)>", r"\1", text), "_") or "_"
    if cleaned in (".", ".."):
        cleaned = "_" + cleaned
    if len(cleaned) > _MAX_ELEMENT:  # keep it readable and unique: a prefix and a digest of the rest
        cleaned = cleaned[:160] + "~" + hashlib.blake2b(text.encode(), digest_size=8).hexdigest()
    return cleaned


# ----------------------------------------------------------------------------- flow instructions
class _Compute:
    """Instruction of the call flow: run the body now and send back ``(ok, value_or_exception)``."""


_COMPUTE: Final = _Compute()
_Outcome = tuple[bool, Any]
_Flow = Generator["float | _Compute", "_Outcome | None", Any]


class _Lease:
    """A lease this caller holds: renewed from a heartbeat thread until `release`."""

    def __init__(self, store: PersiDict, key: NonEmptySafeStrTuple, etag: str, owner: str, seconds: float):
        self._store = store
        self._key = key
        self._etag = etag
        self._owner = owner
        self._seconds = seconds
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._lost = False
        self._renewals = 0
        self._thread = threading.Thread(target=self._heartbeat, name="persidict-memoize-lease", daemon=True)
        self._thread.start()

    def _heartbeat(self) -> None:
        while not self._stop.wait(self._seconds / 3):
            with self._lock:
                if self._lost or self._stop.is_set():
                    return
                self._renewals += 1
                record = _lease_record(self._owner, self._seconds, self._renewals)
                try:
                    result = self._store.set_item_if(
                        self._key,
                        value=record,
                        condition=ETAG_IS_THE_SAME,
                        expected_etag=self._etag,
                        retrieve_value=NEVER_RETRIEVE,
                    )
                except Exception:  # a transient storage failure: try again at the next beat
                    continue
                if result.condition_was_satisfied:
                    self._etag = cast(str, result.resulting_etag)
                else:  # taken over: we were considered dead; our result write stays insert-if-absent
                    self._lost = True
                    return

    def release(self) -> None:
        """Stop renewing and delete the lease if it is still ours."""
        self._stop.set()
        with self._lock:
            lost = self._lost
        self._thread.join()
        if lost:
            return
        try:
            self._store.discard_if(self._key, condition=ETAG_IS_THE_SAME, expected_etag=self._etag)
        except Exception:  # noqa: S110 - the store failed: the lease expires by itself after lease_seconds
            pass


def _lease_record(owner: str, seconds: float, renewals: int) -> str:
    """The lease's value: JSON text (a str fits every serialization format), readable by people."""
    now = time.time()
    return json.dumps(
        {
            "owner": owner,
            "host": socket.gethostname(),
            "pid": os.getpid(),
            "renewed_at": now,
            "expires_at": now + seconds,
            "renewals": renewals,
        }
    )


def _recorded_expiry(value: Any) -> float | None:
    try:
        expiry = json.loads(value)["expires_at"]
    except Exception:  # a foreign or damaged record: rely on watching its ETag
        return None
    return float(expiry) if isinstance(expiry, (int, float)) else None


# ----------------------------------------------------------------------------- the wrapper
class MemoizedFunction(Generic[P, R]):
    """A function whose results are kept in a store; made by `memoize`.

    Calling it returns the stored result for the arguments, computing and storing it first
    when there is none. The attributes and methods below manage what is stored. The
    function's metadata (``__name__``, ``__doc__``, ``__wrapped__`` ...) is copied over.
    """

    __name__: str
    __qualname__: str
    __wrapped__: Callable[P, R]

    def __init__(
        self,
        func: Callable[P, R],
        store: PersiDict,
        *,
        version: str | int | None,
        ignore: Iterable[str],
        key: Callable[..., Any] | None,
        cache_exceptions: bool,
        single_flight: bool,
        lease_seconds: float,
        wait_timeout: float | None,
        lease_store: PersiDict | None,
        include_self: bool,
        refresh: bool,
    ) -> None:
        self._func = func
        self._store = store
        self._key_func = key
        self._cache_exceptions = cache_exceptions
        self._single_flight = single_flight
        self._lease_seconds = lease_seconds
        self._wait_timeout = wait_timeout
        self._lease_store = store if lease_store is None else lease_store
        self._include_self = include_self
        self._refresh = refresh
        self._is_async = inspect.iscoroutinefunction(func)
        self._counters = _Counters()
        self._owner_prefix = uuid.uuid4().hex
        self._signature = inspect.signature(func)
        self._params = list(self._signature.parameters.values())
        names = {param.name for param in self._params}
        self._ignore = frozenset(ignore)
        unknown = sorted(self._ignore - names)
        if unknown:
            raise ValueError(f"memoize({func.__qualname__}): ignore names no parameter: {unknown}")
        self._known_keys: dict[tuple[Any, ...], NonEmptySafeStrTuple] = {}
        self._skip_first = False  # set by __set_name__: the first parameter is the instance
        self._prepare_binding()
        module = safe_element(getattr(func, "__module__", None) or "__unknown__")
        qualname = safe_element(func.__qualname__)
        middle: tuple[str, ...] = () if version is None else (safe_element(str(version)),)
        self._prefix = (module, qualname, *middle)
        self._error_prefix = (module, qualname + _ERROR_SUFFIX, *middle)
        self._lease_prefix = (module, qualname + _LEASE_SUFFIX, *middle)
        functools.update_wrapper(self, func)
        if self._is_async and hasattr(inspect, "markcoroutinefunction"):
            inspect.markcoroutinefunction(self)

    # ------------------------------------------------------------------ descriptor protocol
    def __set_name__(self, owner: type, name: str) -> None:
        # Defined in a class body: a method, whose first parameter is the instance.
        if self._params and self._params[0].kind != inspect.Parameter.VAR_POSITIONAL:
            self._skip_first = not self._include_self
            self._known_keys.clear()
            self._prepare_binding()

    @overload
    def __get__(self, instance: None, owner: type | None = None) -> MemoizedFunction[P, R]: ...
    @overload
    def __get__(self, instance: object, owner: type | None = None) -> _BoundMemoized[R]: ...
    def __get__(self, instance: object | None, owner: type | None = None) -> Any:
        if instance is None:
            return self
        return _BoundMemoized(self, instance)

    # ------------------------------------------------------------------ public API
    @property
    def store(self) -> PersiDict:
        """The store that holds the results."""
        return self._store

    def stats(self) -> MemoStats:
        """Return the counts of hits, misses, waits and computations of this object so far."""
        c = self._counters
        with c.lock:
            return MemoStats(hits=c.hits, misses=c.misses, waits=c.waits, computations=c.computations)

    def key_of(self, *args: P.args, **kwargs: P.kwargs) -> NonEmptySafeStrTuple:
        """Return the store key of the result for these arguments (nothing is read or computed).

        Raises:
            TypeError: The arguments do not fit the signature, or one cannot be hashed (the
                message names it).
        """
        return self._key(args, kwargs)

    def forget(self, *args: P.args, **kwargs: P.kwargs) -> bool:
        """Delete the stored result (and cached exception) for these arguments.

        Returns:
            True if something was deleted.

        Raises:
            MutationPolicyError: The store is append-only.
        """
        key = self._key(args, kwargs)
        deleted = self._store.discard(key)
        if self._cache_exceptions:
            deleted = self._store.discard(self._sibling(self._error_prefix, key)) or deleted
        return deleted

    def clear(self) -> None:
        """Delete every stored result (and cached exception) of this function and version.

        Leases of running computations are left alone.
        """
        self._store.get_subdict(self._prefix).clear()
        self._store.get_subdict(self._error_prefix).clear()

    def uncached(self, *args: P.args, **kwargs: P.kwargs) -> R:
        """Call the function itself: nothing is read or written."""
        return self._func(*args, **kwargs)

    def refresh(self, *args: P.args, **kwargs: P.kwargs) -> R:
        """Compute anew and replace the stored result (one call with ``refresh=True``)."""
        return cast(R, self._call(args, kwargs, refresh=True))

    def __call__(self, *args: P.args, **kwargs: P.kwargs) -> R:
        """Return the stored result for the arguments, computing and storing it if missing."""
        if self._refresh or self._is_async:
            return cast(R, self._call(args, kwargs, refresh=self._refresh))
        key = self._key(args, kwargs)
        try:  # the hit, inline: on a fast store every call layer shows
            value = self._store[key]
        except KeyError:
            return cast(R, self._call_missing(key, args, kwargs, refresh=False))
        counters = self._counters
        with counters.lock:
            counters.hits += 1
        return cast(R, value)

    def __reduce__(self) -> str:
        # Pickled by reference, as the function it replaces (for multiprocessing pools): the
        # unpickling process imports it from its module and uses its own store and counters.
        return self.__qualname__

    def __repr__(self) -> str:
        return f"<memoized {self._func.__module__}.{self._func.__qualname__} in {self._store!r}>"

    # ------------------------------------------------------------------ keys
    def _prepare_binding(self) -> None:
        """Precompute what the fast binder needs (again when ``__set_name__`` changes it)."""
        params = self._params
        kinds = {param.kind for param in params}
        self._simple_signature = not kinds & {inspect.Parameter.VAR_POSITIONAL, inspect.Parameter.VAR_KEYWORD}
        self._n_positional = sum(
            param.kind in (param.POSITIONAL_ONLY, param.POSITIONAL_OR_KEYWORD) for param in params
        )
        self._defaults = [_NO_DEFAULT if p.default is p.empty else p.default for p in params]
        self._by_keyword = {p.name: i for i, p in enumerate(params) if p.kind != p.POSITIONAL_ONLY}
        first = 1 if self._skip_first else 0
        self._hashed = [
            (i, p.name) for i, p in enumerate(params) if i >= first and p.name not in self._ignore
        ]

    def _fast_bind(self, args: tuple[Any, ...], kwargs: dict[str, Any]) -> list[Any] | None:
        """Bind like ``Signature.bind`` + ``apply_defaults``, for simple signatures; None: use those."""
        if not self._simple_signature or len(args) > self._n_positional:
            return None
        values = [*args, *self._defaults[len(args) :]]
        if kwargs:
            by_keyword = self._by_keyword
            for name, value in kwargs.items():
                index = by_keyword.get(name)
                if index is None or index < len(args):
                    return None  # let Signature.bind explain the mistake
                values[index] = value
        for value in values:
            if value is _NO_DEFAULT:
                return None
        return values

    def _bound_arguments(self, args: tuple[Any, ...], kwargs: dict[str, Any]) -> list[tuple[str, Any]]:
        values = self._fast_bind(args, kwargs)
        if values is not None:
            return [(name, values[index]) for index, name in self._hashed]
        try:
            bound = self._signature.bind(*args, **kwargs)
        except TypeError as exc:
            raise TypeError(f"{self._func.__qualname__}(): {exc}") from None
        bound.apply_defaults()
        pairs = list(bound.arguments.items())
        if self._skip_first:
            pairs = pairs[1:]
        if self._ignore:
            pairs = [(name, value) for name, value in pairs if name not in self._ignore]
        return pairs

    def _key(self, args: tuple[Any, ...], kwargs: dict[str, Any]) -> NonEmptySafeStrTuple:
        if self._key_func is not None:
            return self._custom_key(args, kwargs)
        # Calls with only scalar arguments remember their key: binding and hashing cost more
        # than the hit itself on a fast store. The types are part of the probe (1 == 1.0 ==
        # True, and their digests differ); floats are left out (0.0 == -0.0).
        probe: tuple[Any, ...] | None = None
        positional = args[1:] if self._skip_first else args
        kinds = tuple(map(type, positional))
        if kwargs:
            kinds += tuple(map(type, kwargs.values()))
        if _CACHEABLE_TYPES.issuperset(kinds):
            probe = (positional, kinds, *kwargs.items()) if kwargs else (positional, kinds)
            known = self._known_keys.get(probe)
            if known is not None:
                return known
        hasher = ValueHasher()
        for name, value in self._bound_arguments(args, kwargs):
            _feed_argument(hasher, name, value, self._func.__qualname__)
        # The public constructor checks only the digest: the prefix's elements are known valid.
        key = NonEmptySafeStrTuple((*self._prefix, hasher.hexdigest()))
        if probe is not None:
            if len(self._known_keys) >= _KNOWN_KEYS_MAX:
                self._known_keys.clear()
            self._known_keys[probe] = key
        return key

    def _custom_key(self, args: tuple[Any, ...], kwargs: dict[str, Any]) -> NonEmptySafeStrTuple:
        assert self._key_func is not None
        if self._skip_first:
            args = args[1:]
        made = self._key_func(*args, **kwargs)
        if isinstance(made, str):
            made = (made,)
        if isinstance(made, (tuple, list, SafeStrTuple)) and made and all(isinstance(s, str) for s in made):
            elements = tuple(s if is_safe_str_element(s) else safe_element(s) for s in made)
        else:
            hasher = ValueHasher()
            _feed_argument(hasher, "the value of key=", made, self._func.__qualname__)
            elements = (hasher.hexdigest(),)
        return NonEmptySafeStrTuple((*self._prefix, *elements))

    def _sibling(self, prefix: tuple[str, ...], key: NonEmptySafeStrTuple) -> NonEmptySafeStrTuple:
        return NonEmptySafeStrTuple((*prefix, *key[len(self._prefix) :]))

    # ------------------------------------------------------------------ the call
    def _call(self, args: tuple[Any, ...], kwargs: dict[str, Any], refresh: bool) -> Any:
        return self._call_missing(self._key(args, kwargs), args, kwargs, refresh)

    def _call_missing(
        self, key: NonEmptySafeStrTuple, args: tuple[Any, ...], kwargs: dict[str, Any], refresh: bool
    ) -> Any:
        """Run the call's flow (it looks the result up first: a cached exception, a late result)."""
        flow = self._flow(key, refresh)
        if self._is_async:
            return self._run_async(flow, args, kwargs)
        return self._run_sync(flow, args, kwargs)

    def _run_sync(self, flow: _Flow, args: tuple[Any, ...], kwargs: dict[str, Any]) -> Any:
        try:
            instruction = next(flow)
            while True:
                if isinstance(instruction, _Compute):
                    self._counters.add("computations")
                    reply: _Outcome
                    try:
                        reply = (True, self._func(*args, **kwargs))
                    except BaseException as exc:
                        reply = (False, exc)
                    instruction = flow.send(reply)
                else:
                    time.sleep(instruction)
                    instruction = flow.send(None)
        except StopIteration as stop:
            return stop.value
        finally:
            flow.close()

    async def _run_async(self, flow: _Flow, args: tuple[Any, ...], kwargs: dict[str, Any]) -> Any:
        func = cast(Callable[..., Coroutine[Any, Any, Any]], self._func)
        try:
            instruction = next(flow)
            while True:
                if isinstance(instruction, _Compute):
                    self._counters.add("computations")
                    reply: _Outcome
                    try:
                        reply = (True, await func(*args, **kwargs))
                    except BaseException as exc:
                        reply = (False, exc)
                    instruction = flow.send(reply)
                else:
                    import asyncio  # loaded by the running event loop: not at import persidict_cache

                    await asyncio.sleep(instruction)
                    instruction = flow.send(None)
        except StopIteration as stop:
            return stop.value
        finally:
            flow.close()

    def _lookup(self, key: NonEmptySafeStrTuple) -> Any:
        """The stored result, a `_CachedError` holding a stored exception, or `_MISSING`."""
        try:
            return self._store[key]
        except KeyError:
            pass
        if self._cache_exceptions:
            try:
                error = self._store[self._sibling(self._error_prefix, key)]
            except KeyError:
                return _MISSING
            if isinstance(error, BaseException):
                return _CachedError(error)
        return _MISSING

    def _flow(self, key: NonEmptySafeStrTuple, refresh: bool) -> _Flow:
        """The steps of one call, as a generator the sync and async drivers share."""
        counters = self._counters
        if not refresh:
            found = self._lookup(key)
            if found is not _MISSING:
                counters.add("hits")
                return _delivered(found)
        counters.add("misses")
        if not self._single_flight:
            if refresh:
                self._forget_key(key)
            outcome = yield _COMPUTE
            return self._finish(key, outcome)

        lease_key = self._sibling(self._lease_prefix, key)
        leases = self._lease_store
        start = time.monotonic()
        deadline = None if self._wait_timeout is None else start + self._wait_timeout
        poll = _FIRST_POLL_S
        seen_etag: object = None
        seen_since = start
        waited = False
        while True:
            lease = self._try_take_lease(leases, lease_key, seen_etag, seen_since)
            if isinstance(lease, _Lease):
                try:
                    if refresh and not waited:
                        self._forget_key(key)
                    else:  # the previous owner may have stored the result and left
                        found = self._lookup(key)
                        if found is not _MISSING:
                            return _delivered(found)
                    outcome = yield _COMPUTE
                    return self._finish(key, outcome)
                finally:
                    lease.release()
            # Another caller computes: watch its lease and poll for the result.
            now = time.monotonic()
            if lease != seen_etag:
                seen_etag, seen_since = lease, now
            if not waited:
                waited = True
                counters.add("waits")
            if deadline is not None and now >= deadline:
                raise TimeoutError(
                    f"{self._func.__qualname__}: waited {self._wait_timeout} s (wait_timeout) for "
                    f"another caller computing {tuple(key)!r}; its lease {tuple(lease_key)!r} is alive"
                )
            pause = poll * random.uniform(0.5, 1.0)
            if deadline is not None:
                pause = min(pause, max(deadline - now, 0.0))
            yield pause
            poll = min(poll * 1.5, _MAX_POLL_S, self._lease_seconds / 2)
            found = self._lookup(key)
            if found is not _MISSING:
                return _delivered(found)

    def _forget_key(self, key: NonEmptySafeStrTuple) -> None:
        self._store.discard(key)
        if self._cache_exceptions:
            self._store.discard(self._sibling(self._error_prefix, key))

    def _try_take_lease(
        self, leases: PersiDict, lease_key: NonEmptySafeStrTuple, seen_etag: object, seen_since: float
    ) -> _Lease | str:
        """Take the lease if it is free or its owner is dead; else return the live lease's ETag."""
        owner = f"{self._owner_prefix}-{threading.get_ident()}"
        record = _lease_record(owner, self._lease_seconds, 0)
        while True:
            taken = leases.setdefault_if(
                lease_key,
                default_value=record,
                condition=ANY_ETAG,
                expected_etag=ITEM_NOT_AVAILABLE,
            )
            if taken.actual_etag is ITEM_NOT_AVAILABLE:
                return _Lease(leases, lease_key, cast(str, taken.resulting_etag), owner, self._lease_seconds)
            etag = cast(str, taken.actual_etag)
            now = time.monotonic()
            expiry = _recorded_expiry(taken.new_value)
            unchanged_for = now - seen_since if etag == seen_etag else 0.0
            # Dead: unchanged for lease_seconds by our own clock, or (for a caller that just
            # arrived) expired by the owner's clock long enough ago that clocks disagreeing by
            # less than lease_seconds cannot make a live lease look dead.
            long_expired = expiry is not None and time.time() > expiry + self._lease_seconds
            if unchanged_for < self._lease_seconds and not long_expired:
                return etag
            # Its owner stopped renewing it: take it over; of several waiters exactly one wins.
            swapped = leases.set_item_if(
                lease_key,
                value=record,
                condition=ETAG_IS_THE_SAME,
                expected_etag=etag,
                retrieve_value=NEVER_RETRIEVE,
            )
            if swapped.condition_was_satisfied:
                return _Lease(
                    leases, lease_key, cast(str, swapped.resulting_etag), owner, self._lease_seconds
                )
            if swapped.actual_etag is not ITEM_NOT_AVAILABLE:
                return cast(str, swapped.actual_etag)  # another waiter took it over first
            # released meanwhile: try to insert again

    def _finish(self, key: NonEmptySafeStrTuple, outcome: _Outcome | None) -> Any:
        """Store the body's outcome (write-once) and return the call's result."""
        assert outcome is not None
        ok, payload = outcome
        if not ok:
            if self._cache_exceptions and isinstance(payload, Exception):
                try:
                    self._store.setdefault_if(
                        self._sibling(self._error_prefix, key),
                        default_value=payload,
                        condition=ANY_ETAG,
                        expected_etag=ITEM_NOT_AVAILABLE,
                        retrieve_value=NEVER_RETRIEVE,
                    )
                except Exception:  # noqa: S110 - an exception the format cannot hold is just not cached
                    pass
            raise payload
        stored = self._store.setdefault_if(
            key, default_value=payload, condition=ANY_ETAG, expected_etag=ITEM_NOT_AVAILABLE
        )
        if stored.actual_etag is ITEM_NOT_AVAILABLE:
            return payload
        return stored.new_value  # stored by another caller first: the result never changes once read


class _BoundMemoized(Generic[R]):
    """A memoized method bound to an instance: calls pass the instance as the first argument."""

    __slots__ = ("__self__", "__func__")

    def __init__(self, memoized: MemoizedFunction[..., R], instance: object) -> None:
        self.__func__ = memoized
        self.__self__ = instance

    def __call__(self, *args: Any, **kwargs: Any) -> R:
        return self.__func__(self.__self__, *args, **kwargs)

    def key_of(self, *args: Any, **kwargs: Any) -> NonEmptySafeStrTuple:
        """See `MemoizedFunction.key_of`."""
        return self.__func__.key_of(self.__self__, *args, **kwargs)

    def forget(self, *args: Any, **kwargs: Any) -> bool:
        """See `MemoizedFunction.forget`."""
        return self.__func__.forget(self.__self__, *args, **kwargs)

    def uncached(self, *args: Any, **kwargs: Any) -> R:
        """See `MemoizedFunction.uncached`."""
        return self.__func__.uncached(self.__self__, *args, **kwargs)

    def refresh(self, *args: Any, **kwargs: Any) -> R:
        """See `MemoizedFunction.refresh`."""
        return self.__func__.refresh(self.__self__, *args, **kwargs)

    def __getattr__(self, name: str) -> Any:
        return getattr(self.__func__, name)


def _feed_argument(hasher: ValueHasher, name: str, value: Any, qualname: str) -> None:
    hasher.raw(name.encode() + b"\x00")
    try:
        hasher.feed(value, name)
    except TypeError as exc:
        raise TypeError(f"{qualname}(): argument {name!r} cannot be hashed for the cache key: {exc}") from exc


def memoize(
    store: PersiDict,
    *,
    version: str | int | None = None,
    ignore: Iterable[str] = (),
    key: Callable[..., Any] | None = None,
    cache_exceptions: bool = False,
    single_flight: bool = True,
    lease_seconds: float = 60.0,
    wait_timeout: float | None = None,
    lease_store: PersiDict | None = None,
    include_self: bool = False,
    refresh: bool = False,
) -> Callable[[Callable[P, R]], MemoizedFunction[P, R]]:
    """Keep a function's results in ``store``, computed once for all callers of all machines.

    Args:
        store: Where results go, under ``(<module>, <qualname>, [<version>,] <digest>)``.
        version: Part of every key; change it to start over after the function's code changed.
        ignore: Names of parameters left out of the key (a logger, a verbosity flag).
        key: ``key(*args, **kwargs)`` replaces the digest of the arguments: a str or a tuple of
            str becomes the last key elements (made safe), anything else is digested.
        cache_exceptions: Store an exception the body raises and raise it again on later calls
            (default: exceptions are not stored and the next call computes again).
        single_flight: One caller computes while concurrent callers of the same arguments wait
            for its result (default). False: every caller that misses computes, the first
            stored result wins.
        lease_seconds: How long a computing caller's lease lives without renewal; it is renewed
            every third of that while the body runs, so it only expires when its owner died.
        wait_timeout: Seconds a caller waits for another's computation before `TimeoutError`
            (None: as long as the other's lease lives).
        lease_store: Where leases go (default: ``store``); needed when ``store`` is append-only.
        include_self: For methods: make the instance part of the key (hashed by content).
        refresh: Every call computes anew and replaces the stored result.

    Returns:
        A decorator; the decorated function is a `MemoizedFunction`.

    Raises:
        TypeError: ``store`` or ``lease_store`` is not a store, or the decorated object is not
            callable.
        ValueError: An option is out of range, ``ignore`` names no parameter, or leases cannot
            be kept in the lease store (append-only, or values restricted to a class other
            than str).
    """
    require_store("store", store, "memoize")
    if lease_store is not None:
        require_store("lease_store", lease_store, "memoize")
    if isinstance(version, bool) or not isinstance(version, (str, int, type(None))):
        raise TypeError(f"memoize: version must be a str, an int or None, got {type(version).__name__}")
    if isinstance(ignore, str):
        ignore = (ignore,)
    ignore = tuple(ignore)
    if not all(isinstance(name, str) for name in ignore):
        raise TypeError("memoize: ignore must be parameter names (str)")
    if key is not None and not callable(key):
        raise TypeError(f"memoize: key must be a callable, got {type(key).__name__}")
    if isinstance(lease_seconds, bool) or not isinstance(lease_seconds, (int, float)) or lease_seconds <= 0:
        raise ValueError(f"memoize: lease_seconds must be a positive number, got {lease_seconds!r}")
    if wait_timeout is not None and (
        isinstance(wait_timeout, bool) or not isinstance(wait_timeout, (int, float)) or wait_timeout < 0
    ):
        raise ValueError(f"memoize: wait_timeout must be None or a number >= 0, got {wait_timeout!r}")
    leases = store if lease_store is None else lease_store
    if single_flight:
        if leases.append_only:
            raise ValueError(
                "memoize: leases are rewritten and deleted, and the lease store is append-only: "
                "pass a mutable lease_store=, or single_flight=False"
            )
        value_class = leases.base_class_for_values
        if value_class is not None and not issubclass(str, value_class):
            raise ValueError(
                f"memoize: leases are str values, and the lease store only takes {value_class.__name__}: "
                "pass lease_store= (e.g. a LocalDict or FileDirDict beside it), or single_flight=False"
            )

    def decorate(func: Callable[P, R]) -> MemoizedFunction[P, R]:
        if isinstance(func, staticmethod):
            inner = memoize(
                store,
                version=version,
                ignore=ignore,
                key=key,
                cache_exceptions=cache_exceptions,
                single_flight=single_flight,
                lease_seconds=lease_seconds,
                wait_timeout=wait_timeout,
                lease_store=lease_store,
                include_self=include_self,
                refresh=refresh,
            )(func.__func__)
            return cast(MemoizedFunction[P, R], staticmethod(inner))
        if not isinstance(getattr(func, "__qualname__", None), str) and callable(func):
            raise TypeError(
                f"memoize: {func!r} has no qualified name to file its results under "
                "(memoize a function defined with def, then bind arguments with a wrapper)"
            )
        if isinstance(func, classmethod) or not callable(func):
            raise TypeError(
                f"memoize: cannot decorate {func!r}: decorate the plain function "
                "(put @classmethod above @memoize)"
            )
        return MemoizedFunction(
            func,
            store,
            version=version,
            ignore=ignore,
            key=key,
            cache_exceptions=cache_exceptions,
            single_flight=single_flight,
            lease_seconds=float(lease_seconds),
            wait_timeout=None if wait_timeout is None else float(wait_timeout),
            lease_store=lease_store,
            include_self=include_self,
            refresh=refresh,
        )

    return decorate
