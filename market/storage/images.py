"""Photos without where they were taken. A phone writes the place into a photo's metadata (EXIF GPS,
and XMP); a photo of a service delivered at someone's home must not tell every reader where that
home is. The image is drawn again with its pixels and colour profile only."""

from __future__ import annotations

import io
import warnings

from PIL import Image, ImageOps, UnidentifiedImageError

from market.core.errors import Invalid

# The formats storage accepts as images, by the type read from the bytes, and how each is written.
FORMATS = {"image/jpeg": "JPEG", "image/png": "PNG", "image/webp": "WEBP"}
GPS_IFD = 0x8825


def has_location(data: bytes) -> bool:
    """Whether an image's metadata says where it was taken."""
    with Image.open(io.BytesIO(data)) as image:
        exif = image.getexif()
        return bool(exif.get_ifd(GPS_IFD)) or b"GPS" in (image.info.get("xmp") or b"")


def without_location(data: bytes, content_type: str) -> bytes:
    """The image drawn again without its metadata (EXIF, XMP), turned upright first as its EXIF said,
    since that note goes too. Anything that is not one of the accepted images is returned as it is."""
    if content_type not in FORMATS:
        return data
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            with Image.open(io.BytesIO(data)) as opened:
                opened.load()
                upright = ImageOps.exif_transpose(opened)
                profile = opened.info.get("icc_profile")
    except (UnidentifiedImageError, OSError, Image.DecompressionBombError, Image.DecompressionBombWarning):
        raise Invalid("This image could not be read. Upload it again, or as a PDF.", field="file") from None
    image = upright.copy()
    # What the writers would carry over: only what drawing needs is kept.
    image.info = {k: v for k, v in upright.info.items() if k == "transparency"}
    options: dict[str, object] = {"icc_profile": profile} if profile else {}
    if FORMATS[content_type] == "JPEG":
        options.update(quality=90, optimize=True)
        if image.mode not in ("RGB", "L", "CMYK"):
            image = image.convert("RGB")
    out = io.BytesIO()
    image.save(out, FORMATS[content_type], **options)
    return out.getvalue()
