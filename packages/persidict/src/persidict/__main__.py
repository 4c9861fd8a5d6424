"""``python -m persidict``: the ``persidict`` command line."""

from persidict._cli import main

raise SystemExit(main())
