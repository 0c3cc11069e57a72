#!/usr/bin/env python3
"""Prints dist's local manifest with each archive's sha256 taken from its .sha256 file.

    scripts/dist-checksums.py LOCAL_MANIFEST DIR > DIR/local-dist-manifest.json

dist builds no archive here (scripts/dist does: `build-local-artifacts = false`), so the manifest
`dist manifest --artifacts=local` prints has no checksums; dist's global build reads them from
this file to put them in the shell installer and the Homebrew formula. A listed archive without
its .sha256 file, or a malformed one, is an error naming the file.
"""

import json
import re
import sys
from pathlib import Path


def main() -> int:
    manifest_path, directory = Path(sys.argv[1]), Path(sys.argv[2])
    manifest = json.loads(manifest_path.read_text())
    patched = 0
    for name, artifact in manifest.get("artifacts", {}).items():
        if artifact.get("kind") != "executable-zip":
            continue
        sidecar = directory / f"{name}.sha256"
        if not sidecar.is_file():
            print(f"scripts/dist-checksums.py: {sidecar}: missing (needed for {name})", file=sys.stderr)
            return 1
        fields = sidecar.read_text().split()
        if not fields or not re.fullmatch(r"[0-9a-f]{64}", fields[0]):
            print(f"scripts/dist-checksums.py: {sidecar}: not a sha256 line", file=sys.stderr)
            return 1
        artifact.setdefault("checksums", {})["sha256"] = fields[0]
        patched += 1
    if patched == 0:
        print(f"scripts/dist-checksums.py: {manifest_path}: lists no archive", file=sys.stderr)
        return 1
    json.dump(manifest, sys.stdout, indent=2)
    print()
    return 0


if __name__ == "__main__":
    sys.exit(main())
