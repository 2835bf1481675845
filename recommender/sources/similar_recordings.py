"""Source: recordings often played with your seed tracks (labs similar-recordings, asked by the
seed's canonical recording: labs recording-mbid-lookup)."""

from __future__ import annotations

from ..services.http import ServiceError
from .base import Context, Found, Source


class SimilarRecordings(Source):
    """For each of the ``seed_tracks`` strongest seed tracks: its recording MBID (ISRC), its
    ``per_seed`` most similar recordings, resolved to Spotify ids."""

    name = "similar_recordings"

    def find(self, ctx: Context, found: Found | None = None) -> Found:
        found = found if found is not None else Found()
        cfg = ctx.settings.discovery.similar_recordings
        tracks = ctx.library.frames["tracks"]
        names = dict(zip(tracks["track_id"].astype(str), tracks["name"].astype(object)))
        seeds = [str(t) for t in ctx.seed_tracks.sort_values(ascending=False, kind="stable").index][: int(cfg.seed_tracks)]
        ctx.guarded(self._canonical, ctx, seeds)
        return self.each_seed(ctx, found, "ListenBrainz + MusicBrainz: similar tracks",
                              [(t, str(names.get(t) or "")) for t in seeds])

    @staticmethod
    def _canonical(ctx: Context, seeds: list[str]) -> None:
        """The seeds' recording MBIDs (their ISRC look-ups) and, in one labs request, the
        canonical recording of each (cached: ``_seed`` reads them back), with a progress bar
        of its own (the similar tracks' bar then runs once)."""
        label = "MusicBrainz + labs: seed tracks' recordings"
        mbids = []
        for k, tid in enumerate(seeds):
            ctx.progress(label, k, len(seeds))
            mbids.append(ctx.resolver.track_mbids(tid)[0])
        ctx.open_data.canonical_recordings([m for m in mbids if m])
        ctx.progress(label, len(seeds), len(seeds))

    def _seed(self, ctx: Context, found: Found, tid: str, seed_name: str) -> None:
        cfg = ctx.settings.discovery.similar_recordings
        od, resolver = ctx.open_data, ctx.resolver
        rec, artist_mbids, _ = resolver.track_mbids(tid)
        if not rec:
            return
        # asked by the recording ListenBrainz counts the song's listens under (``canonical_recordings``);
        # when that look-up failed (labs down, the run's budget spent) the seed's own recording,
        # whose similar recordings the cache may still have
        try:
            rec = od.canonical_recordings([rec]).get(rec) or rec
        except ServiceError as exc:
            ctx.note(exc)
        found.recordings.append({"track_id": tid, "recording_mbid": rec, "artist_mbids": artist_mbids,
                                 "listen_count": None, "user_count": None})
        similar = od.similar_recordings(rec)[: int(cfg.per_seed)]
        if not similar:
            return
        top = max(s["score"] for s in similar) or 1.0
        ids = resolver.to_spotify(similar, ctx.note)
        rank = 0
        for s in similar:
            other = ids.get(s["mbid"])
            if not other or other == tid:
                continue
            rank += 1
            found.similar_tracks.append({"seed_track_id": tid, "track_id": other, "score": s["score"] / top,
                                         "rank": rank})
            found.discovered.append({"track_id": other, "source": self.name, "seed_id": tid,
                                     "seed_name": seed_name, "score": s["score"] / top})
            found.recordings.append({"track_id": other, "recording_mbid": s["mbid"],
                                     "artist_mbids": s["artist_mbids"], "listen_count": None, "user_count": None})
