"""README.md's checkable claims, checked mechanically: every test, file, module, config key,
command, option, environment variable and exit code it names exists, and the architecture
list names every module (it had lost web/discovery.py). Each is one rename away from a wrong
sentence that no reader can check by running it."""

from __future__ import annotations

import re
from pathlib import Path

import typer.main
import yaml

from recommender import errors
from recommender.cli import app

ROOT = Path(__file__).resolve().parents[1]
README = (ROOT / "README.md").read_text(encoding="utf-8")
LINES = README.splitlines()

# Paths README names on purpose although they are no file of the checkout: the user config
# file's place and the old checkout layout (read only when an old checkout has them).
NOT_IN_THE_CHECKOUT = {"config/recommend/config.yaml", "config/user.yaml", "config/systemd/user"}  # ~/.config/...
# Keys README names as what a config file gets wrong (the error messages it quotes).
WRONG_KEYS_QUOTED = {"blend.max_trakcs", "blend.new_share", "playlist.size", "playlist.private"}
# Options of the bench scripts (argparse), not of `recommend`.
BENCH_OPTIONS = {"--data", "--csv", "--set", "--diagnose", "--cache", "--compare"}


def _where(needle: str) -> str:
    return next((f"README.md:{i}" for i, line in enumerate(LINES, 1) if needle in line), "README.md")


def _defaults() -> dict:
    def flat(tree: dict, prefix: str = "") -> dict:
        out = {}
        for key, value in tree.items():
            out[prefix + key] = value
            if isinstance(value, dict):
                out.update(flat(value, prefix + key + "."))
        return out
    return flat(yaml.safe_load((ROOT / "config" / "default.yaml").read_text(encoding="utf-8")))


def _test_names(path: Path) -> set[str]:
    return set(re.findall(r"^\s*(?:async\s+)?def (test_\w+)", path.read_text(encoding="utf-8"), re.M))


def test_every_cited_test_exists_in_the_file_it_is_cited_in():
    every = {name for f in (ROOT / "tests").glob("test_*.py") for name in _test_names(f)}
    missing = []
    for file, name in set(re.findall(r"\b(?:tests/)?(test_\w+\.py)::(\w+)", README)):
        if not (ROOT / "tests" / file).exists() or name not in _test_names(ROOT / "tests" / file):
            missing.append(f"{file}::{name} ({_where(name)})")
    for name in set(re.findall(r"(?<![\w/.:])(test_\w+)\b(?!\.py)", README)):
        if name not in every and not (ROOT / "tests" / f"{name}.py").exists():
            missing.append(f"{name} ({_where(name)})")
    assert sorted(missing) == []


def test_every_cited_path_and_module_exists():
    cited = {p.rstrip(".,:;)") for p in re.findall(r"\b((?:recommender|bench|config|tests)/[\w./-]+)", README)}
    missing = [p for p in cited if not (ROOT / p).exists() and p not in NOT_IN_THE_CHECKOUT]
    for dotted in set(re.findall(r"\b(?:recommender)\.[a-z_.]*[a-z_]", README)):
        path = ROOT / dotted.replace(".", "/")
        if not path.with_suffix(".py").exists() and not path.is_dir():
            missing.append(dotted)
    assert sorted(missing) == []


def test_every_config_key_named_exists_in_the_defaults():
    keys = _defaults()
    sections = {k for k in keys if "." not in k}
    unknown = []
    for key in set(re.findall(r"`([a-z_]+(?:\.[a-z_0-9]+)+)(?::[^`]*)?`", README)):
        if key.split(".")[0] in sections and key not in keys and key not in WRONG_KEYS_QUOTED:
            unknown.append(f"{key} ({_where(key)})")
    assert sorted(unknown) == []


