"""recommend: a personal hybrid recommender that writes a private Spotify playlist.

Importing the package does no work: no I/O, no network, no config loading.
"""

__version__ = "0.3.24"

import logging as _logging

# The library logs through `logging` and never configures it: the CLI does (see runlog).
_logging.getLogger(__name__).addHandler(_logging.NullHandler())
