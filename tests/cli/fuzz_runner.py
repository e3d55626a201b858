"""Run ``qml-phys`` command lines in this process, one after another, and report how each
ended: the exit status, whether a Python traceback escaped, and the seconds it took.

Used by ``tests/cli/test_fuzz.py`` in a subprocess (so that a crash, a hang or a memory
blow-up is contained): ``python tests/cli/fuzz_runner.py`` reads a JSON list of argument
lists on stdin and prints a JSON list of ``{"argv", "code", "traceback", "seconds",
"stderr"}`` (and appends each as a JSON line to ``QML_PHYS_FUZZ_LOG`` when set). Each
command line gets ``QML_PHYS_FUZZ_SECONDS`` seconds (SIGALRM); one that runs longer is
reported with code ``"timeout"``. ``@FRESH@`` in an argument becomes a new path that does not
exist yet (an output of that case alone).
"""

import contextlib
import io
import json
import os
import signal
import sys
import time
import traceback


class _Timeout(BaseException):
    pass


#: Set when the alarm fires: the exception it raises may land in a callback that swallows
#: it (e.g. a garbage-collection hook), so the flag, not the exception, decides "timeout".
_FIRED = [False]


def _alarm(signum, frame):
    _FIRED[0] = True
    raise _Timeout


def _fresh(argv: list[str]) -> list[str]:
    """``argv`` with ``@FRESH@`` replaced by a path that does not exist yet."""
    import tempfile

    if not any("@FRESH@" in a for a in argv):
        return argv
    path = os.path.join(tempfile.mkdtemp(prefix="fuzz-"), "out")
    return [a.replace("@FRESH@", path) for a in argv]


def run_one(argv: list[str], seconds: float) -> dict:
    from qml_phys.cli import main

    err = io.StringIO()
    out = io.StringIO()
    tb = None
    _FIRED[0] = False
    signal.signal(signal.SIGALRM, _alarm)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    t0 = time.perf_counter()
    try:
        with contextlib.redirect_stderr(err), contextlib.redirect_stdout(out):
            code = main(_fresh(argv))
    except SystemExit as e:  # argparse
        code = e.code
    except _Timeout:
        code = "timeout"
    except BaseException:  # noqa: BLE001 - the point is to see what escapes
        code = "exception"
        tb = traceback.format_exc()
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
    text = err.getvalue()
    if _FIRED[0]:  # out of time, wherever the alarm's exception went
        code, tb = "timeout", None
    elif tb is None and "Traceback (most recent call last)" in text:
        tb = text
    return {
        "argv": argv,
        "code": code,
        "traceback": tb,
        "seconds": round(time.perf_counter() - t0, 2),
        "stderr": text[-500:],
    }


def main() -> int:
    os.environ.setdefault("QML_PHYS_NO_PROGRESS", "1")
    seconds = float(os.environ.get("QML_PHYS_FUZZ_SECONDS", "30"))
    argvs = json.loads(sys.stdin.read())
    log = os.environ.get("QML_PHYS_FUZZ_LOG")  # one JSON line per case, as they finish
    results = []
    for a in argvs:
        results.append(run_one(a, seconds))
        if log:
            with open(log, "a", encoding="utf-8") as f:
                f.write(json.dumps(results[-1]) + "\n")
    sys.stdout.write(json.dumps(results) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
