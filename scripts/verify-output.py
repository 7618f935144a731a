#!/usr/bin/env python3
"""Independent check of a dicom-deid run with pydicom: every written file parses, its pixel data bytes
equal the input's, and the identifying attributes are gone or replaced.
Usage: verify-output.py REPORT.json OUTDIR  (prints a summary; exit 1 on any problem)"""
import json, sys, os
import pydicom

report = json.load(open(sys.argv[1]))
out = sys.argv[2]
problems = 0
checked = 0
for f in report["files"]:
    if f["status"] != "written":
        continue
    checked += 1
    try:
        o = pydicom.dcmread(os.path.join(out, f["output"]))
        i = pydicom.dcmread(f["input"], force=True)
        _ = [e for e in o.iterall()]
    except Exception as e:
        print("PARSE", f["output"], type(e).__name__, e)
        problems += 1
        continue
    ip = i["PixelData"].value if "PixelData" in i else None
    op = o["PixelData"].value if "PixelData" in o else None
    if (ip is None) != (op is None) or (ip is not None and ip != op):
        print("PIXELS", f["input"])
        problems += 1
    if o.get("PatientIdentityRemoved") != "YES":
        print("FLAG", f["output"]); problems += 1
    for kw in ["PatientName", "PatientID", "PatientBirthDate", "InstitutionName", "ReferringPhysicianName", "AccessionNumber"]:
        iv, ov = str(i.get(kw, "") or ""), str(o.get(kw, "") or "")
        if iv and ov == iv and iv not in ("", "ANONYMIZED"):
            print("KEPT", kw, f["input"]); problems += 1
    if o.file_meta.MediaStorageSOPInstanceUID != o.SOPInstanceUID:
        print("META-UID", f["output"]); problems += 1
print(f"checked {checked} written files, {problems} problems")
sys.exit(1 if problems else 0)
