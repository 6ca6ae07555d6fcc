"""The ``importbridge`` command (``python -m importbridge`` too).

argparse keeps start-up fast: ``importbridge --help`` imports no provider, scans no entry
point and loads neither requests nor rich. Each subcommand lives in its own module, loaded
only when it is the one being run (see ``commands.COMMANDS``).
"""

from __future__ import annotations

from .app import main

__all__ = ["main"]
