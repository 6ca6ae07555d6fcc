"""``importbridge providers``: what is installed, what each provider needs, what failed to load."""

from __future__ import annotations

import argparse
from typing import Any

from .exits import ExitCode
from .output import print_json, print_table

__all__ = ["add_arguments", "run"]


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.epilog = (
        "Exits 0, or 5 when a plugin failed to load (so it doubles as an installation check).\n"
        + (parser.epilog or "")
    )


def _settings(name: str) -> list[dict[str, Any]]:
    from importbridge.plugins import get_provider

    return [
        {"name": s.name, "env": s.env, "required": s.required and s.default is None,
         "secret": s.secret, "default": s.default}
        for s in get_provider(name).settings
    ]


def run(args: argparse.Namespace) -> int:
    from importbridge.plugins import providers

    infos = providers()
    documents: list[dict[str, Any]] = [
        {
            "name": info.name,
            "version": info.version,
            "distribution": info.distribution,
            "plugin": info.plugin,
            "capabilities": list(info.capabilities),
            "settings": _settings(info.name) if info.ok else [],
            "error": info.error,
        }
        for info in infos
    ]
    if args.json:
        for document in documents:
            print_json(document)
    else:
        print_table(
            ("provider", "version", "distribution", "capabilities", "settings (environment)", "status"),
            [
                (
                    doc["name"],
                    doc["version"] or "",
                    doc["distribution"],
                    ", ".join(doc["capabilities"]),
                    ", ".join(setting["env"] for setting in doc["settings"]),
                    "ok" if doc["error"] is None else f"failed to load: {doc['error']}",
                )
                for doc in documents
            ],
        )
    return int(ExitCode.ERROR if any(doc["error"] for doc in documents) else ExitCode.COMPLETE)
