"""The version of the persidict-s3 distribution (written by tools/bump_version.py)."""

__version__ = "0.1.0"
