"""One error hierarchy. The CLI turns each class into a one-line message and an exit code.

Exit codes (the same for every command; listed in the README):
0 success, 1 unexpected error, 2 usage or config error, 3 needs login,
4 rate-limited or quota, 5 Spotify unavailable, 6 another run holds the lock.
"""

from __future__ import annotations


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


class RateLimited(RecommenderError):
    """Spotify asked us to wait longer than we are willing to (429 or quota exceeded)."""

    exit_code = 4

    def __init__(self, message: str, retry_after: float | None = None) -> None:
        super().__init__(message)
        self.retry_after = retry_after


class SpotifyUnavailable(RecommenderError):
    """Spotify kept failing (5xx, timeouts, unreadable bodies) after our bounded retries."""

    exit_code = 5


class SpotifyError(RecommenderError):
    """Spotify refused a request for a reason that retrying cannot fix (4xx other than 401/429)."""

    exit_code = 5

    def __init__(self, message: str, status: int | None = None) -> None:
        super().__init__(message)
        self.status = status


class LockHeld(RecommenderError):
    """Another run holds the lock file."""

    exit_code = 6


class NotEnoughData(RecommenderError):
    """The library is too small for what was asked (no seeds, no evaluation targets...)."""

    exit_code = 2
