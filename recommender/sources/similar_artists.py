"""Source: similar artists of your main artists (labs) -> their popular recordings (ListenBrainz)."""

from __future__ import annotations

from .base import Context, Found, Source


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
        similar = od.similar_artists(mbid)[: int(cfg.artists_per_seed)] if mbid else []
        if not similar:
            return
        top = max(s["score"] for s in similar) or 1.0
        for rank, s in enumerate(similar, start=1):
            found.similar_artists.append({"seed_artist_id": aid, "seed_artist_name": name, "artist_mbid": s["mbid"],
                                          "artist_name": s["name"], "score": s["score"] / top, "rank": rank})
        recordings = [(r, s["score"] / top) for s in similar
                      for r in od.top_recordings(s["mbid"])[: int(cfg.recordings_per_artist)]]
        ids = resolver.to_spotify([r for r, _ in recordings])
        for r, score in recordings:
            tid = ids.get(r["mbid"])
            if not tid:
                continue
            found.discovered.append({"track_id": tid, "source": self.name, "seed_id": aid, "seed_name": name,
                                     "score": score})
            found.recordings.append({"track_id": tid, "recording_mbid": r["mbid"], "artist_mbids": r["artist_mbids"],
                                     "listen_count": r.get("listens"), "user_count": r.get("users")})
