"""Enrichment from sources other than Spotify.

``musicbrainz``: artist genres (MusicBrainz genres, tags as fallback) into the
``artist_genres`` frame; ``mbstandin``: a local MusicBrainz stand-in server for tests and demos.
Importing this package does no work.
"""
