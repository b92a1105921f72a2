"""The ``admit`` command: Django's manage.py plus Admit's own commands (demo, serve, …)."""

from __future__ import annotations

import os
import sys


def main(argv: list[str] | None = None) -> None:
    argv = list(sys.argv if argv is None else argv)
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "admit.settings")
    if len(argv) > 1 and argv[1] in ("demo", "bench"):
        # The demo runs with demo-safe defaults (a generated secret key, local hosts only).
        os.environ.setdefault("ADMIT_DEMO", "1")
        for i, arg in enumerate(argv):
            if arg == "--data-dir" and i + 1 < len(argv):
                os.environ["ADMIT_DATA_DIR"] = argv[i + 1]
            elif arg.startswith("--data-dir="):
                os.environ["ADMIT_DATA_DIR"] = arg.split("=", 1)[1]
    from django.core.management import execute_from_command_line

    execute_from_command_line(argv)


if __name__ == "__main__":
    main()
