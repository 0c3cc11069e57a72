"""`python -m artoken ARGS`: runs the binary in place of this process."""

from __future__ import annotations

import os
import sys

from artoken import find_artoken_bin


def _run() -> None:
    artoken = find_artoken_bin()
    os.execv(artoken, [artoken, *sys.argv[1:]])


if __name__ == "__main__":
    _run()
