"""Root pytest configuration, shared by every tests/<package>/ folder.

Kept minimal on purpose: each package's fixtures live in its own tests/<package>/conftest.py,
so that a package's tests run in an environment that has only that package installed. What is
here needs nothing but pytest (moto is imported inside its fixture): the isolation of AWS
credentials and moto's S3 server over HTTP (one per session), both shared by the S3 and the
reliability tests, and the reliability report, whose hooks must live here: under pytest-xdist
the controller process loads only this conftest (the workers collect the tests). The hooks
import the report module only when reliability tests ran, so a run of another package's tests
loads nothing of the reliability suite.
"""

from __future__ import annotations

import sys
from collections import Counter
from collections.abc import Callable, Iterator
from types import ModuleType
from typing import Any

import pytest

# Variables through which boto3 could find real credentials, a profile or another endpoint.
_AWS_VARIABLES_TO_HIDE = (
    "AWS_SESSION_TOKEN",
    "AWS_SECURITY_TOKEN",
    "AWS_PROFILE",
    "AWS_DEFAULT_PROFILE",
    "AWS_ENDPOINT_URL",
    "AWS_ENDPOINT_URL_S3",
    "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI",
    "AWS_CONTAINER_CREDENTIALS_FULL_URI",
    "AWS_WEB_IDENTITY_TOKEN_FILE",
    "AWS_ROLE_ARN",
)


@pytest.fixture
def use_dummy_aws_credentials(
    monkeypatch: pytest.MonkeyPatch, tmp_path_factory: pytest.TempPathFactory
) -> Callable[[str, str], None]:
    """Return a function that sets dummy credentials and hides the developer's AWS setup.

    S3 tests must never reach a real account: credentials are fake, the config and credential
    files are empty ones, the instance metadata service is off, and profile or endpoint
    variables are removed.
    """

    def use(key_id: str, secret: str) -> None:
        empty = tmp_path_factory.mktemp("aws-config")
        monkeypatch.setenv("AWS_ACCESS_KEY_ID", key_id)
        monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", secret)
        monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")
        monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(empty / "credentials"))
        monkeypatch.setenv("AWS_CONFIG_FILE", str(empty / "config"))
        monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")
        for name in _AWS_VARIABLES_TO_HIDE:
            monkeypatch.delenv(name, raising=False)

    return use


# ---------------------------------------------------------------- moto's S3 server
@pytest.fixture(scope="session")
def moto_server() -> Iterator[str]:
    """moto's S3 server over real HTTP on 127.0.0.1, on a free port; yields its URL.

    Why a server and not only ``mock_aws``: the in-process mock replaces botocore's HTTP
    layer, so it cannot show what only real requests do (connection pools shared by threads,
    retries of 5xx answers, lost replies, ``AWS_ENDPOINT_URL``, a proxy in between). The
    server is bound to 127.0.0.1 (never reachable from outside), on a port the OS picks
    (port 0: no clash between parallel runs), started once per session and stopped at the
    end; tests isolate themselves with fresh bucket names.
    """
    server_module = pytest.importorskip("moto.moto_server.threaded_moto_server")
    server = server_module.ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    try:
        yield f"http://{host}:{port}"
    finally:
        server.stop()


# ---------------------------------------------------------------- the reliability report
_REPORT_MODULE = "tests.reliability._report"
# Under pytest-xdist: the figures the workers handed back to this (controller) process.
_WORKER_FIGURES: Counter[str] = Counter()


# Integration tests: they race spawned processes, moto's HTTP server or the console script in
# subprocesses, so their outcome depends on the operating system and the servers, not on the
# Python version, and they take most of the suite's time. `nox -s tests` runs them on the Python
# that runs nox only (the other interpreters run `-m "not integration"`), and the isolated
# package runs skip them too: they prove a package's dependencies, which the fast tests show.
_INTEGRATION_PATHS = (
    "tests/cli/test_cp.py",
    "tests/reliability/",
    "tests/core/test_conditional_races.py",
    "tests/core/test_multiprocess.py",
    "tests/cache/test_coherence_multiprocess.py",
    "tests/cache/test_memoize_flight.py",
    "tests/s3/test_conditional.py",
    "tests/s3/test_http.py",
    "tests/s3/test_memoize_s3.py",
)


def _is_integration(item: pytest.Item) -> bool:
    path = item.path.as_posix()
    if any(f"/{part}" in path for part in _INTEGRATION_PATHS):
        return True
    test_class = getattr(item, "cls", None)
    if test_class is not None and test_class.__name__.endswith("OverHTTP"):  # conformance over moto's server
        return True
    # Large S3 values over moto's server (the in-process variants stay fast).
    if path.endswith("/tests/s3/test_multipart.py"):
        return "[http]" in item.name or "server_url" in getattr(item, "fixturenames", ())
    # The console script's commands against S3 (the file-store variants stay fast).
    return "/tests/cli/" in path and "s3" in item.name


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Mark the integration tests ``integration`` (select or skip them with ``-m``)."""
    for item in items:
        if _is_integration(item):
            item.add_marker(pytest.mark.integration)


def _loaded_report() -> ModuleType | None:
    """Return the reliability report module if the reliability tests imported it, else None."""
    return sys.modules.get(_REPORT_MODULE)


def pytest_sessionfinish(session: pytest.Session) -> None:
    """Under pytest-xdist, hand this worker's figures to the controller (see below)."""
    workeroutput = getattr(session.config, "workeroutput", None)
    report = _loaded_report()
    if workeroutput is not None and report is not None:
        workeroutput["persidict_reliability_figures"] = dict(report.FIGURES)


@pytest.hookimpl(optionalhook=True)
def pytest_testnodedown(node: Any, error: object) -> None:
    """Under pytest-xdist, add a finished worker's figures to the controller's report."""
    _WORKER_FIGURES.update(getattr(node, "workeroutput", {}).get("persidict_reliability_figures", {}))


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    """Print the figures of the reliability scenarios that ran."""
    if _loaded_report() is None and not _WORKER_FIGURES:
        return  # no reliability test ran here: do not import the suite
    from tests.reliability import _report

    for name, amount in _WORKER_FIGURES.items():
        _report.add(name, amount)
    _WORKER_FIGURES.clear()
    lines = _report.summary()
    if not lines:
        return
    terminalreporter.section("persidict reliability report")
    for line in lines:
        terminalreporter.write_line(line)
