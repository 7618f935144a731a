#!/usr/bin/env python3
"""Score burned-in text masking of dicom-deid against ground truth.

Usage:
  scripts/eval-pixels.py TRUTH_DIR OUT_DIR REPORT_JSON [--markdown] [--strict]
                         [--json FILE] [--worst N] [--quiet]
  scripts/eval-pixels.py --changed INPUT_DIR OUT_DIR REPORT_JSON [--markdown]
                         [--json FILE] [--quiet]

Typical run:
  scripts/burn-text.py /tmp/burn
  dicom-deid --out /tmp/burn-out --report /tmp/burn-report.json /tmp/burn/*.dcm
  scripts/eval-pixels.py /tmp/burn /tmp/burn-out /tmp/burn-report.json --markdown

Ground-truth mode (TRUTH_DIR made by scripts/burn-text.py, with truth.json and
masks/): every output is decoded with pydicom and compared, pixel by pixel, to
the burned input in TRUTH_DIR inside the stroke masks:

  * a PHI stroke pixel is HIDDEN when the output differs from the burned input
    there (in any sample), or when the output is one flat value over the whole
    text box (masked with a colour that happens to equal the text);
  * a label stroke pixel (standalone non-PHI annotation: "L", "5 cm", "GAIN 50",
    ...) is LEFT when the output equals the burned input there (and the box was
    not flat-filled). Captions next
    to PHI ("MRN", "DOB:") and clock times are reported apart: masking them
    with the value they belong to is reasonable.
  * "other changed": pixels outside all text that the output changed (the
    masks' own area, over-masking).

Totals: % PHI text pixels hidden (target 100 %), % label text pixels left
(target >= 90 %), PHI boxes with any pixel still visible, files failed / not
written (not in the report, no output, output missing or not decodable, frame
geometry changed), worst files. --strict exits 1 when PHI hidden < 100 % (or
when no file could be evaluated).

Changed mode (--changed) needs no ground truth: for every report entry whose
input lies in INPUT_DIR it decodes input and output and prints the share of
pixels the output changed (whole file and worst frame), to spot over-masking
on real images that only carry non-PHI text.

Report fields read (anything else is ignored; a missing "pixel" key is fine):
  files[].input      input path as given on the command line (matched by file
                     name, or as a path below INPUT_DIR in --changed mode)
  files[].output     output path relative to OUT_DIR (absolute also accepted);
                     null = not written
  files[].status, files[].reason   shown ("written" / "failed" / "skipped")
  files[].pixel.policy, files[].pixel.warning   shown
  files[].pixel.boxes[]: {frame (0-based, null = every frame), x, y, w, h,
                     reason, masked}: the number of masked boxes is shown, and
                     for every PHI box still visible the boxes tell whether it
                     was "not found", "read, kept" (a kept box covers it) or
                     "in a masked box". Scoring uses the pixels only.

Runs inside .cache/venv-eval like scripts/burn-text.py (DEID_EVAL_NO_VENV=1 to
use the current interpreter).
"""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from eval_venv import ensure_venv  # noqa: E402

if __name__ == "__main__":
    ensure_venv(__file__)

# ---------------------------------------------------------------------------
import argparse  # noqa: E402
import json  # noqa: E402
import warnings  # noqa: E402
from collections import defaultdict  # noqa: E402

import numpy as np  # noqa: E402
import pydicom  # noqa: E402
import pydicom.errors  # noqa: E402
import pydicom.uid  # noqa: E402
from PIL import Image  # noqa: E402

warnings.simplefilter("ignore")


class EvalError(Exception):
    pass


