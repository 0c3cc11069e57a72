"""artoken: keeps AWS CodeArtifact tokens fresh. This package ships the `artoken` binary."""

from __future__ import annotations

import os
import sys
import sysconfig

__all__ = ["find_artoken_bin"]


def find_artoken_bin() -> str:
    """The path of the `artoken` binary installed with this package."""
    exe = "artoken" + (sysconfig.get_config_var("EXE") or "")
    here = os.path.dirname(os.path.abspath(__file__))
    candidates = [
        sysconfig.get_path("scripts"),
        sysconfig.get_path("scripts", vars={"base": sys.base_prefix}),
        # `pip install --prefix P`: P/lib/pythonX.Y/site-packages/artoken -> P/bin
        os.path.join(here, "..", "..", "..", "..", "bin"),
        # `pip install --target T`: T/artoken -> T/bin
        os.path.join(here, "..", "bin"),
        sysconfig.get_path("scripts", scheme=_user_scheme()),
    ]
    for directory in candidates:
        path = os.path.join(directory, exe)
        if os.path.isfile(path):
            return os.path.normpath(path)
    raise FileNotFoundError(
        "artoken: the binary is not in any of: " + ", ".join(sorted(set(candidates)))
    )


def _user_scheme() -> str:
    if sys.version_info >= (3, 10):
        return sysconfig.get_preferred_scheme("user")
    return "nt_user" if os.name == "nt" else "posix_user"
