"""One error hierarchy. The CLI turns each class into a one-line message and an exit code.

Exit codes (the same for every command; listed in the README):
0 success, 1 unexpected error, 2 usage or config error, 3 needs login,
4 rate-limited or quota, 5 Spotify unavailable, 6 another run holds the lock,
7 cannot write local files (disk full, read-only file system, no permission).
"""

from __future__ import annotations

from pathlib import Path


class RecommenderError(Exception):
    """Base class: ``str(err)`` is a user-facing one-line message."""

    exit_code = 1


class ConfigError(RecommenderError):
    """Bad configuration: unknown key, wrong type, bad value. Names the file and key path."""

    exit_code = 2


class UsageError(RecommenderError):
    """Bad command-line input (an unknown playlist name, an invalid cron expression...)."""

    exit_code = 2


class DataError(RecommenderError):
    """An input file (dataset CSV, feature CSV) cannot be read. Names the file and column."""

    exit_code = 2


class AuthError(RecommenderError):
    """No usable login: no token, or the refresh token was refused (``invalid_grant``)."""

    exit_code = 3


def set_aside(who: str) -> str:
    """The one sentence saying that an account's own state left the manifest when another account
    logged in or pulled (``Store.switch_account``): the OtherAccount error, the refresh's note,
    `recommend auth`'s note and `recommend status` all say it in these words. ``who`` names the
    account as the text around it does ("user 'ann'" in an error, the shown id in the CLI's notes)."""
    return f"the managed playlist, removals and pins of {who} are set aside (given back if it logs in again)"


class OtherAccount(AuthError):
    """The saved login is another account's than the one the cached library is (a token dropped
    in, or a login whose account Spotify could not name): neither account's playlists, removals
    or library may be mixed into the other's. ``login`` and ``cached`` are the two user ids."""

    def __init__(self, login: str, cached: str) -> None:
        super().__init__(f"the saved login is Spotify user {login!r}, but the cache holds the library of user "
                         f"{cached!r}: run `recommend refresh` to pull the library of user {login!r} "
                         f"({set_aside(f'user {cached!r}')}), or `recommend auth` as user {cached!r}")
        self.login, self.cached = login, cached


class AppAccessRefused(AuthError):
    """Spotify refuses this app or this account whatever the login: a Development Mode app's
    user list, or its owner's Premium. The message says what to change, on Spotify's side."""


# Spotify's 403 texts (lower case) for a Development Mode app it will not serve, and what to do:
# the account is not on the app's user list (three wordings seen since 2021), or the app's owner
# has no Premium (since February 2026).
DEVELOPMENT_MODE_REFUSALS = (
    (("not registered in the developer dashboard", "not approved for app", "may not be registered"),
     "Spotify does not let this account use your app: a Development Mode app serves only the accounts "
     "listed under User Management in its settings (https://developer.spotify.com/dashboard, at most 5); "
     "add this account's e-mail there, or run `recommend auth` with the account that created the app"),
    (("premium subscription required",),
     "Spotify refuses every request of your app: the account that created it has no active Premium "
     "subscription, which a Development Mode app needs since February 2026 (after the subscription "
     "changes, it can take a few hours before Spotify answers again)"),
)


def development_mode_refusal(message: object) -> str | None:
    """What to do about Spotify's refusal ``message`` (an API error's or an accounts service's
    text), or None when it is no Development Mode refusal."""
    text = str(message or "").lower()
    for needles, advice in DEVELOPMENT_MODE_REFUSALS:
        if any(n in text for n in needles):
            return advice
    return None


class RateLimited(RecommenderError):
    """Spotify asked us to wait longer than we are willing to (429 or quota exceeded)."""

    exit_code = 4

    def __init__(self, message: str, retry_after: float | None = None) -> None:
        super().__init__(message)
        self.retry_after = retry_after


