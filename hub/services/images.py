"""Photos people upload, made safe to keep and to show: decoded and encoded again as JPEG, so
what is stored is an image and only an image (no script posing as one, no trailing data),
without its metadata (a phone's EXIF carries where it was taken), turned upright and no
larger than a screen needs."""

from __future__ import annotations

import base64
import binascii
import io
import uuid
import warnings
from pathlib import Path

from PIL import Image, ImageOps, UnidentifiedImageError

MAX_PIXELS = 40_000_000  # a 40-megapixel photo; more is a decompression bomb, not a photo
MAX_SIDE = 2560  # what a screen shows; larger photos are scaled down
FORMATS = ("JPEG", "PNG", "WEBP")


class NotAnImage(ValueError):
    """The bytes are not a JPEG, PNG or WebP image that can be decoded."""


def clean_photo(data: bytes) -> bytes:
    """The photo re-encoded as a JPEG without metadata; NotAnImage with the reason."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            with Image.open(io.BytesIO(data), formats=FORMATS) as img:
                if img.width * img.height > MAX_PIXELS:
                    raise NotAnImage("the image has too many pixels")
                img.load()
                upright = ImageOps.exif_transpose(img)
    except (UnidentifiedImageError, Image.DecompressionBombError, Image.DecompressionBombWarning):
        raise NotAnImage("give a JPEG, PNG or WebP image") from None
    except (OSError, SyntaxError, ValueError) as err:  # truncated or corrupt image data
        raise NotAnImage(f"the image cannot be decoded ({type(err).__name__})") from None
    if upright.mode not in ("RGB", "L"):
        background = Image.new("RGB", upright.size, "white")
        rgba = upright.convert("RGBA")
        background.paste(rgba, mask=rgba.getchannel("A"))
        upright = background
    upright.thumbnail((MAX_SIDE, MAX_SIDE))
    out = io.BytesIO()
    upright.save(out, "JPEG", quality=85, optimize=True)  # no exif= given: none is written
    return out.getvalue()


def photo_bytes(data_url: str) -> bytes:
    """The bytes of a photo sent as a `data:` URL or as base64 text; NotAnImage if neither."""
    raw = data_url.split(",", 1)[1] if data_url.startswith("data:") else data_url
    try:
        return base64.b64decode(raw, validate=True)
    except (binascii.Error, ValueError):
        raise NotAnImage("not base64") from None


def save_photo(folder: Path, stem: str, data: bytes) -> str:
    """Keep a cleaned copy of the photo in `folder` under a fresh name; the name."""
    return keep_photo(folder, stem, clean_photo(data))  # decoded and re-encoded: an image


def keep_photo(folder: Path, stem: str, clean: bytes) -> str:
    """Keep a photo `clean_photo` made in `folder` under a fresh name; the name."""
    folder.mkdir(parents=True, exist_ok=True)
    name = f"{stem}-{uuid.uuid4().hex[:12]}.jpg"
    (folder / name).write_bytes(clean)
    return name
