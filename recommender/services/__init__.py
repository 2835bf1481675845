"""Clients of the open-data web services (MusicBrainz, ListenBrainz, ListenBrainz labs).

``http`` is the shared HTTP layer (pacing, bounded retries, request budget); ``cache`` the
TTL answer cache; ``listenbrainz`` the ListenBrainz + labs client. The id chain (Spotify
track -> ISRC -> MusicBrainz recording and artist MBIDs -> Spotify ids) is
``sources.base.Resolver``. The
MusicBrainz client itself lives in ``enrich/musicbrainz.py`` and uses ``http`` too.
Importing this package does no work.
"""
