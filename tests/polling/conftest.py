"""Fixtures for the polling tests (the fakes live in polling_fakes.py)."""

from __future__ import annotations

import random

import pytest

import importbridge

from .polling_fakes import VirtualClock


@pytest.fixture
def clock() -> VirtualClock:
    return VirtualClock()


@pytest.fixture
def policy(clock: VirtualClock) -> importbridge.PollPolicy:
    return importbridge.PollPolicy(clock=clock, sleep=clock.sleep, random=random.Random(7))
