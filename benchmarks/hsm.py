"""Data-key wrap/unwrap cost: the PKCS#11 provider on SoftHSM2 against the file provider.

    .venv/bin/python -m benchmarks.hsm [--quick]

Both providers are measured in the same run, interleaved round by round. SoftHSM reads
SOFTHSM2_CONF when its module is first loaded, so the token is made before anything loads it.
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import tempfile
from pathlib import Path

from benchmarks.core import Result, interleaved, median

MODULE = "/usr/lib/softhsm/libsofthsm2.so"
PIN = "246810"


def _token(root: Path) -> None:
    (root / "tokens").mkdir()
    conf = root / "softhsm2.conf"
    conf.write_text(
        f"directories.tokendir = {root / 'tokens'}\nobjectstore.backend = file\nlog.level = ERROR\n"
    )
    os.environ["SOFTHSM2_CONF"] = str(conf)
    subprocess.run(
        [
            "softhsm2-util",
            "--init-token",
            "--free",
            "--label",
            "sp-bench",
            "--pin",
            PIN,
            "--so-pin",
            "13579113",
        ],
        check=True,
        capture_output=True,
    )


def run(quick: bool = False) -> list[Result]:
    from shareplatform.crypto.keys import FileKeyProvider
    from shareplatform.crypto.pkcs11 import Pkcs11KeyProvider

    root = Path(tempfile.mkdtemp(prefix="sp-bench-hsm-"))
    try:
        _token(root)
        hsm = Pkcs11KeyProvider(MODULE, "sp-bench", PIN, dek_cache_seconds=0)  # every call
        cached = Pkcs11KeyProvider(MODULE, "sp-bench", PIN, dek_cache_seconds=3600)
        files = FileKeyProvider(root / "keys")
        for provider in (hsm, files):
            provider.create_kek("SECRET", 1)
        batch, rounds = (50, 20) if quick else (200, 60)
        deks = [os.urandom(32) for _ in range(batch)]
        wrapped = {p.name: [p.wrap("SECRET", 1, d) for d in deks] for p in (hsm, files)}

        def unwraps(provider):  # type: ignore[no-untyped-def]
            items = wrapped[provider.name]
            return lambda: [provider.unwrap("SECRET", 1, w) for w in items]

        def cached_unwraps():  # type: ignore[no-untyped-def]
            items = wrapped["pkcs11"]
            return lambda: [cached.unwrap("SECRET", 1, w) for w in items]

        def wraps(provider):  # type: ignore[no-untyped-def]
            return lambda: [provider.wrap("SECRET", 1, d) for d in deks]

        times = interleaved(
            {
                "hsm unwrap": unwraps(hsm),
                "file unwrap": unwraps(files),
                "hsm cached unwrap": cached_unwraps(),
                "hsm wrap": wraps(hsm),
                "file wrap": wraps(files),
            },
            rounds,
        )
        us = {name: median(t) / batch * 1e6 for name, t in times.items()}
        hsm.close()
        cached.close()
        return [
            Result.compared(
                "hsm",
                "data-key unwrap, PKCS#11 (SoftHSM2)",
                us["hsm unwrap"],
                "us",
                "file provider unwrap",
                us["file unwrap"],
                note="per data key; a record read opens title+body: 2 unwraps",
            ),
            Result.compared(
                "hsm",
                "data-key wrap, PKCS#11 (SoftHSM2)",
                us["hsm wrap"],
                "us",
                "file provider wrap",
                us["file wrap"],
                note="per data key (one per write)",
            ),
            Result.compared(
                "hsm",
                "data-key unwrap, PKCS#11, cache hit",
                us["hsm cached unwrap"],
                "us",
                "file provider unwrap",
                us["file unwrap"],
                note="within SHAREPLATFORM_PKCS11_DEK_CACHE_SECONDS",
            ),
        ]
    finally:
        shutil.rmtree(root, ignore_errors=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true")
    args = parser.parse_args()
    for r in run(args.quick):
        print(
            f"{r.name:<42} {r.value:8.1f} {r.unit}"
            f"   vs {r.baseline}: {r.baseline_value:.2f} {r.unit}"
            f"   ratio {r.ratio:.0f}x   ({r.note})"
        )


if __name__ == "__main__":
    main()