def wait_seconds(value, now: float | None = None) -> float | None:
    """Seconds a server asks us to wait (Retry-After, X-RateLimit-Reset-In): a finite number,
    at least 0, or the time until an HTTP date (RFC 9110's other form of Retry-After: "Fri, 05
    Dec 2026 09:00:00 GMT", which was taken for no value, so a service asking for a day was
    asked again within seconds); None for anything else (absent, garbage, NaN or infinity), so
    the caller falls back to its own back-off and ``time.sleep`` never gets a bad value.
    ``now``: the clock for a date (default: ``time.time()``)."""
    import math
    try:
        seconds = float(value)
    except (TypeError, ValueError):
        seconds = _until_http_date(value, now)
        if seconds is None:
            return None
    return max(seconds, 0.0) if math.isfinite(seconds) else None


def _until_http_date(value, now: float | None) -> float | None:
    import time
    from email.utils import parsedate_to_datetime
    if not isinstance(value, str) or not value.strip():
        return None
    try:
        when = parsedate_to_datetime(value.strip())
    except (TypeError, ValueError, IndexError, OverflowError):
        return None
    if when.tzinfo is None:  # (an HTTP date is GMT; "-0000" parses naive)
        from datetime import timezone
        when = when.replace(tzinfo=timezone.utc)
    return when.timestamp() - (time.time() if now is None else now)


class SpotifyUnavailable(RecommenderError):
    """Spotify kept failing (5xx, timeouts, unreadable bodies) after our bounded retries.

    ``reason`` is the short account of the failure ("502 on GET me/following, 5 attempts") when
    the gateway knows it, for callers that carry on and say why in a note of their own.
    ``unreached``: no connection could be made at the last attempt (refused, no route, a connect
    timeout): Spotify, or the network, is down for every call, not failing one listing.
    """

    exit_code = 5

    def __init__(self, message: str, reason: str | None = None, unreached: bool = False) -> None:
        super().__init__(message)
        self.reason = reason
        self.unreached = unreached


# Spotify did not answer (5xx, timeouts after our retries), or asked to wait longer than allowed:
# what a caller that can go on without it (a dry run, the web app's pages) catches
UNREACHED = (SpotifyUnavailable, RateLimited)


class SpotifyError(RecommenderError):
    """Spotify refused a request for a reason that retrying cannot fix (4xx other than 401/429).

    A refused playlist write (``publish.apply_plan``) says which tracks it carried
    (``refused_ids``: a 400 for a gone track names none, the culprit is among them) and whether
    a write of the same run whose answer was lost may still land (``unsure_writes``)."""

    exit_code = 5

    def __init__(self, message: str, status: int | None = None) -> None:
        super().__init__(message)
        self.status = status
        self.refused_ids: list[str] | None = None
        self.unsure_writes = False


class MissingScope(SpotifyError):
    """Spotify refused a request for a permission the saved login lacks (403 "Insufficient
    client scope"): a login granted fewer scopes than asked, or made for fewer. No retry mends
    it, a new login does: exit 3, as a login problem (it was exit 5, "Spotify unavailable",
    which a cron job retries every night)."""

    exit_code = 3


class LockHeld(RecommenderError):
    """Another run holds the lock file."""

    exit_code = 6


class NotEnoughData(RecommenderError):
    """The library is too small for what was asked (no seeds, no evaluation targets...)."""

    exit_code = 2


class DamagedCache(NotEnoughData):
    """A file of the cached library is missing or cannot be read: the next pull replaces it
    (the demo's explore commands pull the sample again themselves)."""


