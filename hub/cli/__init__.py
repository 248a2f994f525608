"""The `hub` command: run, demo, check, migrate, users and keys, backups, reports."""

from __future__ import annotations

import click

from hub.cli.accounts import key, user
from hub.cli.operations import backup_cmd, bacnet, modbus, report, restore_cmd
from hub.cli.patrol import patrol
from hub.cli.serve import _demo_history, check, demo, migrate, run

__all__ = ["_demo_history", "main"]


@click.group()
@click.version_option(package_name="dayuan-hub")
def main() -> None:
    """dayuan hub — smart-building and security supervision for an administrative compound."""


for command in (
    check,
    run,
    demo,
    migrate,
    user,
    key,
    backup_cmd,
    restore_cmd,
    bacnet,
    modbus,
    report,
    patrol,
):
    main.add_command(command)
