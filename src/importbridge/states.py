"""The states a job moves through and the outcomes a row can have: plain enums, no attrs.

Apart from the model's classes so that what only names a state (a provider's ``status_words``,
a resume token's last state) does not pay for building the model (``importbridge.model``
re-exports all of it).
"""

from __future__ import annotations

import enum

__all__ = ["JobState", "RowOutcome", "settle_state"]


class JobState(str, enum.Enum):
    """``pending -> running -> complete | partial | failed``; a job may skip ``running``."""

    PENDING = "pending"
    RUNNING = "running"
    COMPLETE = "complete"
    PARTIAL = "partial"
    FAILED = "failed"

    @property
    def is_terminal(self) -> bool:
        """Terminal states are absorbing: nothing moves a job out of them."""
        return self in _TERMINAL

    @property
    def rank(self) -> int:
        """Position along the machine: pending 0, running 1, any terminal state 2."""
        return _RANK[self]

    def can_move_to(self, other: JobState) -> bool:
        """Whether a job in this state may next be seen in ``other`` (staying put is allowed)."""
        return other is self or other in _LEGAL_MOVES[self]

    def __str__(self) -> str:
        return self.value


_TERMINAL = frozenset({JobState.COMPLETE, JobState.PARTIAL, JobState.FAILED})
_RANK = {JobState.PENDING: 0, JobState.RUNNING: 1, **{state: 2 for state in _TERMINAL}}
_LEGAL_MOVES: dict[JobState, frozenset[JobState]] = {
    JobState.PENDING: frozenset({JobState.RUNNING, *_TERMINAL}),
    JobState.RUNNING: _TERMINAL,
    JobState.COMPLETE: frozenset(),
    JobState.PARTIAL: frozenset(),
    JobState.FAILED: frozenset(),
}


def settle_state(
    reported: JobState,
    *,
    succeeded: int | None,
    failed: int | None,
    job_error: bool = False,
) -> JobState:
    """Decide a terminal state by the counts, as the contract rules; the word only fills gaps.

    complete: every row landed (zero rows included); partial: some landed, some were rejected
    (or a job-level failure struck after some rows landed); failed: nothing landed.
    A count the provider did not give (None) is read from what its word implies, so a known
    count always wins over the word and the word never contradicts a known count. A job-level
    error with no ``succeeded`` count means nothing is known to have landed. Zero rows attempted
    and no error is complete, unless the provider itself said failed. Non-terminal states pass.
    """
    if reported not in _TERMINAL:
        return reported
    implied_landed, implied_rejected = _WORD_IMPLIES[reported]
    landed = (implied_landed and not job_error) if succeeded is None else succeeded > 0
    rejected = job_error or (implied_rejected if failed is None else failed > 0)
    if not (landed or rejected):
        return JobState.FAILED if reported is JobState.FAILED else JobState.COMPLETE
    return _BY_FACTS[landed, rejected]


# What a terminal word says when a count is missing: (some rows landed, some were rejected).
_WORD_IMPLIES: dict[JobState, tuple[bool, bool]] = {
    JobState.COMPLETE: (True, False),
    JobState.PARTIAL: (True, True),
    JobState.FAILED: (False, True),
}
_BY_FACTS: dict[tuple[bool, bool], JobState] = {
    (True, True): JobState.PARTIAL,
    (True, False): JobState.COMPLETE,
    (False, True): JobState.FAILED,
}


class RowOutcome(str, enum.Enum):
    """How one row of an import ended."""

    CREATED = "created"
    UPDATED = "updated"
    DUPLICATE = "duplicate"
    SKIPPED = "skipped"
    FAILED = "failed"

    def __str__(self) -> str:
        return self.value
