"""What the PDF reports share: matplotlib without a display, and the CJK font that draws
their Chinese (Debian's fonts-wqy-zenhei, installed by scripts/setup.sh)."""

from __future__ import annotations

import functools
import logging
from pathlib import Path

import matplotlib

matplotlib.use("Agg")  # no display: files only

from matplotlib import font_manager

logging.getLogger("matplotlib.font_manager").setLevel(logging.ERROR)  # "weight normal" noise

CJK_FONTS = [
    Path("/usr/share/fonts/truetype/wqy/wqy-zenhei.ttc"),
    Path("/usr/share/fonts/truetype/wqy/wqy-microhei.ttc"),
    Path("/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc"),
]


@functools.cache
def cjk_font() -> str | None:
    """The CJK font's family name, registered with matplotlib once per process (each
    `addfont` appends to matplotlib's font list); None when none is installed."""
    for path in CJK_FONTS:
        if path.exists():
            font_manager.fontManager.addfont(str(path))
            return font_manager.FontProperties(fname=str(path)).get_name()
    return None


def rc_params(family: str | None) -> dict[str, object]:
    """matplotlib's settings for a report drawn with `family` (DejaVu Sans behind it)."""
    return {
        "font.family": [family, "DejaVu Sans"] if family else ["DejaVu Sans"],
        "axes.unicode_minus": False,
    }
