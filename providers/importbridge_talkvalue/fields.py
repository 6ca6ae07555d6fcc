"""TalkValue's documented import target fields: one list for the client and the simulator."""

from __future__ import annotations

__all__ = ["TARGET_FIELDS"]

#: the ``targetField`` values ``POST /path/import`` accepts, in the docs' order
TARGET_FIELDS: tuple[str, ...] = (
    "EMAIL",
    "FIRST_NAME",
    "LAST_NAME",
    "NAME",
    "PHONE",
    "JOB_TITLE",
    "COMPANY_NAME",
    "ADDRESS",
    "LINKEDIN_URL",
    "X_URL",
    "JOINED_AT",
)
