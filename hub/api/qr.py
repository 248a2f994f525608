"""QR codes as SVG data URLs for the pages (a door's check-in link, a visitor's pass)."""

from __future__ import annotations

import base64
import io

import segno


def qr_data_url(text: str, *, scale: int = 6) -> str:
    """A QR code of `text` (error correction M) as an SVG data URL."""
    buf = io.BytesIO()
    segno.make(text, error="m").save(buf, kind="svg", scale=scale, border=2)
    return "data:image/svg+xml;base64," + base64.b64encode(buf.getvalue()).decode()
