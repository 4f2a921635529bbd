"""Subcommands added by the later parts of lantian (simulation, meteorology, model, response, evaluation)."""
from __future__ import annotations


def register(sub, data_args) -> None:
    """Add the subcommands to the ``lantian`` parser's subparsers."""