def test_the_defaults_readme_states_are_the_shipped_ones():
    """README's "(`key`, value)" and "`key: value` ... by default" forms name the shipped default."""
    keys = _defaults()
    stated = {
        "blend.threshold": 0.3, "blend.artist_mix": 0.05, "blend.max_tracks": 50, "blend.max_per_artist": 3,
        "candidates.new_share": 0.5, "scorers.artist_walk.shrink": 50, "scorers.artist_walk.weight": 1.15,
        "scorers.opendata.weight": 0.1, "scorers.coverage.weight": 0.4, "scorers.coverage.per": "seeds",
        "scorers.year.weight": 0.2, "scorers.content.weight": 1.0, "scorers.collaborative.weight": 0,
        "scorers.popularity.weight": 0, "scorers.audio.weight": 0, "similar.same_artist": 3,
        "search.min_score": 0.35, "schedule.cron": "30 6 * * *", "schedule.enrich_limit": 0,
        "evaluate.top_n": 10, "evaluate.seed": 42, "tune.folds": 3, "discovery.request_budget": 600,
        "discovery.similar_artists.via": "top_recordings", "listenbrainz.max_retry_wait": 30,
        "spotify.max_retry_wait": 60, "spotify.max_total_wait": 600, "spotify.timeout": 10, "cache.max_age_hours": 12,
        "refresh.discovery_artists": 20, "refresh.discovery_albums_per_artist": 5,
        "refresh.discovery_recheck_days": 7, "discovery.ttl_similar_artists_days": 7,
        "discovery.ttl_recordings_days": 30, "playlist.public": False, "discovery.enabled": True,
        "scorers.content.drop_packaging": False, "scorers.content.split_cjk": False, "scorers.content.skip_filler": False,
    }
    assert {k: keys[k] for k in stated} == stated
    # and README says so where it names them
    for key, value in [("similar.same_artist", 3), ("search.min_score", 0.35), ("schedule.cron", "30 6 * * *")]:
        assert f"`{key}: {value}`" in README or f"`{key}`, `{value}`" in README, key
    assert "`blend.artist_mix`, 0.05" in README and "`scorers.artist_walk.shrink`, 50" in README
    assert "`discovery.request_budget` (600)" in README and "`candidates.new_share`, 0.5" in README


def _commands():
    root = typer.main.get_command(app)
    out = {(): root}

    def walk(cmd, path):
        for name, sub in getattr(cmd, "commands", {}).items():
            out[(*path, name)] = sub
            walk(sub, (*path, name))
    walk(root, ())
    return out


def test_every_command_and_option_readme_shows_exists():
    commands = _commands()
    every_option = {o for c in commands.values() for p in c.params for o in (*p.opts, *p.secondary_opts)}
    wrong = []
    for i, line in enumerate(LINES, 1):
        for m in re.finditer(r"\brecommend((?:\s+[-\w=.'\"<>/:\[\]…]+)+)", line):
            words, path = m.group(1).split(), ()
            while words and (*path, words[0]) in commands:
                path = (*path, words.pop(0))
            if not path:
                continue
            cmd = commands[path]
            if getattr(cmd, "commands", None) and words and re.fullmatch(r"[a-z][a-z-]+", words[0]):
                wrong.append(f"README.md:{i}: recommend {' '.join(path)} {words[0]}")
                continue
            own = {o for p in cmd.params for o in (*p.opts, *p.secondary_opts)} | {"-h", "--help"}
            own |= {o for p in commands[()].params for o in (*p.opts, *p.secondary_opts)}
            for w in words:
                opt = w.split("=")[0].rstrip(".,;:)`'\"")
                if opt.startswith("-") and opt not in ("-", "--") and opt not in own:
                    wrong.append(f"README.md:{i}: recommend {' '.join(path)} {opt}")
    for opt in set(re.findall(r"`(--[a-z][a-z-]*)", README)):
        if opt not in every_option | BENCH_OPTIONS | {"--help"}:
            wrong.append(f"{_where(opt)}: {opt}")
    assert wrong == []


def test_every_option_a_row_of_the_commands_table_lists_is_that_commands():
    """The Commands table listed `--report FILE` for `recommend moods cluster`, which has no such
    option ("no such option: --report"): the check above finds an option anywhere in the CLI. An
    option named as another command's ("id (for `--seed-playlist`)") is left out."""
    commands, wrong = _commands(), []
    common = {o for p in commands[()].params for o in (*p.opts, *p.secondary_opts)} | {"-h", "--help"}
    for i, line in enumerate(LINES, 1):
        m = re.match(r"\| `recommend ([^`]*)`[^|]*\| (.*) \|$", line)
        if not m:
            continue
        words, path = m.group(1).split(), ()
        while words and (*path, words[0]) in commands:
            path = (*path, words.pop(0))
        own = {o for p in commands[path].params for o in (*p.opts, *p.secondary_opts)} | common
        wrong += [f"README.md:{i}: recommend {' '.join(path)} {opt}"
                  for opt in re.findall(r"(?<!for )`(--[a-z][a-z-]*)", m.group(2)) if opt not in own]
    assert wrong == []


