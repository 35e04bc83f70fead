"""Command line entry point. `main(argv) -> int` so tests call it directly (pre-commit style).

`gpulint --version` answers before typer, rich or the engine are imported, so it starts fast; so does
a plain `gpulint check ...` (check_run.parse_args), the pre-commit case.
"""

from __future__ import annotations

import sys
from typing import Optional, Sequence

EXIT_OK, EXIT_FINDINGS, EXIT_USAGE = 0, 1, 2


def main(argv: Optional[Sequence[str]] = None) -> int:
    args = list(sys.argv[1:] if argv is None else argv)
    if args in (["--version"], ["-V"]):
        from gpulint import __version__

        print(f"gpulint {__version__}")
        return EXIT_OK
    if args[:1] == ["check"]:
        # The common case without typer (about 0.2 s of imports and option processing): see check_run.
        from gpulint.cli.check_run import parse_args, run

        parsed = parse_args(args[1:])
        if parsed is not None:
            try:
                return run(**parsed)
            except KeyboardInterrupt:
                return 130
            except BrokenPipeError:
                return EXIT_OK
            except Exception as error:  # as below
                print(f"gpulint: internal error: {type(error).__name__}: {error} (please report this)",
                      file=sys.stderr)
                return EXIT_USAGE
    from gpulint.cli.app import build_command, click_exceptions

    exit_, abort, click_exception = click_exceptions()

    command = build_command()
    try:
        value = command.main(args=args, prog_name="gpulint", standalone_mode=False)
    except exit_ as stop:
        return int(stop.exit_code or 0)
    except abort:
        print("Aborted.", file=sys.stderr)
        return EXIT_USAGE
    except click_exception as error:
        error.show()
        return EXIT_USAGE
    except KeyboardInterrupt:
        return 130
    except BrokenPipeError:
        return EXIT_OK
    except Exception as error:  # a bug must still end in one line and exit 2, never a traceback
        print(f"gpulint: internal error: {type(error).__name__}: {error} (please report this)", file=sys.stderr)
        return EXIT_USAGE
    return value if isinstance(value, int) else EXIT_OK
