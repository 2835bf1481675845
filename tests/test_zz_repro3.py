import json
from test_cli_conventions import logged_in, run  # noqa
from recommender.store import Store
from recommender.config import load_settings


def test_repro3(logged_in, tmp_path):
    server, env, cache = logged_in
    assert run(["build-playlist", "--quiet"], env).exit_code == 0
    theirs = "smallPlaylist000000004"
    store = Store(cache) if not isinstance(cache, Store) else cache
    print("cache", cache)
    m = store.read_manifest()
    store.update_manifest(managed_playlist={**m["managed_playlist"], "id": theirs})
    r = run(["build-playlist"], env)
    print(r.stdout, r.stderr)
    r = run(["playlists"], {**env, "COLUMNS": "200"})
    print(r.stdout)
    r = run(["status"], {**env, "COLUMNS": "200"})
    print(r.stdout)
    print(json.dumps(Store(cache).read_manifest().get("managed_history"), indent=1))