def decode(path):
    """Pixels as (frames, rows, columns, samples), native byte order."""
    try:
        try:
            ds = pydicom.dcmread(str(path))
        except pydicom.errors.InvalidDicomError:
            ds = pydicom.dcmread(str(path), force=True)     # no preamble / file meta
        if "TransferSyntaxUID" not in ds.file_meta:          # as the data set was read
            implicit, little = ds.original_encoding
            ds.file_meta.TransferSyntaxUID = (
                pydicom.uid.ImplicitVRLittleEndian if implicit
                else pydicom.uid.ExplicitVRLittleEndian if little
                else pydicom.uid.ExplicitVRBigEndian)
    except Exception as e:
        msg = " ".join(str(e).split())
        raise EvalError(f"not readable: {type(e).__name__}: {msg[:160]}")
    if "PixelData" not in ds and "FloatPixelData" not in ds and "DoubleFloatPixelData" not in ds:
        raise EvalError("no pixel data")
    try:
        arr = ds.pixel_array
    except Exception as e:
        msg = " ".join(str(e).split())
        raise EvalError(f"not decodable: {type(e).__name__}: {msg[:160]}")
    nf = int(ds.get("NumberOfFrames", 1) or 1)
    spp = int(ds.get("SamplesPerPixel", 1) or 1)
    if nf == 1:
        arr = arr[None, ...]
    if spp == 1:
        arr = arr[..., None]
    arr = np.asarray(arr)
    if arr.dtype.byteorder not in ("=", "|"):
        arr = arr.astype(arr.dtype.newbyteorder("="))
    return arr


def load_report(path):
    with open(path) as f:
        rep = json.load(f)
    files = rep.get("files", []) if isinstance(rep, dict) else rep
    if not isinstance(files, list):
        raise SystemExit(f"{path}: no 'files' list")
    return [e for e in files if isinstance(e, dict)]


def resolve_output(entry, out_dir):
    out = entry.get("output")
    if not out:
        return None
    p = Path(out)
    if p.is_absolute():
        return p
    cand = Path(out_dir) / p
    if cand.exists():
        return cand
    if p.exists():                    # written relative to the working directory
        return p
    return cand


def pixel_info(entry):
    """(policy, number of masked boxes or None) from the report's "pixel" object."""
    px = entry.get("pixel")
    if not isinstance(px, dict):
        return None, None
    boxes = px.get("boxes")
    if not isinstance(boxes, list):
        return px.get("policy"), None
    return px.get("policy"), sum(1 for b in boxes if isinstance(b, dict) and b.get("masked", True))


def report_boxes(entry):
    """Report boxes as (frame or None for every frame, x, y, w, h, masked)."""
    px = entry.get("pixel")
    out = []
    if isinstance(px, dict) and isinstance(px.get("boxes"), list):
        for b in px["boxes"]:
            try:
                out.append((b.get("frame"), int(b["x"]), int(b["y"]), int(b["w"]), int(b["h"]),
                            bool(b.get("masked", True))))
            except (KeyError, TypeError, ValueError, AttributeError):
                pass
    return out


def why_visible(b, f, rboxes):
    """For a PHI box with visible pixels: did the report see it?"""
    hit = [m for (fr, x, y, w, h, m) in rboxes
           if (fr is None or fr == f) and x < b["x"] + b["w"] and b["x"] < x + w
           and y < b["y"] + b["h"] and b["y"] < y + h]
    if any(hit):
        return "in a masked box"          # reported masked, pixels still there
    if hit:
        return "read, kept"               # found by the detector, not matched
    return "not found"


def pct(num, den):
    return None if den == 0 else 100.0 * num / den


def fmt(v, digits=1):
    """Rounded down, so that 99.999 % never shows as 100 %."""
    if v is None:
        return "-"
    q = 10 ** digits
    return f"{np.floor(v * q + 1e-9) / q:.{digits}f}"


