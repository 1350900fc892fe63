"""The LaTeX report compiled to PDF (`kg report --format pdf`).

The LaTeX needs two runs before its \\ref and \\cite resolve. latexmk, when installed, runs
as many as needed; otherwise pdflatex runs until the .aux file stops changing and the log
asks for no rerun (at most MAX_RUNS). Everything happens in a temporary folder, with shell
escape off and no input from the terminal; only the finished PDF is kept.
"""

from __future__ import annotations

import hashlib
import re
import shutil
import subprocess
import tempfile
from pathlib import Path

from ..errors import KgError

MAX_RUNS = 5
TIMEOUT_S = 300
INSTALL_HINT = ("Install a TeX system with pdflatex and the booktabs package, e.g. on Debian or Ubuntu "
                "'sudo apt-get install texlive-latex-base texlive-latex-recommended' (add 'latexmk' to let it "
                "decide how many runs), or write '--format tex' and compile it yourself (pdflatex twice).")
_RERUN = re.compile(r"Rerun to get|Label\(s\) may have changed|There were undefined (references|citations)")


def latex_tools() -> tuple[str | None, str | None]:
    """The latexmk and pdflatex programs on PATH (None where missing)."""
    return shutil.which("latexmk"), shutil.which("pdflatex")


def _digest(path: Path) -> str | None:
    return hashlib.sha256(path.read_bytes()).hexdigest() if path.exists() else None


def _run(command: list[str], folder: Path, name: str) -> None:
    try:
        done = subprocess.run(command, cwd=folder, stdin=subprocess.DEVNULL, capture_output=True,
                              timeout=TIMEOUT_S, check=False)
    except subprocess.TimeoutExpired:
        raise KgError(f"{name} did not finish the report within {TIMEOUT_S} s") from None
    except OSError as exc:
        raise KgError(f"cannot run {name}: {exc.strerror or exc}") from None
    if done.returncode != 0 or not (folder / "report.pdf").exists():
        log = folder / "report.log"
        text = log.read_text(encoding="latin-1") if log.exists() else done.stdout.decode("latin-1", "replace")
        errors = [line for line in text.splitlines() if line.startswith("!")]
        raise KgError(f"{name} could not compile the report: {errors[0] if errors else 'exit ' + str(done.returncode)}",
                      hint="\n".join(text.splitlines()[-15:]))


def compile_pdf(tex: str) -> bytes:
    """The PDF of a LaTeX document (the report), with every reference resolved."""
    latexmk, pdflatex = latex_tools()
    if not pdflatex and not latexmk:
        raise KgError("kg report --format pdf needs pdflatex (or latexmk), and neither is installed",
                      hint=INSTALL_HINT)
    with tempfile.TemporaryDirectory(prefix="kg-report-") as tmp:
        folder = Path(tmp)
        (folder / "report.tex").write_text(tex, encoding="utf-8")
        flags = ["-interaction=nonstopmode", "-halt-on-error", "-no-shell-escape"]
        if latexmk:
            _run([latexmk, "-norc", "-pdf", *flags, "report.tex"], folder, "latexmk")
        else:
            aux = folder / "report.aux"
            for run in range(1, MAX_RUNS + 1):
                before = _digest(aux)
                _run([pdflatex, *flags, "report.tex"], folder, "pdflatex")
                log = (folder / "report.log").read_text(encoding="latin-1")
                if not _RERUN.search(log) or (run > 1 and _digest(aux) == before
                                               and "Rerun to get" not in log):
                    break
        return (folder / "report.pdf").read_bytes()
