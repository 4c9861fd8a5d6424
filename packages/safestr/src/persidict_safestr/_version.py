"""The version of the persidict-safestr distribution (written by tools/bump_version.py)."""

__version__ = "0.1.0"
