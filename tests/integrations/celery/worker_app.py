"""The app the test workers run (``celery -A tests.integrations.celery.worker_app worker``).

The broker and the visibility timeout come from the environment the fixtures set, so the
workers and the test's own client build the same app.
"""

from __future__ import annotations

import os

from importbridge.integrations.celery import create_app

app, tasks = create_app(
    os.environ["IB_TEST_BROKER"],
    visibility_timeout=float(os.environ.get("IB_TEST_VISIBILITY", "8")),
    countdown_cap=float(os.environ.get("IB_TEST_COUNTDOWN_CAP", "2")),
    # look for a dead worker's messages every second (Redis's default: every 100 s)
    transport_options={"unacked_restore_interval": 1, "unacked_restore_throttle": 1},
)
