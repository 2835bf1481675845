"""Discovery sources: where tracks the user does not have yet come from.

One small interface (``base.Source``): given a ``Context`` (the library, seed tracks with
weights, ranked seed artists, the open-data clients and the id resolver), ``find`` returns a
``Found``: candidate rows for the ``discovered`` frame (track, source, seed id and name,
score), the evidence (``recordings``, ``similar_artists``, ``similar_tracks`` rows, see
``schema.py``) and the metadata rows of new tracks (``tracks`` frame). Sources, one module each:

- ``albums``: albums of your top and followed artists (Spotify catalogue; run by the pull
  itself, it fills the ``discovery`` frame; ``refresh.discovery_*``), and of a seed playlist's
  main artists for a ``--seed-playlist`` run, with the albums its tracks by several artists share
  (``playlist_albums``, ``shared_albums``, cached with the open-data answers);
- ``similar_artists``: similar artists of your main artists (labs) -> their popular
  recordings (ListenBrainz popularity) (``discovery.similar_artists.*``);
- ``similar_recordings``: recordings often played with your seed tracks (labs)
  (``discovery.similar_recordings.*``).

``run.discover_open_data`` runs the open-data sources during a refresh, with the answer cache,
the request budget, a progress bar per service and one warning line per failed service.
"""
