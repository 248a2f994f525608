"""Printable QR label sheets (PDF, A4, 3 x 8 labels): each label's code opens the repair
report form pre-filled with its asset."""

from __future__ import annotations

import io
from collections.abc import Sequence
from typing import Any
from urllib.parse import quote

from reportlab.graphics import renderPDF
from reportlab.graphics.barcode.qr import QrCodeWidget
from reportlab.graphics.shapes import Drawing
from reportlab.lib.pagesizes import A4
from reportlab.lib.units import mm
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.cidfonts import UnicodeCIDFont
from reportlab.pdfgen import canvas

FONT = "STSong-Light"  # one of the PDF standard CJK fonts: no font file to ship or embed
COLS, ROWS = 3, 8
QR_MM = 22


def report_url(base_url: str, asset_id: str) -> str:
    """The address a label's QR code holds."""
    return f"{base_url.rstrip('/')}/report.html?asset={quote(asset_id)}"


def label_sheet(assets: Sequence[dict[str, Any]], base_url: str, site_name: str) -> bytes:
    """A PDF of labels, one per asset."""
    if FONT not in pdfmetrics.getRegisteredFontNames():
        pdfmetrics.registerFont(UnicodeCIDFont(FONT))
    buf = io.BytesIO()
    pdf = canvas.Canvas(buf, pagesize=A4)
    pdf.setTitle(f"{site_name} 设备报修二维码")
    width, height = A4
    cell_w, cell_h = width / COLS, height / ROWS
    for i, asset in enumerate(assets):
        if i and i % (COLS * ROWS) == 0:
            pdf.showPage()
        col, row = i % COLS, (i // COLS) % ROWS
        x, y = col * cell_w, height - (row + 1) * cell_h
        widget = QrCodeWidget(report_url(base_url, asset["id"]), barLevel="M")
        x0, y0, x1, y1 = widget.getBounds()
        size = QR_MM * mm
        drawing = Drawing(size, size, transform=[size / (x1 - x0), 0, 0, size / (y1 - y0), 0, 0])
        drawing.add(widget)
        renderPDF.draw(drawing, pdf, x + 4 * mm, y + (cell_h - size) / 2)
        tx = x + 4 * mm + size + 2 * mm
        pdf.setFont(FONT, 9)
        pdf.drawString(tx, y + cell_h - 12 * mm, str(asset["name"])[:14])
        pdf.setFont("Helvetica", 7)
        pdf.drawString(tx, y + cell_h - 17 * mm, str(asset["id"])[:28])
        pdf.setFont(FONT, 7)
        pdf.drawString(tx, y + cell_h - 22 * mm, "扫码报修 Scan to report")
        pdf.drawString(tx, y + cell_h - 26 * mm, site_name[:16])
    pdf.showPage()
    pdf.save()
    return buf.getvalue()
