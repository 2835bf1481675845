"""Source: similar artists of your main artists (labs) -> their popular recordings (ListenBrainz).

``discovery.similar_artists.via`` picks the requests: ``top_recordings`` (labs similar artists,
then one ``top-recordings-for-artist`` per similar artist) or ``lb_radio`` (one ListenBrainz
``lb-radio/artist`` per seed artist, which answers both at once but without a similarity score:
every similar artist of the answer scores ``LB_RADIO_SCORE``, see ``_seed_radio``). When
ListenBrainz refuses ``top_recordings`` for want of a user token, the recordings the cache
does not have come from lb-radio, which wants none (``_radio_recordings``)."""

from __future__ import annotations

from ..services.http import ServiceError
from ..services.listenbrainz import TOP_RECORDINGS
from .base import Context, Found, Source

# The similar-artist score of every artist an lb-radio answer lists (labs scores are scaled so
# that a seed's best similar artist is 1; lb-radio gives none, and its order is not by
# similarity): the middle of that scale.
LB_RADIO_SCORE = 0.5


class SimilarArtists(Source):
    """For each of the first ``seed_artists`` seed artists: its MBID (ISRC of one of its
    tracks), its ``artists_per_seed`` most similar artists, and the ``recordings_per_artist``
    most listened recordings of each, resolved to Spotify ids."""

    name = "similar_artists"

    def find(self, ctx: Context, found: Found | None = None) -> Found:
        found = found if found is not None else Found()
        cfg = ctx.settings.discovery.similar_artists
        art = ctx.library.frames["artists"]
        names = dict(zip(art["artist_id"].astype(str), art["name"].astype(object)))
        seeds = [a for a in ctx.seed_artists if names.get(a)][: int(cfg.seed_artists)]
        return self.each_seed(ctx, found, "ListenBrainz + MusicBrainz: similar artists",
                              [(a, str(names[a])) for a in seeds])

    def _seed(self, ctx: Context, found: Found, aid: str, name: str) -> None:
        cfg = ctx.settings.discovery.similar_artists
        od, resolver = ctx.open_data, ctx.resolver
        mbid = resolver.artist_mbid(aid, name)
        if mbid and cfg.via == "lb_radio":
            return self._seed_radio(ctx, found, aid, name, mbid)
        similar = od.similar_artists(mbid)[: int(cfg.artists_per_seed)] if mbid else []
        if not similar:
            return
        top = max(s["score"] for s in similar) or 1.0
        scored = [(s, s["score"] / top) for s in similar]
        self._add_similar(found, aid, name, scored)
        recordings, covered = [], set()
        for s, score in scored:
            try:  # cached top recordings answer even once the endpoint refused this run, or a failure stopped it
                tops = od.top_recordings(s["mbid"])
            except ServiceError as exc:
                if not any(f is exc for f in ctx.failures):
                    ctx.note(exc)  # the warning names listenbrainz.token, or what failed (once)
                continue
            covered.add(s["mbid"])
            recordings += [(r, score) for r in tops[: int(cfg.recordings_per_artist)]]
        self._add_recordings(ctx, found, aid, name, recordings)
        if len(covered) < len(scored):
            self._radio_recordings(ctx, found, aid, name, mbid, scored, covered)

    def _radio_recordings(self, ctx: Context, found: Found, aid: str, name: str, mbid: str,
                          scored: list[tuple[dict, float]], covered: set[str]) -> None:
        """The recordings of a seed's similar artists when ListenBrainz wants a user token for
        their top recordings (since August 2026, listenbrainz-server popularity_api.py) and none
        or a refused one was given, and the cache does not have them all: its lb-radio, which
        wants none, answers the seed's similar artists with some of their popular recordings
        (those of the ``covered`` artists, whose cached top recordings were taken, are skipped).
        Labs' similar artists keep their scores; an artist lb-radio adds scores
        ``LB_RADIO_SCORE`` (see ``_seed_radio``)."""
        cfg = ctx.settings.discovery.similar_artists
        radio = ctx.open_data.lb_radio(mbid, int(cfg.artists_per_seed), int(cfg.recordings_per_artist))
        labs = {s["mbid"]: score for s, score in scored}
        self._add_similar(found, aid, name, [(s, LB_RADIO_SCORE) for s in radio if s["mbid"] not in labs],
                          first_rank=len(scored) + 1)
        self._add_recordings(ctx, found, aid, name, [(r, labs.get(s["mbid"], LB_RADIO_SCORE))
                                                     for s in radio if s["mbid"] not in covered
                                                     for r in s["recordings"]])

    def _seed_radio(self, ctx: Context, found: Found, aid: str, name: str, mbid: str) -> None:
        """One lb-radio request: its similar artists and their recordings. lb-radio says only
        that an artist is among the seed's closest (the live service picks them at random
        among those, in no promised order), so every similar artist of the answer scores
        ``LB_RADIO_SCORE``: no artist is ranked above another on evidence the answer does not
        give. The seed artist's own recordings in the answer are skipped (its catalogue is the
        albums source's; the other mode does not ask for them either)."""
        cfg = ctx.settings.discovery.similar_artists
        similar = ctx.open_data.lb_radio(mbid, int(cfg.artists_per_seed), int(cfg.recordings_per_artist))
        scored = [(s, LB_RADIO_SCORE) for s in similar]
        self._add_similar(found, aid, name, scored)
        self._add_recordings(ctx, found, aid, name, [(r, score) for s, score in scored for r in s["recordings"]])

    @staticmethod
    def _add_similar(found: Found, aid: str, name: str, scored: list[tuple[dict, float]], first_rank: int = 1) -> None:
        for rank, (s, score) in enumerate(scored, start=first_rank):
            found.similar_artists.append({"seed_artist_id": aid, "seed_artist_name": name, "artist_mbid": s["mbid"],
                                          "artist_name": s["name"], "score": score, "rank": rank})

    def _add_recordings(self, ctx: Context, found: Found, aid: str, name: str,
                        recordings: list[tuple[dict, float]]) -> None:
        ids = ctx.resolver.to_spotify([r for r, _ in recordings], ctx.note)
        for r, score in recordings:
            tid = ids.get(r["mbid"])
            if not tid:
                continue
            found.discovered.append({"track_id": tid, "source": self.name, "seed_id": aid, "seed_name": name,
                                     "score": score})
            found.recordings.append({"track_id": tid, "recording_mbid": r["mbid"], "artist_mbids": r["artist_mbids"],
                                     "listen_count": r.get("listens"), "user_count": r.get("users")})
