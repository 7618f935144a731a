#!/usr/bin/env python3
"""Checks de-identified outputs with an independent parser (pydicom 3.0.2).

    verify_outputs.py ZIP_OR_FOLDER [--compare CLI_OUT_FOLDER]

Prints one JSON object: {"files": [{"name", "ok", "error", "patient_identity_removed",
"transfer_syntax", "same_as_cli"}], "names": [...]}. Every file is read completely (every element,
nested sequences included, values decoded); `ok` is true when that works and Patient Identity Removed
is "YES". With --compare, each output is also compared byte for byte with the file of the same path
under CLI_OUT_FOLDER (the native CLI's output for the same inputs and key); outputs numbered _N
(same SOP Instance UID) are compared with every CLI output of that base name.
"""
import io
import json
import os
import re
import sys
import zipfile

import pydicom


def base_name(name):
    """The output path without the _N that numbers inputs with the same SOP Instance UID."""
    return re.sub(r"_\d+\.dcm$", ".dcm", name)


def check(name, data, compare):
    res = {"name": name, "ok": False, "error": None}
    try:
        ds = pydicom.dcmread(io.BytesIO(data), force=False)
        # touch every element at every depth, so a damaged value fails here
        count = 0
        for _ in ds.iterall():
            count += 1
        res["elements"] = count
        res["patient_identity_removed"] = str(ds.get("PatientIdentityRemoved", ""))
        res["transfer_syntax"] = str(ds.file_meta.get("TransferSyntaxUID", ""))
        res["ok"] = res["patient_identity_removed"] == "YES"
        if not res["ok"]:
            res["error"] = "PatientIdentityRemoved is not YES"
    except Exception as e:  # noqa: BLE001 - any failure to read is a failed check
        res["error"] = f"{type(e).__name__}: {e}"
    if compare:
        # inputs with the same SOP Instance UID are numbered in the order they finish (in the CLI
        # too, with more than one job): compare with every CLI output of the same base name
        folder = os.path.join(compare, *base_name(name).split("/")[:-1])
        stem = base_name(name).split("/")[-1][: -len(".dcm")]
        same = None
        if os.path.isdir(folder):
            for n in os.listdir(folder):
                if n == stem + ".dcm" or re.fullmatch(re.escape(stem) + r"_\d+\.dcm", n):
                    with open(os.path.join(folder, n), "rb") as f:
                        if f.read() == data:
                            same = True
                            break
                    same = False
        res["same_as_cli"] = same
    return res


def main():
    args = sys.argv[1:]
    compare = None
    if "--compare" in args:
        i = args.index("--compare")
        compare = args[i + 1]
        del args[i : i + 2]
    src = args[0]
    files = []
    if os.path.isdir(src):
        for root, _, names in os.walk(src):
            for n in sorted(names):
                p = os.path.join(root, n)
                rel = os.path.relpath(p, src).replace(os.sep, "/")
                with open(p, "rb") as f:
                    files.append((rel, f.read()))
    else:
        with zipfile.ZipFile(src) as z:
            bad = z.testzip()
            if bad is not None:
                print(json.dumps({"error": f"ZIP entry {bad} has a bad CRC"}))
                return 1
            for info in z.infolist():
                if not info.is_dir():
                    files.append((info.filename, z.read(info)))
    out = {"names": [n for n, _ in files], "files": [check(n, d, compare) for n, d in files]}
    print(json.dumps(out))
    return 0


if __name__ == "__main__":
    sys.exit(main())