class StorageError(RecommenderError):
    """A local file cannot be written: disk full, quota, read-only file system, permissions.
    Names the path; the file's previous version is kept (writes are atomic)."""

    exit_code = 7

    # ENOSPC, EDQUOT, EROFS, EACCES, EPERM, EISDIR (a folder where a file goes: the run log's or
    # the lock's was exit 1, "unexpected error", after the playlist was written), EFBIG (a file
    # size limit, `ulimit -f`: it was exit 1 too, naming no file)
    STORAGE_ERRNOS = frozenset({28, 122, 30, 13, 1, 21, 27})
    NO_ROOM_ERRNOS = frozenset({28, 122, 30, 27})  # of those, no room to write at all: full, quota, read-only, size limit
    HINTS = {28: "the disk is full: free some space and run again",
             122: "the disk quota is used up: free some space and run again",
             30: "the file system is read-only: make it writable again (a disk the system remounted "
                 "read-only after an error needs a check first), or set `cache.dir` to a folder on a "
                 "writable disk (then `recommend schedule install` again), and run again",
             13: "check the permissions of the folder", 1: "check the permissions of the folder",
             21: "a folder is where the file goes: move it away and run again",
             27: "the file would pass the file size limit this run was started with (`ulimit -f`): raise it "
                 "and run again"}

    @classmethod
    def matches(cls, exc: BaseException) -> bool:
        return isinstance(exc, OSError) and exc.errno in cls.STORAGE_ERRNOS

    CHOSEN_HINTS = {30: "the file system is read-only: name a file on a writable disk",
                    13: "name a file in a folder you can write", 1: "name a file in a folder you can write",
                    21: "it names a folder: name a file"}

    @classmethod
    def from_os_error(cls, exc: OSError, path: object = None, chosen: bool = False) -> "StorageError":
        """``chosen``: a file you named (``--plot``, ``--report``): its hint is to name another,
        not to move the tool's data folder."""
        import os
        where = path if path is not None else exc.filename
        reason = exc.strerror or os.strerror(exc.errno or 0)
        hint = (chosen and cls.CHOSEN_HINTS.get(exc.errno)) or cls.HINTS.get(exc.errno, "")
        if where is None:  # no file named: the command's output (`> /dev/full`) as well as a file
            return cls(f"cannot write the output or a local file: {reason}" + (f" ({hint})" if hint else ""))
        kept = "; the previous version is kept" if os.path.lexists(str(where)) and not os.path.isdir(str(where)) else ""
        return cls(f"cannot write {where}: {reason}" + (f" ({hint}{kept})" if hint else ""))


def private_mkdirs(folder: Path) -> None:
    """``mkdir -p folder``, each folder it creates 0700 (the XDG rule for the folders an
    application creates; ``mkdir -p`` gives the ones above the last the umask's 0755, which let
    every local user list the login's, the log's and the run history's names and times); a
    folder that exists keeps its mode. Raises OSError."""
    missing = []
    while not folder.is_dir() and folder.parent != folder:
        missing.append(folder)
        folder = folder.parent
    for step in reversed(missing):
        try:
            step.mkdir(mode=0o700)
        except FileExistsError:
            if not step.is_dir():  # a file in the way
                raise


def make_dirs(path: Path | str) -> Path:
    """``mkdir -p path`` (each new folder 0700: ``private_mkdirs``); any failure (a file in the
    way, a read-only or vanished mount, no permission) is a ``StorageError`` naming the folder
    (exit 7), never a crash."""
    import os
    folder = Path(path)
    try:
        private_mkdirs(folder)
    except OSError as exc:
        reason = exc.strerror or os.strerror(exc.errno or 0)
        in_the_way, above = "a file is in the way: a folder is needed there", "check the permissions of the folders above it"
        hint = {**StorageError.HINTS, 17: in_the_way, 20: in_the_way, 13: above, 1: above}.get(exc.errno or 0)
        blocked = Path(exc.filename) if exc.filename else folder
        if exc.errno in (17, 20) and blocked.is_symlink() and not blocked.exists():
            # a link to a disk not mounted, or a folder deleted since: no file is in the way, and
            # nothing is made where it points (an unmounted disk's mount point)
            raise StorageError(f"cannot create the folder {folder}: {blocked} is a symbolic link to "
                               f"{os.readlink(blocked)}, which does not exist (a disk not mounted? mount it, or "
                               "create that folder, or remove the link, and run again)") from None
        where = f" ({exc.filename})" if exc.filename and str(exc.filename) != str(folder) else ""
        raise StorageError(f"cannot create the folder {folder}: {reason}{where}" + (f" ({hint})" if hint else "")) from None
    return folder
