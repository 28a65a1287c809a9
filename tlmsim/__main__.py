"""``python -m tlmsim`` is the ``tlmsim`` command."""

from tlmsim.cli import main

raise SystemExit(main())
