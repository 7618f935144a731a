"""The Python environment of scripts/burn-text.py and scripts/eval-pixels.py: re-executes the calling
script under .cache/venv-eval, creating and filling that venv first (pydicom, numpy, Pillow, pylibjpeg
codecs). DEID_EVAL_NO_VENV=1 keeps the current interpreter."""

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
VENV = ROOT / ".cache" / "venv-eval"
REQUIREMENTS = ["pydicom==3.0.2", "numpy", "Pillow>=10.1", "pylibjpeg>=2"]
OPTIONAL_REQUIREMENTS = ["pylibjpeg-openjpeg", "pylibjpeg-libjpeg", "pylibjpeg-rle"]


def ensure_venv(script):
    """Re-exec `script` (the caller's __file__) under .cache/venv-eval, creating/filling it first."""
    if os.environ.get("DEID_EVAL_NO_VENV"):
        return
    vpy = VENV / "bin" / "python"
    try:
        if Path(sys.prefix).resolve() == VENV.resolve():
            return
    except OSError:
        pass
    stamp = VENV / ".requirements"
    want = "\n".join(REQUIREMENTS + OPTIONAL_REQUIREMENTS) + "\n"
    if not vpy.exists():
        print(f"[venv] creating {VENV}", file=sys.stderr)
        subprocess.check_call([sys.executable, "-m", "venv", str(VENV)])
    if not stamp.exists() or stamp.read_text() != want:
        pip = [str(vpy), "-m", "pip", "install", "-q", "--disable-pip-version-check"]
        print(f"[venv] installing {' '.join(REQUIREMENTS)}", file=sys.stderr)
        subprocess.check_call(pip + REQUIREMENTS)
        for req in OPTIONAL_REQUIREMENTS:
            if subprocess.call(pip + [req]) != 0:
                print(f"[venv] optional {req} could not be installed", file=sys.stderr)
        stamp.write_text(want)
    os.execv(str(vpy), [str(vpy), str(Path(script).resolve())] + sys.argv[1:])
