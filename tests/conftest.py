"""Root pytest configuration, shared by every tests/<package>/ folder.

Kept minimal on purpose: each package's fixtures live in its own tests/<package>/conftest.py,
so that a package's tests run in an environment that has only that package installed.
"""
