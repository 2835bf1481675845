"""``python -m recommender`` and the ``recommend`` command (pyproject's entry point).

The command's own module (``cli``) is imported here, under a Ctrl-C's watch: a Ctrl-C in the
first fifth of a second (typer, rich and click being imported) printed a traceback through
importlib instead of the one line and exit 130 of a stop later on.
"""

import sys


def run() -> None:
    try:
        from .cli import main
    except KeyboardInterrupt:
        sys.stderr.write("interrupted\n")
        raise SystemExit(130) from None
    main()


if __name__ == "__main__":
    run()
