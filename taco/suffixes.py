"""The file suffixes taco reads as images, in one place for the command line (which must import
nothing heavy to list a folder) and the datasets.

Pillow reads all of them (AVIF since Pillow 11.3); HEIC/HEIF through the ``pillow-heif`` plugin,
the ``heif`` extra (:func:`taco.images.load_image` says how to get it when it is missing).
"""

from __future__ import annotations

__all__ = ["DECODED_SUFFIX", "HEIF_SUFFIXES", "IMAGE_SUFFIXES"]

#: HEIC/HEIF photos (a phone camera's default), read through ``pillow-heif``.
HEIF_SUFFIXES = frozenset({".heic", ".heif"})

#: Every suffix taco reads as an image, lower case with the dot.
IMAGE_SUFFIXES = frozenset({".png", ".jpg", ".jpeg", ".webp", ".avif", ".bmp", ".tif", ".tiff",
                            ".gif", ".ppm", ".pgm"}) | HEIF_SUFFIXES

#: What ``taco decompress`` writes beside a file (``NAME.decoded.png``); ``taco compress`` leaves
#: such images out when it reads a folder, so it does not compress its own outputs again.
DECODED_SUFFIX = ".decoded.png"
