"""Type stubs are kept in step with the bindings."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import stocksblitz
import stocksblitz._native as native

ROOT = Path(__file__).resolve().parent.parent


def test_ta_stub_matches_the_registry() -> None:
    out = subprocess.run(
        [sys.executable, str(ROOT / "scripts" / "gen_stubs.py"), "--check"],
        capture_output=True,
        text=True,
    )
    assert out.returncode == 0, out.stderr


def test_native_stub_lists_every_binding() -> None:
    stub = (ROOT / "python" / "stocksblitz" / "_native.pyi").read_text()
    public = [n for n in dir(native) if not n.startswith("_")]
    missing = [n for n in public if f"def {n}(" not in stub and f"class {n}" not in stub]
    assert not missing, f"_native.pyi lacks {missing}"


def test_stubs_ship_with_the_package() -> None:
    pkg = Path(stocksblitz.__file__).parent
    assert (pkg / "py.typed").exists()
    assert (pkg / "_native.pyi").exists() and (pkg / "ta.pyi").exists()
