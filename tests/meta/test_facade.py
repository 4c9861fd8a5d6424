"""The persidict facade: its name table, __all__ and TYPE_CHECKING block agree, and every name resolves."""

from __future__ import annotations

import ast
import importlib
import importlib.metadata
import importlib.util
import subprocess
import sys
from pathlib import Path

import pytest

import persidict

ROOT = Path(__file__).resolve().parents[2]
FACADE_SOURCE = ROOT / "packages" / "persidict" / "src" / "persidict" / "__init__.py"

# The public names each package must provide, as agreed in issue 2 (ARCHITECTURE.md).
EXPECTED: dict[str, set[str]] = {
    "persidict_safestr": {
        "SafeStrTuple",
        "NonEmptySafeStrTuple",
        "get_safe_chars",
        "replace_unsafe_chars",
        "contains_unsafe_chars",
        "sign_safe_str_tuple",
        "unsign_safe_str_tuple",
        "SAFE_CHARS",
        "SAFE_STRING_MAX_LENGTH",
        "BoundedCache",
        "BoundedSet",
    },
    "persidict_core": {
        "PersiDict",
        "LocalDict",
        "FileDirDict",
        "EmptyDict",
        "KEEP_CURRENT",
        "DELETE_CURRENT",
        "ETAG_HAS_NOT_CHANGED",
        "Joker",
        "KeepCurrentFlag",
        "DeleteCurrentFlag",
        "ETagHasNotChangedFlag",
        "PersiDictError",
        "MutationPolicyError",
        "ConcurrencyConflictError",
        "BackendError",
        "MissingBackendError",
        "SerializationError",
        "DeserializationError",
        "ConsistencyCheckError",
        "StoreConfig",
        "FileDirDictConfig",
        "LocalDictConfig",
        "EmptyDictConfig",
        "store_from_config",
        "store_factory",
        "deferred_config_class",
        "parameter_vocabulary",
        "KNOWN_PARAMETER_NAMES",
        "EntryInfo",
        "StoreUrl",
        "open_store",
        "register_url_scheme",
        "format_store_url",
        "ALWAYS_RETRIEVE",
        "ANY_ETAG",
        "ETAG_HAS_CHANGED",
        "ETAG_IS_THE_SAME",
        "IF_ETAG_CHANGED",
        "ITEM_NOT_AVAILABLE",
        "NEVER_RETRIEVE",
        "VALUE_NOT_RETRIEVED",
        "AlwaysRetrieveFlag",
        "AnyETagFlag",
        "ConditionalOperationResult",
        "ETagConditionFlag",
        "ETagHasChangedFlag",
        "ETagIfExists",
        "ETagIsTheSameFlag",
        "ETagValue",
        "IfETagChangedRetrieveFlag",
        "ItemNotAvailableFlag",
        "NeverRetrieveFlag",
        "OperationResult",
        "RetrieveValueFlag",
        "TransformingFunction",
        "ValueNotRetrievedFlag",
        "ValueType",
        "Codec",
        "get_codec",
        "register_codec",
        "register_json_class",
        "lazy_exports",
    },
    "persidict_cache": {
        "MutableDictCached",
        "AppendOnlyDictCached",
        "WriteOnceDict",
        "MutableDictCachedConfig",
        "AppendOnlyDictCachedConfig",
        "WriteOnceDictConfig",
        "memoize",
        "MemoizedFunction",
        "MemoStats",
        "ConditionalDelegation",
        "MainStoreListing",
    },
    "persidict_s3": {"BasicS3Dict", "S3Dict", "S3Dict_FileDirCached", "BasicS3DictConfig", "S3DictConfig"},
    "persidict_multi": {"OverlappingMultiDict", "OverlappingMultiDictConfig"},
}


def _all_order(name: str) -> tuple[int, str]:
    """Sort key of ruff's RUF022 (isort-style): CONSTANTS, then Classes, then everything else."""
    if name.upper() == name and any(c.isalpha() for c in name):
        return (0, name)
    return (1 if name[0].isupper() else 2, name)


DISTRIBUTION = {
    "persidict_safestr": "persidict-safestr",
    "persidict_core": "persidict-core",
    "persidict_cache": "persidict-cache",
    "persidict_s3": "persidict-s3",
    "persidict_multi": "persidict-multi",
}


def _parse_facade() -> tuple[dict[str, tuple[str, str]], list[str], dict[str, str]]:
    """Return (name table, __all__, TYPE_CHECKING imports name -> module) read from the source."""
    tree = ast.parse(FACADE_SOURCE.read_text(encoding="utf-8"))
    aliases: dict[str, tuple[str, str]] = {}
    table: dict[str, tuple[str, str]] = {}
    all_names: list[str] = []
    type_checking: dict[str, str] = {}
    for node in tree.body:
        if isinstance(node, ast.Assign) and len(node.targets) == 1 and isinstance(node.targets[0], ast.Name):
            target = node.targets[0].id
            if target == "__all__":
                all_names = list(ast.literal_eval(node.value))
            elif isinstance(node.value, ast.Tuple):
                aliases[target] = ast.literal_eval(node.value)
        elif isinstance(node, ast.AnnAssign) and isinstance(node.target, ast.Name):
            if node.target.id == "_LAZY_NAMES":
                assert isinstance(node.value, ast.Dict)
                for key, value in zip(node.value.keys, node.value.values, strict=True):
                    assert isinstance(key, ast.Constant) and isinstance(value, ast.Name)
                    assert isinstance(key.value, str)
                    table[key.value] = aliases[value.id]
        elif isinstance(node, ast.If) and isinstance(node.test, ast.Name) and node.test.id == "TYPE_CHECKING":
            for statement in node.body:
                assert isinstance(statement, ast.ImportFrom), "only `from X import Y` under TYPE_CHECKING"
                assert statement.module is not None
                for alias in statement.names:
                    assert alias.asname is None, f"{alias.name} is renamed under TYPE_CHECKING"
                    type_checking[alias.name] = statement.module
    return table, all_names, type_checking


