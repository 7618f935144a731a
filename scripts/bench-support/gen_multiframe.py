"""Join the slices of a series into one multi-frame file, for the memory part of scripts/bench-web.

Usage: gen_multiframe.py SERIES_DIR OUT_FILE

Reads every file of SERIES_DIR (same size, e.g. the 300 slices of gen_ct300.py), in name order, and
writes OUT_FILE: the first slice's header with Number of Frames set and the frames' pixels one after
another (Explicit VR Little Endian). 300 slices of 512x512 16-bit pixels make a 157 MB file.
"""

import os
import sys

import pydicom
from pydicom.uid import ExplicitVRLittleEndian


def main() -> None:
    series, out = sys.argv[1], sys.argv[2]
    names = sorted(n for n in os.listdir(series) if not n.startswith("."))
    first = pydicom.dcmread(os.path.join(series, names[0]))
    frames = [first.PixelData] + [pydicom.dcmread(os.path.join(series, n)).PixelData for n in names[1:]]
    first.NumberOfFrames = len(frames)
    first.PixelData = b"".join(frames)
    first["PixelData"].VR = "OW"
    for elem in ("SliceLocation", "ImagePositionPatient", "InstanceNumber"):
        if elem in first:
            del first[elem]
    first.file_meta.TransferSyntaxUID = ExplicitVRLittleEndian
    os.makedirs(os.path.dirname(out) or ".", exist_ok=True)
    first.save_as(out, enforce_file_format=True)


if __name__ == "__main__":
    main()
