"""Generate a synthetic CT series for scripts/bench (run with the bench venv's python).

Usage: gen_ct300.py TEMPLATE OUTDIR [COUNT]

Takes the header of a real CT file (TEMPLATE, e.g. pydicom's CT_small.dcm) and writes COUNT
(default 300) slices of 512x512 signed 16-bit pixels into OUTDIR: one patient, one study,
one series, distinct SOP Instance UIDs, instance numbers and slice positions. Pixel values
are a simple phantom plus noise from a fixed seed, so every run writes the same files.
"""

import os
import sys

import numpy as np
import pydicom
from pydicom.uid import ExplicitVRLittleEndian, generate_uid

SEED = 20240519
SIZE = 512


def main() -> None:
    template, outdir = sys.argv[1], sys.argv[2]
    count = int(sys.argv[3]) if len(sys.argv) > 3 else 300
    os.makedirs(outdir, exist_ok=True)
    rng = np.random.default_rng(SEED)

    base = pydicom.dcmread(template)
    study_uid = generate_uid(entropy_srcs=[str(SEED), "study"])
    series_uid = generate_uid(entropy_srcs=[str(SEED), "series"])
    frame_uid = generate_uid(entropy_srcs=[str(SEED), "frame-of-reference"])
    thickness = 1.0
    x0, y0 = -170.0, -170.0
    spacing = 340.0 / SIZE

    yy, xx = np.mgrid[0:SIZE, 0:SIZE]
    r2 = (xx - SIZE / 2) ** 2 + (yy - SIZE / 2) ** 2
    body = r2 < (0.42 * SIZE) ** 2

    for i in range(count):
        ds = base.copy()
        ds.file_meta = base.file_meta.copy()
        sop_uid = generate_uid(entropy_srcs=[str(SEED), "sop", str(i)])
        ds.SOPInstanceUID = sop_uid
        ds.file_meta.MediaStorageSOPInstanceUID = sop_uid
        ds.file_meta.TransferSyntaxUID = ExplicitVRLittleEndian
        ds.StudyInstanceUID = study_uid
        ds.SeriesInstanceUID = series_uid
        ds.FrameOfReferenceUID = frame_uid
        ds.SeriesNumber = 1
        ds.InstanceNumber = i + 1
        z = -150.0 + i * thickness
        ds.ImagePositionPatient = [x0, y0, z]
        ds.ImageOrientationPatient = [1, 0, 0, 0, 1, 0]
        ds.SliceLocation = z
        ds.SliceThickness = thickness
        ds.SpacingBetweenSlices = thickness
        ds.PixelSpacing = [spacing, spacing]
        ds.Rows = SIZE
        ds.Columns = SIZE
        ds.SamplesPerPixel = 1
        ds.PhotometricInterpretation = "MONOCHROME2"
        ds.BitsAllocated = 16
        ds.BitsStored = 16
        ds.HighBit = 15
        ds.PixelRepresentation = 1
        ds.RescaleIntercept = -1024
        ds.RescaleSlope = 1
        # air outside, soft tissue inside a disc whose radius varies along z, plus noise
        img = np.where(body, 1040, 24).astype(np.int32)
        inner = r2 < ((0.12 + 0.05 * np.sin(i / 40.0)) * SIZE) ** 2
        img[inner] = 1400
        img += rng.integers(-60, 61, size=(SIZE, SIZE), dtype=np.int32)
        ds.PixelData = img.astype("<i2").tobytes()
        ds["PixelData"].VR = "OW"
        for elem in ("LargestImagePixelValue", "SmallestImagePixelValue"):
            if elem in ds:
                del ds[elem]
        ds.save_as(os.path.join(outdir, f"CT{i + 1:04d}.dcm"), enforce_file_format=True)


if __name__ == "__main__":
    main()