def test_the_exit_code_table_is_the_error_hierarchys():
    table = README.split("### Exit codes", 1)[1].split("\n## ", 1)[0]
    listed = {int(c) for row in re.findall(r"^\| ([\d, ]+) \|", table, re.M) for c in row.split(",")}
    hierarchy = {cls.exit_code for cls in vars(errors).values()
                 if isinstance(cls, type) and issubclass(cls, errors.RecommenderError)}
    assert hierarchy <= listed
    assert listed == hierarchy | {0, 129, 130, 143}  # the stops: SIGHUP, Ctrl-C, SIGTERM
    rows = [int(r.split(",")[0]) for r in re.findall(r"^\| ([\d, ]+) \|", table, re.M)]
    assert rows == sorted(rows)


def test_every_environment_variable_named_is_read_by_the_code():
    code = "\n".join(p.read_text(encoding="utf-8") for p in (ROOT / "recommender").rglob("*.py"))
    named = set(re.findall(r"\b((?:RECOMMENDER|SPOTIPY|LISTENBRAINZ)_[A-Z_]+)\b", README))
    assert named and sorted(v for v in named if v not in code) == []


def test_the_architecture_list_names_every_module():
    block = README.split("## Architecture", 1)[1].split("```", 2)[1]
    package = ROOT / "recommender"
    missing = []
    for path in package.rglob("*.py"):
        if path.name in ("__init__.py", "__main__.py") or "data" in path.parts:
            continue
        if not re.search(rf"(?<![\w]){re.escape(path.stem)}\.py\b|\b{re.escape(path.stem)}/", block):
            missing.append(str(path.relative_to(ROOT)))
    assert sorted(missing) == []
    for sub in (p for p in package.iterdir() if p.is_dir() and (p / "__init__.py").exists()):
        assert f"{sub.name}/" in block, sub.name
    for bench in (ROOT / "bench").glob("*.py"):
        assert bench.name in block, bench.name


def test_quiet_help_says_what_readme_says_it_prints():
    """README: --quiet prints only errors, `note:` lines and the JSON; -h said "errors only"."""
    root = _commands()[()]
    helps = {p.help for c in _commands().values() for p in c.params if "--quiet" in p.opts}
    assert len(helps) == 2 and root.params  # with --json output, and for commands that print no JSON
    assert all("errors" in text and "note:" in text for text in helps)
    assert [text for text in helps if "--json" in text]
    assert "`note:`" in README and "`--quiet` prints only errors" in README


def test_every_bench_option_readme_shows_exists():
    """`python bench/X.py --opt` (also when the command goes on over the next line)."""
    text = re.sub(r"\s*\n\s*", " ", README)
    wrong = []
    for script, rest in re.findall(r"bench/(\w+)\.py((?:\s+(?!#)[^\s`|&;#]+)*)", text):
        source = (ROOT / "bench" / f"{script}.py").read_text(encoding="utf-8")
        for opt in re.findall(r"(?<!\S)(--[a-z][a-z-]*)", rest):
            if f'"{opt}"' not in source and opt not in ("--help",):
                wrong.append(f"bench/{script}.py {opt}")
    assert sorted(set(wrong)) == []


def test_every_link_inside_readme_lands_on_a_heading():
    def slug(heading: str) -> str:  # GitHub's: lower case, punctuation out, spaces to hyphens
        return re.sub(r"[^\w\- ]", "", heading.strip().lower()).replace(" ", "-")
    in_code, anchors = False, set()
    for line in LINES:
        in_code ^= line.startswith("```")
        if not in_code and line.startswith("#"):
            anchors.add(slug(line.lstrip("#")))
    links = set(re.findall(r"\]\(#([^)]+)\)", README))
    assert links and sorted(links - anchors) == []
