"""Build the corpus data sets for scripts/bench (run with the bench venv's python).

Usage: select_sets.py CORPUS SETS_DIR

Writes SETS_DIR/corpus/ and SETS_DIR/corpus-dcg/ as trees of hard links (copies if links
are impossible) into CORPUS, keeping relative paths, plus SETS_DIR/manifest.json:
  corpus      every file under CORPUS that pydicom 3.0.2 reads as DICOM (dcmread, force=False)
  corpus-dcg  the part of `corpus` that dicognito 0.19.0 anonymizes and saves without an
              error (its CLI stops at the first file that raises, so it only gets these)
"""

import json
import logging
import os
import shutil
import sys
import warnings

import pydicom
import tempfile

from dicognito.anonymizer import Anonymizer
from dicognito.filters import BurnedInAnnotationGuard, SaveToSOPInstanceUID

logging.disable(logging.CRITICAL)
warnings.simplefilter("ignore")


def files_under(root):
    for dirpath, dirnames, filenames in os.walk(root):
        dirnames[:] = sorted(d for d in dirnames if not d.startswith("."))
        for name in sorted(f for f in filenames if not f.startswith(".")):
            yield os.path.join(dirpath, name)


def place(src, dst):
    os.makedirs(os.path.dirname(dst), exist_ok=True)
    try:
        os.link(src, dst)
    except OSError:
        shutil.copyfile(src, dst)


def main():
    corpus, sets = sys.argv[1], sys.argv[2]
    for name in ("corpus", "corpus-dcg"):
        shutil.rmtree(os.path.join(sets, name), ignore_errors=True)
    scratch = tempfile.mkdtemp(prefix="select-sets-")
    manifest = {"corpus": [], "corpus-dcg": [], "not_dicom": [], "dicognito_fails": {}}
    for path in files_under(corpus):
        rel = os.path.relpath(path, corpus)
        try:
            ds = pydicom.dcmread(path, force=False)
        except Exception:
            manifest["not_dicom"].append(rel)
            continue
        manifest["corpus"].append(rel)
        place(path, os.path.join(sets, "corpus", rel))
        try:  # the steps of dicognito's CLI for one file, with its default options
            guard = BurnedInAnnotationGuard("if-yes", "warn")
            save = SaveToSOPInstanceUID(scratch)
            guard.before_each(ds)
            save.before_each(ds)
            Anonymizer(seed="bench").anonymize(ds)
            guard.after_each(ds)
            save.after_each(ds)
        except Exception as e:  # what dicognito's CLI would abort on
            manifest["dicognito_fails"][rel] = f"{type(e).__name__}: {e}"[:200]
            continue
        manifest["corpus-dcg"].append(rel)
        place(path, os.path.join(sets, "corpus-dcg", rel))
    shutil.rmtree(scratch, ignore_errors=True)
    with open(os.path.join(sets, "manifest.json"), "w") as f:
        json.dump(manifest, f, indent=1)
    print(
        f"corpus: {len(manifest['corpus'])} DICOM files ({len(manifest['not_dicom'])} other files left out); "
        f"corpus-dcg: {len(manifest['corpus-dcg'])} that dicognito handles"
    )


if __name__ == "__main__":
    main()
