"""People and machines: user accounts, sign-in locks, API keys."""

from __future__ import annotations

from pathlib import Path

import click

from hub.cli.support import (
    identity_of,
)
from hub.errors import HubError
from hub.identity.roles import Role


@click.group()
def user() -> None:
    """Manage user accounts."""


@user.command("add")
@click.argument("username")
@click.option(
    "--role",
    "roles",
    multiple=True,
    required=True,
    type=click.Choice([r.value for r in Role]),
    help="A role (repeat for several).",
)
@click.option("--name", "display_name", default="", help="Display name.")
@click.option("--unit", "work_unit", default=None, help="Work unit id from the site file.")
@click.option("--email", default=None, help="E-mail address for alarm notifications.")
@click.option(
    "-c",
    "--config",
    "site_file",
    type=click.Path(path_type=Path),
    default=None,
    help="Site file, to check the work unit.",
)
@click.password_option(
    help="Password (prompted when omitted; HUB_NEW_PASSWORD also works).", envvar="HUB_NEW_PASSWORD"
)
def user_add(
    username: str,
    roles: tuple[str, ...],
    display_name: str,
    work_unit: str | None,
    email: str | None,
    site_file: Path | None,
    password: str,
) -> None:
    """Create a user account."""
    identity = identity_of(site_file)
    try:
        view = identity.create_user(
            username,
            password,
            [Role(r) for r in roles],
            display_name=display_name,
            work_unit=work_unit,
            email=email,
            actor="cli",
        )
    except HubError as err:
        raise click.ClickException(str(err)) from err
    click.echo(f"created user {view.username} with roles {', '.join(view.roles)}")


@user.command("unlock")
@click.argument("username", required=False)
@click.option("--address", default=None, help="Lift a client address's lock instead.")
def user_unlock(username: str | None, address: str | None) -> None:
    """Lift a sign-in lock (an account's, or with --address a client address's)."""
    if bool(username) == bool(address):
        raise click.UsageError("name a user or give --address")
    identity = identity_of(None)
    keys = [f"addr:{address}", f"cred:{address}"] if address else [f"account:{username}".lower()]
    lifted = [k for k in keys if identity.lift_lock(k, actor="cli")]
    click.echo(f"lifted {', '.join(lifted)}" if lifted else "nothing was locked")


@user.command("locks")
def user_locks() -> None:
    """Accounts and addresses with failed sign-ins now (locked ones with their end)."""
    for row in identity_of(None).throttle.locks():
        until = row["blocked_until"]
        state = f"waits until {until:%Y-%m-%d %H:%M:%S}Z" if until else "free"
        click.echo(f"{row['key']}\t{row['failures']} failures\t{state}")


@click.group()
def key() -> None:
    """Manage API keys for machines (gate terminals, trackers, displays)."""


@key.command("add")
@click.argument("name")
@click.option(
    "--role",
    required=True,
    type=click.Choice(
        sorted(r.value for r in (Role.GATE_TERMINAL, Role.DEVICE, Role.DISPLAY, Role.ADMIN))
    ),
)
@click.option("--unit", "work_unit", default=None, help="Work unit id.")
@click.option(
    "--tracker",
    "trackers",
    multiple=True,
    help="A tracker this device key reports for (its id as it sends it); repeat for more.",
)
def key_add(name: str, role: str, work_unit: str | None, trackers: tuple[str, ...]) -> None:
    """Create an API key and print it (it is shown only once)."""
    identity = identity_of(None)
    try:
        raw, _ = identity.create_api_key(
            name, Role(role), actor="cli", work_unit=work_unit, trackers=trackers
        )
    except HubError as err:
        raise click.ClickException(str(err)) from err
    click.echo(raw)
