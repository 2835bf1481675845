"""recommend: a personal hybrid recommender that writes a private Spotify playlist.

Importing the package does no work: no I/O, no network, no config loading.
"""

__version__ = "0.1.0"
