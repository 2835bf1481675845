"""Everything that talks to Spotify (or to the local stand-in that imitates it)."""