# --------------------------------------------------------------------------- truth mode
def evaluate_truth(args):
    truth_dir = Path(args.truth_dir)
    truth = json.loads((truth_dir / "truth.json").read_text())["files"]
    entries = load_report(args.report)
    by_name = defaultdict(list)
    for e in entries:
        if e.get("input"):
            by_name[Path(str(e["input"])).name].append(e)

    mask_cache = {}

    def mask(rel):
        if rel not in mask_cache:
            if len(mask_cache) > 64:
                mask_cache.clear()
            mask_cache[rel] = np.asarray(Image.open(truth_dir / rel))
        return mask_cache[rel]

    results = []
    for name in sorted(truth):
        t = truth[name]
        r = {"file": name, "family": t["family"], "flavor": t.get("flavor"),
             "transfer_syntax": t["transfer_syntax_name"], "frames": t["frames"],
             "motion": t.get("motion"), "status": None, "reason": None, "failed": None,
             "policy": None, "report_boxes": None, "pixel_warning": None}
        cands = by_name.get(name, [])
        entry = None
        for e in cands:
            try:
                if Path(str(e["input"])).resolve() == (truth_dir / name).resolve():
                    entry = e
                    break
            except OSError:
                pass
        if entry is None and cands:
            entry = cands[0]
        if entry is None:
            r["failed"] = "not in report"
            results.append(r)
            continue
        r["status"], r["reason"] = entry.get("status"), entry.get("reason")
        r["policy"], r["report_boxes"] = pixel_info(entry)
        px = entry.get("pixel") if isinstance(entry.get("pixel"), dict) else {}
        r["pixel_warning"] = px.get("warning")
        out_path = resolve_output(entry, args.out_dir)
        if out_path is None:
            r["failed"] = "not written"
            results.append(r)
            continue
        if not out_path.exists():
            r["failed"] = f"output missing: {out_path}"
            results.append(r)
            continue
        try:
            src = decode(truth_dir / name)
        except EvalError as e:
            r["failed"] = f"burned input: {e}"
            results.append(r)
            continue
        try:
            out = decode(out_path)
        except EvalError as e:
            r["failed"] = f"output {e}"
            results.append(r)
            continue
        if out.shape != src.shape:
            r["failed"] = f"geometry changed {src.shape} -> {out.shape}"
            results.append(r)
            continue
        score_file(r, t, src, out, mask, report_boxes(entry))
        results.append(r)
    return summarise(results, truth_mode=True)


def score_file(r, t, src, out, mask, rboxes):
    c = defaultdict(int)
    worst_frame = None
    leaked = []
    phi_boxes = phi_boxes_hidden = 0
    for ft in t["frames_truth"]:
        f = ft["frame"]
        m = mask(ft["mask"])
        diff = (out[f] != src[f]).any(axis=-1)
        fphi = fhid = 0
        for k, b in enumerate(ft["boxes"], start=1):
            sel = m == k
            n = int(sel.sum())
            if n == 0:
                continue
            changed = int(diff[sel].sum())
            if changed < n and flat_fill(out[f], src[f], b):
                changed = n                 # box filled with one value equal to the text
            if b["phi"]:
                c["phi_px"] += n
                c["phi_hidden"] += changed
                fphi += n
                fhid += changed
                phi_boxes += 1
                if changed == n:
                    phi_boxes_hidden += 1
                else:
                    leaked.append({"frame": f, "text": b["text"], "field": b.get("field"),
                                   "visible": round(100.0 * (n - changed) / n, 1),
                                   "why": why_visible(b, f, rboxes) if rboxes else "not found"})
            else:
                kind = b.get("kind", "label")
                kind = "label" if kind == "label" else "caption"
                c[f"{kind}_px"] += n
                c[f"{kind}_left"] += n - changed
        notext = m == 0
        c["other_px"] += int(notext.sum())
        c["other_changed"] += int((diff & notext).sum())
        if fphi:
            share = fhid / fphi
            if worst_frame is None or share < worst_frame[1]:
                worst_frame = (f, share)
    r.update(dict(c))
    r["phi_boxes"], r["phi_boxes_hidden"] = phi_boxes, phi_boxes_hidden
    r["phi_hidden_pct"] = pct(c["phi_hidden"], c["phi_px"])
    r["label_left_pct"] = pct(c["label_left"], c["label_px"])
    r["caption_left_pct"] = pct(c["caption_left"], c["caption_px"])
    r["other_changed_pct"] = pct(c["other_changed"], c["other_px"])
    r["worst_frame"] = None if worst_frame is None else {"frame": worst_frame[0],
                                                         "phi_hidden_pct": 100.0 * worst_frame[1]}
    why = defaultdict(int)
    for x in leaked:
        why[x["why"]] += 1
    r["visible_why"] = dict(why)
    agg = {}
    for x in leaked:                       # one entry per text, over all frames
        a = agg.setdefault((x["text"], x["field"]), {"text": x["text"], "field": x["field"],
                                                     "visible": 0.0, "frames": 0, "why": x["why"]})
        a["visible"] = max(a["visible"], x["visible"])
        a["frames"] += 1
    r["leaked"] = sorted(agg.values(), key=lambda a: -a["visible"])


