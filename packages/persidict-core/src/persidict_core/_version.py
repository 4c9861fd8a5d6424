"""The version of the persidict-core distribution (written by tools/bump_version.py)."""

__version__ = "0.1.0"
