"""The "from a checkout" install instructions agree with the dependencies the packages declare.

`nox -s install_from_checkout` runs the documented commands for real; this checks, fast, that
they and the table of folders name every sibling each distribution needs, its own folder last.
"""

from __future__ import annotations

import re
from pathlib import Path

import noxfile

ROOT = Path(__file__).resolve().parents[2]
INSTALLATION = (ROOT / "docs" / "getting-started" / "installation.md").read_text(encoding="utf-8")
README = (ROOT / "README.md").read_text(encoding="utf-8")


def _folders(command: str) -> list[str]:
    return [word.removeprefix("./packages/") for word in command.split()[2:]]


def test_every_documented_command_names_a_whole_closure() -> None:
    commands = noxfile.documented_install_commands(README, INSTALLATION)
    assert len(commands) >= 2
    for command in commands:
        folders = _folders(command)
        assert all(word.startswith("./packages/") for word in command.split()[2:]), command
        for folder in folders:
            missing = set(noxfile._sibling_closure(folder)) - set(folders)
            assert not missing, f"{command!r} lacks {missing} that {folder} needs"


def test_readme_installs_everything_with_the_docs_command() -> None:
    (readme_command,) = noxfile.documented_install_commands(README)
    assert sorted(_folders(readme_command)) == sorted(noxfile.PACKAGES)
    assert readme_command in noxfile.documented_install_commands(INSTALLATION)


def test_the_folder_table_matches_the_declared_dependencies() -> None:
    found = re.findall(r"^\| `(persidict[a-z0-9-]*)` \| (.+?) \|$", INSTALLATION, re.MULTILINE)
    rows = {dist: cell for dist, cell in found if "./packages/" in cell or "all six" in cell}
    assert set(rows) == {dist for dist, _, _ in noxfile.PACKAGES.values()}
    for folder, (dist, _, _) in noxfile.PACKAGES.items():
        closure = noxfile._sibling_closure(folder)
        if rows[dist].startswith("all six"):
            assert sorted(closure) == sorted(noxfile.PACKAGES)
            continue
        named = re.findall(r"\./packages/([a-z0-9-]+)", rows[dist])
        assert sorted(named) == sorted(closure), dist
        assert named[-1] == folder, dist


def test_the_index_warning_is_in_both_places() -> None:
    for text in (README, INSTALLATION):
        assert "installs an older, unrelated project of the same name" in " ".join(text.split())