def flat_fill(out_frame, src_frame, b):
    """The output is one value over the whole text box while the input was not."""
    y0, x0 = max(0, b["y"]), max(0, b["x"])
    y1, x1 = b["y"] + b["h"], b["x"] + b["w"]
    o = out_frame[y0:y1, x0:x1]
    i = src_frame[y0:y1, x0:x1]
    return o.size > 0 and int(o.max()) == int(o.min()) and int(i.max()) != int(i.min())


def totals(rows):
    s = defaultdict(int)
    for r in rows:
        for k in ("phi_px", "phi_hidden", "label_px", "label_left", "caption_px", "caption_left",
                  "other_px", "other_changed", "phi_boxes", "phi_boxes_hidden"):
            s[k] += r.get(k, 0) or 0
    return {
        "files": len(rows),
        "evaluated": sum(1 for r in rows if not r["failed"]),
        "failed": sum(1 for r in rows if r["failed"]),
        "phi_hidden_pct": pct(s["phi_hidden"], s["phi_px"]),
        "label_left_pct": pct(s["label_left"], s["label_px"]),
        "caption_left_pct": pct(s["caption_left"], s["caption_px"]),
        "other_changed_pct": pct(s["other_changed"], s["other_px"]),
        "phi_boxes": s["phi_boxes"],
        "phi_boxes_visible": s["phi_boxes"] - s["phi_boxes_hidden"],
        "phi_boxes_visible_why": {k: sum((r.get("visible_why") or {}).get(k, 0) for r in rows)
                                  for k in ("not found", "read, kept", "in a masked box")},
        "files_leaking": sum(1 for r in rows if not r["failed"] and r.get("phi_hidden", 0) < r.get("phi_px", 0)),
        "pixels": dict(s),
    }


def summarise(results, truth_mode):
    groups = {}
    for key in ("family", "transfer_syntax"):
        g = defaultdict(list)
        for r in results:
            g[r[key]].append(r)
        groups[key] = {k: totals(v) for k, v in sorted(g.items())}
    return {"totals": totals(results), "groups": groups, "files": results}


def worst(results, n):
    ev = [r for r in results if not r["failed"]]
    ev.sort(key=lambda r: (r["phi_hidden_pct"] if r["phi_hidden_pct"] is not None else 101,
                           r["label_left_pct"] if r["label_left_pct"] is not None else 101,
                           -(r["other_changed_pct"] or 0)))
    return ev[:n]


