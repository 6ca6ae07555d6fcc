"""What the TalkValue simulator does with a CSV: column suggestions and row outcomes.

The rules (listed in docs/sandbox.md): a row without an email fails ``MISSING_EMAIL``, one
whose email does not parse fails ``INVALID_EMAIL``; an email seen earlier in the same file is
``duplicated``; an email matching a stored contact is updated (mode UPDATE) or skipped (SKIP);
anything else creates a contact. Emails match case-insensitively.
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Mapping, Sequence

import attrs

__all__ = [
    "OUTCOMES",
    "ParsedFile",
    "RowOutcome",
    "decide",
    "parse_csv",
    "suggest_field",
]

REQUIRED_FIELDS: tuple[str, ...] = ("EMAIL",)
# outcome -> the job's count field
OUTCOMES: dict[str, str] = {
    "new": "newCount",
    "updated": "updatedCount",
    "duplicated": "duplicatedCount",
    "skipped": "skipCount",
    "failed": "failedCount",
}
_SYNONYMS: dict[str, str] = {
    "email": "EMAIL", "emailaddress": "EMAIL", "mail": "EMAIL", "workemail": "EMAIL",
    "firstname": "FIRST_NAME", "givenname": "FIRST_NAME",
    "lastname": "LAST_NAME", "surname": "LAST_NAME", "familyname": "LAST_NAME",
    "name": "NAME", "fullname": "NAME",
    "phone": "PHONE", "phonenumber": "PHONE", "mobile": "PHONE",
    "jobtitle": "JOB_TITLE", "title": "JOB_TITLE", "position": "JOB_TITLE",
    "company": "COMPANY_NAME", "companyname": "COMPANY_NAME", "organization": "COMPANY_NAME",
    "address": "ADDRESS",
    "linkedin": "LINKEDIN_URL", "linkedinurl": "LINKEDIN_URL",
    "x": "X_URL", "xurl": "X_URL", "twitter": "X_URL", "twitterurl": "X_URL",
    "joinedat": "JOINED_AT", "joined": "JOINED_AT", "registeredat": "JOINED_AT",
}
_EMAIL = re.compile(r"^[^@\s]+@[^@\s.]+(\.[^@\s.]+)+$")


@attrs.frozen
class ParsedFile:
    """An analyzed upload: its header row and data rows (blank lines dropped)."""

    file_name: str
    headers: tuple[str, ...]
    rows: tuple[tuple[str, ...], ...]


@attrs.frozen
class RowOutcome:
    """What happened to one data row (``row_num`` counts data rows from 1, header excluded)."""

    row_num: int
    outcome: str
    error_code: str | None = None
    error_message: str | None = None
    raw_value: str = ""


def parse_csv(content: bytes, file_name: str) -> ParsedFile:
    """Decode and split a CSV upload; ``ValueError`` says why it is not one."""
    try:
        text = content.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise ValueError(f"the file is not UTF-8 text: {exc.reason} at byte {exc.start}") from None
    try:
        reader = csv.reader(io.StringIO(text, newline=""))
        lines = [row for row in reader if any(cell.strip() for cell in row)]
    except csv.Error as exc:
        raise ValueError(f"the file is not valid CSV: {exc}") from None
    if not lines:
        raise ValueError("the file is empty: a header row is required")
    return ParsedFile(file_name, tuple(cell.strip() for cell in lines[0]), tuple(tuple(r) for r in lines[1:]))


def suggest_field(header: str) -> str | None:
    """The target field a header most likely means (None: no guess)."""
    return _SYNONYMS.get(re.sub(r"[^a-z0-9]", "", header.lower()))


def decide(
    parsed: ParsedFile,
    mapping: Mapping[str, int],
    mode: str,
    contacts: dict[str, dict[str, str]],
) -> list[RowOutcome]:
    """Every row's outcome, applying new and updated rows to ``contacts`` (keyed by email)."""
    email_at = mapping["EMAIL"]
    seen: set[str] = set()
    outcomes: list[RowOutcome] = []
    for row_num, row in enumerate(parsed.rows, start=1):
        email = row[email_at].strip() if email_at < len(row) else ""
        if not email:
            outcomes.append(RowOutcome(row_num, "failed", "MISSING_EMAIL", "Email is required"))
            continue
        if not _EMAIL.match(email):
            outcomes.append(
                RowOutcome(row_num, "failed", "INVALID_EMAIL", "Email could not be parsed", email)
            )
            continue
        key = email.lower()
        if key in seen:
            outcomes.append(RowOutcome(row_num, "duplicated", raw_value=email))
            continue
        seen.add(key)
        values = _values(row, mapping)
        if key in contacts:
            if mode == "SKIP":
                outcomes.append(RowOutcome(row_num, "skipped", raw_value=email))
                continue
            contacts[key].update(values)
            outcomes.append(RowOutcome(row_num, "updated", raw_value=email))
            continue
        contacts[key] = values
        outcomes.append(RowOutcome(row_num, "new", raw_value=email))
    return outcomes


def _values(row: Sequence[str], mapping: Mapping[str, int]) -> dict[str, str]:
    return {field: row[index].strip() for field, index in mapping.items() if index < len(row)}
