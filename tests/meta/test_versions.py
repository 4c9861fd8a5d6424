"""All six distributions share one version; the bump tool writes and checks it."""

from __future__ import annotations

import importlib.util
import shutil
import sys
from pathlib import Path
from types import ModuleType

ROOT = Path(__file__).resolve().parents[2]


def _load(path: Path, name: str) -> ModuleType:
    spec = importlib.util.spec_from_file_location(name, path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    spec.loader.exec_module(module)
    return module


def test_versions_agree() -> None:
    bump = _load(ROOT / "tools" / "bump_version.py", "_persidict_bump_version")
    assert bump.check() == []


def test_bump_rewrites_every_place_and_check_catches_drift(tmp_path: Path) -> None:
    copy = tmp_path / "repo"
    shutil.copytree(ROOT / "tools", copy / "tools")
    shutil.copy(ROOT / "VERSION", copy / "VERSION")
    shutil.copy(ROOT / "LICENSE", copy / "LICENSE")
    for folder in (ROOT / "packages").iterdir():
        if (folder / "pyproject.toml").exists():
            target = copy / "packages" / folder.name
            target.mkdir(parents=True)
            shutil.copy(folder / "pyproject.toml", target / "pyproject.toml")
            shutil.copy(folder / "LICENSE", target / "LICENSE")
            for version_py in folder.glob("src/*/_version.py"):
                (target / version_py.parent.relative_to(folder)).mkdir(parents=True)
                shutil.copy(version_py, target / version_py.relative_to(folder))
    bump = _load(copy / "tools" / "bump_version.py", "_persidict_bump_version_copy")
    assert bump.check() == []

    bump.write_version("9.8.7")
    assert bump.check() == []
    assert (copy / "VERSION").read_text().strip() == "9.8.7"
    s3 = (copy / "packages" / "persidict-s3" / "pyproject.toml").read_text()
    assert '"persidict-core==9.8.7"' in s3 and '"persidict-cache==9.8.7"' in s3
    safestr_version = copy / "packages/safestr/src/persidict_safestr/_version.py"
    assert '__version__ = "9.8.7"' in safestr_version.read_text()

    multi = copy / "packages" / "persidict-multi" / "pyproject.toml"
    multi.write_text(multi.read_text().replace("persidict-core==9.8.7", "persidict-core==9.8.6"))
    (copy / "packages" / "persidict-cache" / "LICENSE").write_text("changed")
    problems = bump.check()
    assert any("persidict-multi" in p and "9.8.6" in p for p in problems)
    assert any("persidict-cache/LICENSE" in p for p in problems)