def print_truth(summary, args):
    T = summary["totals"]
    res = summary["files"]
    failed = [r for r in res if r["failed"]]
    if args.markdown:
        print("| metric | value | target |")
        print("| --- | ---: | ---: |")
        print(f"| PHI text pixels hidden | {fmt(T['phi_hidden_pct'], 2)} % | 100 % |")
        print(f"| label text pixels left | {fmt(T['label_left_pct'], 2)} % | >= 90 % |")
        print(f"| caption/time text pixels left | {fmt(T['caption_left_pct'], 2)} % | |")
        print(f"| non-text pixels changed | {fmt(T['other_changed_pct'], 2)} % | |")
        vw = ", ".join(f"{k} {v}" for k, v in T["phi_boxes_visible_why"].items() if v)
        print(f"| PHI boxes with visible pixels | {T['phi_boxes_visible']} of {T['phi_boxes']}"
              + (f" ({vw})" if vw else "") + " | 0 |")
        print(f"| files leaking PHI | {T['files_leaking']} of {T['evaluated']} | 0 |")
        print(f"| files failed / not written | {T['failed']} of {T['files']} | 0 |")
        for key, title in (("family", "image type"), ("transfer_syntax", "transfer syntax")):
            print()
            print(f"| {title} | files | failed | PHI hidden % | labels left % | captions left % | other changed % |")
            print("| --- | ---: | ---: | ---: | ---: | ---: | ---: |")
            for k, g in summary["groups"][key].items():
                print(f"| {k} | {g['files']} | {g['failed']} | {fmt(g['phi_hidden_pct'], 2)} | "
                      f"{fmt(g['label_left_pct'], 2)} | {fmt(g['caption_left_pct'], 2)} | "
                      f"{fmt(g['other_changed_pct'], 2)} |")
        w = worst(res, args.worst)
        if w:
            print()
            print("| worst files | PHI hidden % | labels left % | worst frame | still visible |")
            print("| --- | ---: | ---: | ---: | --- |")
            for r in w:
                wf = r["worst_frame"]
                vis = ", ".join(f"{x['text']} ({x['visible']} %, {x['why']})" for x in r["leaked"][:3])
                print(f"| {r['file']} | {fmt(r['phi_hidden_pct'], 2)} | {fmt(r['label_left_pct'], 1)} | "
                      f"{'-' if not wf else wf['frame']} | {vis.replace('|', '/')} |")
        if failed:
            print()
            print("| failed file | status | why |")
            print("| --- | --- | --- |")
            for r in failed:
                why = r["failed"] + (f" ({r['reason']})" if r.get("reason") else "")
                print(f"| {r['file']} | {r['status'] or '-'} | {why.replace('|', '/')} |")
        return
    if not args.quiet:
        print(f"{'file':34s} {'syntax':10s} {'PHI hid%':>8s} {'lbl left%':>9s} {'cap left%':>9s} "
              f"{'other%':>7s} {'boxes':>5s}  status")
        for r in res:
            ts = short_ts(r["transfer_syntax"])
            if r["failed"]:
                why = r["failed"] + (f" ({r['reason']})" if r.get("reason") else "")
                print(f"{r['file']:34s} {ts:10s} {'FAILED':>8s} {'':9s} {'':9s} {'':7s} {'':5s}  "
                      f"{r['status'] or '-'}: {why}")
                continue
            nb = "-" if r["report_boxes"] is None else str(r["report_boxes"])
            print(f"{r['file']:34s} {ts:10s} {fmt(r['phi_hidden_pct'], 2):>8s} {fmt(r['label_left_pct']):>9s} "
                  f"{fmt(r['caption_left_pct']):>9s} {fmt(r['other_changed_pct'], 2):>7s} {nb:>5s}  "
                  f"{r['status'] or '-'}" + (f" (pixel warning: {r['pixel_warning']})" if r["pixel_warning"] else ""))
        print()
    print(f"PHI text pixels hidden:       {fmt(T['phi_hidden_pct'], 2)} %   (target 100 %)")
    print(f"label text pixels left:       {fmt(T['label_left_pct'], 2)} %   (target >= 90 %)")
    print(f"caption/time pixels left:     {fmt(T['caption_left_pct'], 2)} %")
    print(f"non-text pixels changed:      {fmt(T['other_changed_pct'], 2)} %")
    vw = ", ".join(f"{k} {v}" for k, v in T["phi_boxes_visible_why"].items() if v)
    print(f"PHI boxes with visible text:  {T['phi_boxes_visible']} of {T['phi_boxes']}" + (f"  ({vw})" if vw else ""))
    print(f"files leaking PHI:            {T['files_leaking']} of {T['evaluated']} evaluated")
    print(f"files failed / not written:   {T['failed']} of {T['files']}")
    w = [r for r in worst(res, args.worst)
         if r.get("phi_hidden", 0) < r.get("phi_px", 0)
         or (r["label_left_pct"] is not None and r["label_left_pct"] < 90)]
    if w:
        print("worst files:")
        for r in w:
            vis = ", ".join(f"{x['text']!r} {x['visible']}% visible ({x['why']})"
                            + (f" in {x['frames']} frames" if x["frames"] > 1 else "")
                            for x in r["leaked"][:4])
            wf = r["worst_frame"]
            print(f"  {r['file']}: PHI hidden {fmt(r['phi_hidden_pct'], 2)} %, labels left "
                  f"{fmt(r['label_left_pct'])} %" + (f", worst frame {wf['frame']}" if wf else "")
                  + (f"; {vis}" if vis else ""))


