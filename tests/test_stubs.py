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


def test_stubtest_finds_the_stubs_true_to_the_runtime() -> None:
    """mypy's stubtest: every name, signature, default and class shape in _native.pyi and
    ta.pyi matches what the built wheel has."""
    out = subprocess.run(
        [
            sys.executable,
            "-m",
            "mypy.stubtest",
            "stocksblitz._native",
            "stocksblitz.ta",
            "--allowlist",
            str(ROOT / "tests" / "stubtest_allowlist.txt"),
        ],
        capture_output=True,
        text=True,
        cwd=ROOT / "tests",
        timeout=600,
    )
    assert out.returncode == 0, out.stdout[-4000:] + out.stderr[-2000:]


def test_the_documented_rate_default_is_the_one_used() -> None:
    assert "rate=0.065" in (native.option_price.__text_signature__ or "")
    a = native.option_price(26000.0, 26000.0, 0.05, 0.15, "CE")
    assert a == native.option_price(26000.0, 26000.0, 0.05, 0.15, "CE", rate=0.065)
    assert a != native.option_price(26000.0, 26000.0, 0.05, 0.15, "CE", rate=0.0)
