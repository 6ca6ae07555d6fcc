"""``python -m importbridge``: the same command as the ``importbridge`` console script."""

from __future__ import annotations

from importbridge.cli import main

raise SystemExit(main())