def short_ts(name):
    n = name.lower()
    if "rle" in n:
        return "RLE"
    if "2000" in n:
        return "J2K"
    if "explicit" in n:
        return "ExplLE"
    return name[:10]


# --------------------------------------------------------------------------- changed mode
def evaluate_changed(args):
    in_dir = Path(args.truth_dir).resolve()
    entries = load_report(args.report)
    all_inputs = [p for p in in_dir.rglob("*") if p.is_file()]
    rel_index = defaultdict(list)
    for p in all_inputs:
        rel_index[p.name].append(p)

    def resolve_input(s):
        p = Path(s)
        for cand in ([p] if p.is_absolute() else [p, in_dir / p]):
            try:
                if cand.exists():
                    rp = cand.resolve()
                    return rp if in_dir in rp.parents or rp == in_dir else None
            except OSError:
                pass
        # same file name below INPUT_DIR: the longest matching path tail wins
        best, best_len = None, 0
        for c in rel_index.get(p.name, []):
            n = 0
            for a, b in zip(reversed(c.parts), reversed(p.parts)):
                if a != b:
                    break
                n += 1
            if n > best_len:
                best, best_len = c, n
        return best

    rows = []
    for e in entries:
        if not e.get("input"):
            continue
        src_path = resolve_input(str(e["input"]))
        if src_path is None:
            continue
        policy, nboxes = pixel_info(e)
        r = {"file": str(src_path.relative_to(in_dir)), "status": e.get("status"), "reason": e.get("reason"),
             "policy": policy, "report_boxes": nboxes, "failed": None, "skipped": None}
        try:
            src = decode(src_path)
        except EvalError as err:
            r["skipped"] = f"input {err}"
            rows.append(r)
            continue
        out_path = resolve_output(e, args.out_dir)
        if out_path is None or not out_path.exists():
            r["failed"] = "not written" if out_path is None else f"output missing: {out_path}"
            rows.append(r)
            continue
        try:
            out = decode(out_path)
        except EvalError as err:
            r["failed"] = f"output {err}"
            rows.append(r)
            continue
        if out.shape != src.shape:
            r["failed"] = f"geometry changed {src.shape} -> {out.shape}"
            rows.append(r)
            continue
        diff = (out != src).any(axis=-1)
        per_frame = diff.reshape(diff.shape[0], -1).mean(axis=1)
        r["frames"] = int(diff.shape[0])
        r["changed_px"] = int(diff.sum())
        r["total_px"] = int(diff.size)
        r["changed_pct"] = 100.0 * diff.mean()
        r["worst_frame"] = int(per_frame.argmax())
        r["worst_frame_pct"] = 100.0 * float(per_frame.max())
        rows.append(r)
    rows.sort(key=lambda r: (r.get("changed_pct") is None,
                             -(r.get("changed_pct") if r.get("changed_pct") is not None else 0), r["file"]))
    ok = [r for r in rows if r.get("changed_pct") is not None]
    tot_c = sum(r["changed_px"] for r in ok)
    tot_n = sum(r["total_px"] for r in ok)
    return {
        "totals": {
            "entries": len(rows), "evaluated": len(ok),
            "files_changed": sum(1 for r in ok if r["changed_px"]),
            "changed_pct": pct(tot_c, tot_n),
            "mean_file_changed_pct": (sum(r["changed_pct"] for r in ok) / len(ok)) if ok else None,
            "max_file_changed_pct": max((r["changed_pct"] for r in ok), default=None),
            "failed": sum(1 for r in rows if r["failed"]),
            "skipped_input_not_decodable": sum(1 for r in rows if r["skipped"]),
            "inputs_in_dir": len(all_inputs),
        },
        "files": rows,
    }