def test_table_all_and_type_checking_agree() -> None:
    table, all_names, type_checking = _parse_facade()
    assert table, "the name table was not found"
    assert all_names == sorted(all_names, key=_all_order), "__all__ must be sorted (ruff RUF022)"
    assert len(all_names) == len(set(all_names)), "__all__ has duplicates"
    assert set(all_names) == set(table)
    assert type_checking == {name: module for name, (module, _) in table.items()}


def test_table_matches_the_agreed_public_names() -> None:
    table, _, _ = _parse_facade()
    expected = {name: (module, DISTRIBUTION[module]) for module, names in EXPECTED.items() for name in names}
    assert table == expected


def test_runtime_module_matches_its_source() -> None:
    assert list(persidict.__all__) == _parse_facade()[1]
    assert set(persidict.__all__) <= set(dir(persidict))
    assert "__version__" in dir(persidict)


@pytest.mark.parametrize("module_name", sorted(EXPECTED))
def test_every_name_resolves_from_its_installed_package(module_name: str) -> None:
    if importlib.util.find_spec(module_name) is None:
        pytest.skip(f"{DISTRIBUTION[module_name]} is not installed here")
    module = importlib.import_module(module_name)
    exported = set(getattr(module, "__all__", ()))
    for name in sorted(EXPECTED[module_name]):
        assert name in exported, f"{module_name}.__all__ lacks {name}"
        assert getattr(persidict, name) is getattr(module, name)
        assert name in vars(persidict), f"persidict.{name} was not cached after first use"


@pytest.mark.parametrize("module_name", sorted(EXPECTED))
def test_each_package_has_sorted_all_and_the_lockstep_version(module_name: str) -> None:
    if importlib.util.find_spec(module_name) is None:
        pytest.skip(f"{DISTRIBUTION[module_name]} is not installed here")
    module = importlib.import_module(module_name)
    all_names = list(module.__all__)
    assert all_names == sorted(all_names, key=_all_order), f"{module_name}.__all__ is not sorted (RUF022)"
    assert module.__version__ == importlib.metadata.version(DISTRIBUTION[module_name])


def test_unknown_attribute_is_an_attribute_error() -> None:
    with pytest.raises(AttributeError, match="no_such_name"):
        _ = persidict.no_such_name
    assert not hasattr(persidict, "no_such_name")


def test_version_is_the_installed_distribution_version() -> None:
    assert persidict.__version__ == importlib.metadata.version("persidict")


def _run(code: str) -> None:
    subprocess.run([sys.executable, "-c", code], check=True, timeout=120)


def test_import_persidict_imports_nothing_heavy() -> None:
    _run(
        "import sys, persidict\n"
        "heavy = {'boto3', 'botocore', 'pydantic', 'persidict_core', 'persidict_s3', 'persidict_cache'}\n"
        "loaded = sorted(heavy & set(sys.modules))\n"
        "assert not loaded, loaded\n"
    )


def test_import_persidict_and_open_store_import_no_cli_library() -> None:
    if importlib.util.find_spec("persidict_core") is None:
        pytest.skip("persidict-core is not installed here")
    _run(
        "import sys, persidict\n"
        "store = persidict.open_store('memory://')\n"
        "store['k'] = 1\n"
        "loaded = sorted({'click', 'rich', 'persidict._cli', 'boto3'} & set(sys.modules))\n"
        "assert not loaded, loaded\n"
    )


def test_local_stores_do_not_import_boto3() -> None:
    if importlib.util.find_spec("persidict_core") is None:
        pytest.skip("persidict-core is not installed here")
    _run(
        "import sys, persidict\n"
        "persidict.FileDirDict, persidict.LocalDict, persidict.SafeStrTuple\n"
        "loaded = sorted({'boto3', 'botocore'} & set(sys.modules))\n"
        "assert not loaded, loaded\n"
    )


def test_importing_a_store_class_loads_no_pydantic() -> None:
    """The config models (pydantic) are imported with the first config, not with the store classes."""
    if importlib.util.find_spec("persidict_s3") is None:
        pytest.skip("persidict-s3 is not installed here")
    _run(
        "import sys\n"
        "from persidict import BasicS3Dict, FileDirDict, LocalDict, S3Dict\n"
        "from persidict import MutableDictCached, WriteOnceDict\n"
        "heavy = {'pydantic', 'pydantic_core', 'boto3', 'botocore', 'numpy', 'pandas', 'asyncio'}\n"
        "loaded = sorted(heavy & set(sys.modules))\n"
        "assert not loaded, loaded\n"
        "import tempfile\n"
        "store = FileDirDict(base_dir=tempfile.mkdtemp())\n"
        "store['k'] = 1\n"
        "assert store['k'] == 1 and 'pydantic' in sys.modules\n"
        "assert FileDirDict.config_class is type(store.config)\n"
        "from persidict import FileDirDictConfig, S3DictConfig\n"
        "assert FileDirDict.config_class is FileDirDictConfig and S3Dict.config_class is S3DictConfig\n"
    )
