"""The process around a command: stdin, stdout and stderr closed by cron (``>&-``) filled with
/dev/null, names the terminal cannot encode escaped, a reader that left the pipe
(`recommend -h | head -1`), SIGTERM unwound like Ctrl-C (``Terminated``, exit 143), and a stop
after the command is done ending the process with the command's own exit code."""

from __future__ import annotations

import contextlib
import io
import sys


class Terminated(KeyboardInterrupt):
    """SIGTERM during a command that writes: unwound like Ctrl-C (the lock released, temporary
    files removed, the run recorded), exit 143."""


class HungUp(Terminated):
    """SIGHUP (the terminal or the ssh session of a run closed) during a command that writes:
    unwound as SIGTERM is, exit 129. It killed the run outright, unsaid and unrecorded, and the
    next run recorded it as killed (kill -9, out of memory)."""


@contextlib.contextmanager
def _sigterm_as_interrupt():
    """Within: SIGTERM raises ``Terminated`` and SIGHUP ``HungUp`` (main thread only; the
    previous handlers after; a signal the parent set to be ignored, as nohup does, stays ignored)."""
    import signal
    import threading
    if threading.current_thread() is not threading.main_thread():
        yield
        return

    stops = {signal.SIGTERM: Terminated, signal.SIGHUP: HungUp}
    previous = {sig: signal.getsignal(sig) for sig in stops}

    def stop(signum, frame):
        raise stops[signum]()
    for sig in stops:
        if previous[sig] is not signal.SIG_IGN:  # the parent asked for it to be ignored (nohup): kept
            signal.signal(sig, stop)
    try:
        yield
    finally:  # None: a handler not set from Python, which signal.signal cannot put back
        for sig, before in previous.items():
            signal.signal(sig, signal.SIG_DFL if before is None else before)


def _silence_closed_output() -> None:
    """Point stdout and stderr at /dev/null so nothing (not even the flush at exit) writes to the
    pipe the reader closed."""
    import os
    for stream in (sys.stdout, sys.stderr):
        try:
            os.dup2(os.open(os.devnull, os.O_WRONLY), stream.fileno())
        except (OSError, ValueError, io.UnsupportedOperation):
            pass


def _late_stops_end_with(code) -> None:
    """After the command is done, a Ctrl-C, SIGTERM or SIGHUP ends the process at once with the
    command's own exit code. Python takes about half a second to end after a demo run (its
    threads joined, its objects freed); a stop then ended the process by the signal (143 or
    130 to the shell) though the run was done and recorded as exit 0, and a `timeout` or cron
    wrapper counted a finished run as failed.

    From the exit handlers on, a stop is ignored instead: Python then puts back the default
    action in place of any handler of ours (no Python code runs any more) while it frees its
    modules, the slow part of ending, and a stop then still killed the process (130 or 143) a
    finished run; an ignored signal stays ignored, and the process ends by itself in that
    half second. (Ours is the last exit handler registered, so the first to run: the stdlib's
    ones, the log's flush among them, run after it.)"""
    import atexit
    import os
    import signal
    import threading
    if threading.current_thread() is not threading.main_thread():
        return
    status = code if isinstance(code, int) else 0 if code is None else 1

    def end(signum, frame) -> None:
        for stream in (sys.stdout, sys.stderr):
            try:
                stream.flush()
            except Exception:  # noqa: BLE001 - a closed or full output: the code is what counts
                pass
        os._exit(status)

    stops = (signal.SIGINT, signal.SIGTERM, signal.SIGHUP)  # (SIGHUP: the terminal closed meanwhile)

    def ignore() -> None:
        for sig in stops:
            signal.signal(sig, signal.SIG_IGN)
    for sig in stops:
        signal.signal(sig, end)
    atexit.register(ignore)


def _reader_left(before) -> bool:
    """True when click (``PacifyFlushWrapper``) or rich (stdout pointed at /dev/null) gave up
    writing help or the version into a pipe whose reader left (`recommend -h | head -1`)."""
    import os
    if type(sys.stdout).__name__ == "PacifyFlushWrapper":  # click's, or typer's vendored click's
        return True
    try:
        now = os.fstat(sys.stdout.fileno())
    except (OSError, ValueError, io.UnsupportedOperation):
        return False
    return before is not None and (now.st_dev, now.st_ino) != (before.st_dev, before.st_ino)


def _fill_closed_standard_streams() -> None:
    """A run started with its output closed (cron's ``>&-``, ``2>&-``, ``<&-``) reads and writes
    /dev/null there: Python gave it no ``sys.stdout`` and the run stopped in a traceback, outside
    the log and the run record; and a file opened later (the log, the lock) could have taken the
    free descriptor and received what is printed."""
    import os
    for fd, name, mode in ((0, "stdin", "r"), (1, "stdout", "w"), (2, "stderr", "w")):
        try:
            os.fstat(fd)
        except OSError:
            got = os.open(os.devnull, os.O_RDWR)
            if got != fd:
                os.dup2(got, fd)
                os.close(got)
        if getattr(sys, name) is None:
            stream = open(fd, mode, encoding="utf-8", errors="backslashreplace", closefd=False)
            setattr(sys, name, stream)
            setattr(sys, f"__{name}__", stream)


def _escape_what_the_terminal_cannot_encode() -> None:
    """On a terminal that is not UTF-8 (a Latin-1 locale, PYTHONIOENCODING=ascii) a name it
    cannot encode is printed as a ``\\U0001f379`` escape instead of stopping the command."""
    for stream in (sys.stdout, sys.stderr):
        try:
            stream.reconfigure(errors="backslashreplace")
        except (AttributeError, ValueError, io.UnsupportedOperation):  # not a text file we may change
            pass