def print_changed(summary, args):
    T = summary["totals"]
    rows = summary["files"]
    if args.markdown:
        print("| file | frames | changed % | worst frame | worst frame % | boxes | status |")
        print("| --- | ---: | ---: | ---: | ---: | ---: | --- |")
        for r in rows:
            if r.get("changed_pct") is None:
                why = r["failed"] or r["skipped"]
                print(f"| {r['file']} | | | | | | {(r['status'] or '-')}: {why.replace('|', '/')} |")
                continue
            nb = "-" if r["report_boxes"] is None else r["report_boxes"]
            print(f"| {r['file']} | {r['frames']} | {fmt(r['changed_pct'], 3)} | {r['worst_frame']} | "
                  f"{fmt(r['worst_frame_pct'], 3)} | {nb} | {r['status'] or '-'} |")
        print()
        print(f"{T['evaluated']} files evaluated, {T['files_changed']} with changed pixels, "
              f"{fmt(T['changed_pct'], 3)} % of all pixels changed; {T['failed']} failed, "
              f"{T['skipped_input_not_decodable']} inputs not decodable here.")
        return
    if not args.quiet:
        print(f"{'file':58s} {'frames':>6s} {'changed%':>9s} {'worst fr':>8s} {'fr %':>7s} {'boxes':>5s}  status")
        for r in rows:
            if r.get("changed_pct") is None:
                print(f"{r['file']:58s} {'':6s} {'-':>9s} {'':8s} {'':7s} {'':5s}  "
                      f"{r['status'] or '-'}: {r['failed'] or r['skipped']}")
                continue
            nb = "-" if r["report_boxes"] is None else str(r["report_boxes"])
            print(f"{r['file']:58s} {r['frames']:6d} {fmt(r['changed_pct'], 3):>9s} {r['worst_frame']:8d} "
                  f"{fmt(r['worst_frame_pct'], 3):>7s} {nb:>5s}  {r['status'] or '-'}")
        print()
    print(f"files evaluated:         {T['evaluated']} of {T['entries']} report entries in INPUT_DIR")
    print(f"files with changes:      {T['files_changed']}")
    print(f"pixels changed overall:  {fmt(T['changed_pct'], 3)} %  (largest file {fmt(T['max_file_changed_pct'], 3)} %)")
    print(f"failed / not written:    {T['failed']};  inputs not decodable here: {T['skipped_input_not_decodable']}")


# --------------------------------------------------------------------------- main
def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                 formatter_class=argparse.RawDescriptionHelpFormatter,
                                 usage="%(prog)s [--changed] TRUTH_DIR|INPUT_DIR OUT_DIR REPORT_JSON [options]")
    ap.add_argument("truth_dir", metavar="TRUTH_DIR|INPUT_DIR")
    ap.add_argument("out_dir", metavar="OUT_DIR")
    ap.add_argument("report", metavar="REPORT_JSON")
    ap.add_argument("--changed", action="store_true",
                    help="no ground truth: share of pixels changed per file (first argument is INPUT_DIR)")
    ap.add_argument("--markdown", action="store_true", help="print Markdown tables (for a README)")
    ap.add_argument("--strict", action="store_true", help="exit 1 if PHI hidden < 100 %%")
    ap.add_argument("--json", metavar="FILE", help="also write all metrics as JSON")
    ap.add_argument("--worst", type=int, default=10, help="worst files listed (default 10)")
    ap.add_argument("--quiet", action="store_true", help="totals only, no per-file table")
    args = ap.parse_args()

    if args.changed:
        summary = evaluate_changed(args)
        print_changed(summary, args)
    else:
        if not (Path(args.truth_dir) / "truth.json").exists():
            sys.exit(f"{args.truth_dir}/truth.json not found (make it with scripts/burn-text.py)")
        summary = evaluate_truth(args)
        print_truth(summary, args)
    if args.json:
        with open(args.json, "w") as f:
            json.dump(summary, f, indent=1)
    if args.strict and not args.changed:
        T = summary["totals"]
        if T["phi_hidden_pct"] is None:
            print("strict: no file could be evaluated", file=sys.stderr)
            sys.exit(1)
        if T["pixels"]["phi_hidden"] < T["pixels"]["phi_px"]:
            print(f"strict: PHI hidden {fmt(T['phi_hidden_pct'], 3)} % < 100 %", file=sys.stderr)
            sys.exit(1)


if __name__ == "__main__":
    import signal
    if hasattr(signal, "SIGPIPE"):
        signal.signal(signal.SIGPIPE, signal.SIG_DFL)     # quiet when piped into head
    main()
