"""Enrichment from sources other than Spotify.

``musicbrainz``: artist genres (MusicBrainz genres, tags as fallback) into the
``artist_genres`` frame (its local stand-in lives in ``recommender.standins.musicbrainz``).
Importing this package does no work.
"""
