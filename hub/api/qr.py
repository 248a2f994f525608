"""QR codes as SVG data URLs for the pages (a door's check-in link, a visitor's pass)."""

from __future__ import annotations

import base64
import io

import segno


def qr_data_url(text: str, *, scale: int = 6) -> str:
    """A QR code of `text` (error correction M) as an SVG data URL: black on white with the
    standard four-module quiet zone, whatever the page's background (a dark page behind a
    transparent code leaves scanners 1.3:1 contrast)."""
    buf = io.BytesIO()
    segno.make(text, error="m").save(
        buf, kind="svg", scale=scale, border=4, dark="#000000", light="#ffffff"
    )
    return "data:image/svg+xml;base64," + base64.b64encode(buf.getvalue()).decode()
