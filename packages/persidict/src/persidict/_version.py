"""The version of the persidict distribution (written by tools/bump_version.py)."""

__version__ = "0.1.0"
