"""`hub patrol`: what a checkpoint's offline code device needs."""

from __future__ import annotations

from pathlib import Path

import click

from hub.cli.support import DEMO_SITE, settings_from
from hub.site import SiteConfigError


@click.group()
def patrol() -> None:
    """Guard patrols."""


@patrol.command("key")
@click.argument("checkpoint")
@click.option(
    "--site",
    "site_file",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    default=None,
    help="Site file (default: HUB_SITE_FILE, else the demo compound).",
)
def patrol_key(checkpoint: str, site_file: Path | None) -> None:
    """Print a checkpoint's code key (TOTP, base32) and its otpauth:// link, to program a
    token or a display that shows the code offline, and the keys and URL to program its NFC
    tag with. Keep them secret: they are the checkpoint."""
    import pyotp

    from hub.runtime import load_site_for_hub
    from hub.services.patrol import CheckpointCodes

    settings = settings_from(site_file=site_file)
    try:
        site = load_site_for_hub(settings.site_file or DEMO_SITE)
    except SiteConfigError as err:
        raise click.ClickException(str(err)) from err
    found = next((c for c in site.checkpoints if c.id == checkpoint), None)
    if found is None:
        raise click.ClickException(f"no checkpoint {checkpoint!r} in the site file")
    period = (found.proof or site.site.patrol.proof).code.period_s
    codes = CheckpointCodes(site, settings.resolve_secret().encode())
    key = codes.key(checkpoint)
    totp = pyotp.TOTP(key, digits=8, interval=period)
    click.echo(f"checkpoint: {checkpoint} ({found.name})")
    click.echo(f"key (base32): {key}")
    click.echo(
        f"TOTP: 8 digits, every {period} s, HMAC-SHA1; the QR holds DYP1:{checkpoint}:<code>"
    )
    click.echo(totp.provisioning_uri(name=checkpoint, issuer_name="dayuan hub"))
    meta, file = codes.tag_keys(checkpoint)
    base = (settings.public_url or "https://<hub>").rstrip("/")
    click.echo("NFC tag (NTAG 424 DNA, SUN: UID and counter mirrored, MAC over nothing):")
    click.echo(f"  SDMMetaReadKey: {meta.hex().upper()}")
    click.echo(f"  SDMFileReadKey: {file.hex().upper()}")
    click.echo(f"  URL: {base}/guard.html#scan=DYN1:{checkpoint}:{{PICCData}}:{{SDMMAC}}")
