"""Console entry point of ``stocksblitz-server`` (the server is linked into the extension)."""

from __future__ import annotations

import sys


def main() -> None:
    from ._native import run_server

    try:
        code = run_server(list(sys.argv))
    except KeyboardInterrupt:
        code = 0
    sys.exit(code)


if __name__ == "__main__":
    main()
