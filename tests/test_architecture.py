"""The import rules of the README's architecture section, checked by parsing the imports."""

from __future__ import annotations

import ast
import os
import subprocess
import sys
from pathlib import Path

PKG = Path(__file__).resolve().parents[1] / "recommender"


def module_name(path: Path) -> str:
    rel = path.relative_to(PKG.parent).with_suffix("")
    parts = list(rel.parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def imports_of(path: Path) -> set[str]:
    """Absolute names of everything a module imports (relative imports resolved)."""
    tree = ast.parse(path.read_text())
    me = module_name(path)
    package = me if path.name == "__init__.py" else me.rsplit(".", 1)[0]
    out: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            out.update(a.name for a in node.names)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")
                base = base[: len(base) - (node.level - 1)]
                mod = ".".join(base + ([node.module] if node.module else []))
            else:
                mod = node.module or ""
            out.add(mod)
            out.update(f"{mod}.{a.name}" for a in node.names)
    return out


def internal(names: set[str]) -> set[str]:
    """Top-level recommender modules imported (recommender.spotify.x -> recommender.spotify.x)."""
    return {n for n in names if n.startswith("recommender.") or n == "recommender"}


MODULES = {module_name(p): imports_of(p) for p in PKG.rglob("*.py")}


def allowed_only(module: str, allowed: set[str]) -> list[str]:
    bad = []
    for name in internal(MODULES[module]):
        if name == "recommender":
            continue
        if not any(name == a or name.startswith(a + ".") for a in allowed):
            bad.append(name)
    return bad


def test_nothing_imports_the_cli():
    offenders = [m for m, names in MODULES.items()
                 if m != "recommender.__main__" and not in_cli(m) and any(in_cli(n) for n in names)]
    assert offenders == []


def in_cli(module: str) -> bool:
    return module == "recommender.cli" or module.startswith("recommender.cli.")


def test_the_cli_s_base_and_output_know_none_of_its_commands():
    """The cli package: ``output`` (how things are printed), ``usage`` (click's errors in one
    line), ``clickparts`` (typer's classes as adjusted) and ``process`` (streams and signals)
    import nothing of it, ``base`` (the Typer app, the ``command`` decorator, ``main``) only
    those, each command module only ``base`` and ``output``: a command never reaches into
    another's module, and the plumbing never into a command."""
    def cli_imports(module: str) -> set[str]:
        return {n for n in internal(MODULES[module]) if in_cli(n)}
    leaves = ("recommender.cli.output", "recommender.cli.usage", "recommender.cli.clickparts", "recommender.cli.process")
    assert all(cli_imports(m) == set() for m in leaves)
    assert cli_imports("recommender.cli.base") and all(n.startswith(leaves) for n in cli_imports("recommender.cli.base"))
    plumbing = {"recommender.cli", "recommender.cli.base", *leaves}
    commands = [m for m in MODULES if in_cli(m) and m not in plumbing]
    assert len(commands) >= 9
    for m in commands:
        assert all(n.startswith(("recommender.cli.base", "recommender.cli.output")) for n in cli_imports(m)), m


def test_only_the_spotify_package_imports_spotipy():
    offenders = [m for m, names in MODULES.items()
                 if not m.startswith("recommender.spotify") and any(n.split(".")[0] == "spotipy" for n in names)]
    assert offenders == []


def test_foundation_modules_import_at_most_errors_and_schema():
    base = {"recommender.errors", "recommender.schema"}
    assert allowed_only("recommender.errors", set()) == []
    assert allowed_only("recommender.schema", set()) == []
    assert allowed_only("recommender.paths", set()) == []
    assert allowed_only("recommender.isotime", set()) == []
    assert allowed_only("recommender.namewords", set()) == []
    # wording (plural, and_list): how every message counts and lists, config's too; safetext (a
    # foundation too, stdlib only): a service address in a message with its password as *** (the
    # one rule for it, which the log and `config show` use too)
    assert allowed_only("recommender.wording", {"recommender.safetext"}) == []
    # safetext (stdlib only): config refuses a contact no HTTP header can carry (header_safe)
    assert allowed_only("recommender.config", base | {"recommender.paths", "recommender.wording",
                                                      "recommender.safetext"}) == []
    # safetext (stdlib only): library reads a name back as the tool shows it (safetext.unescape_shown)
    assert allowed_only("recommender.safetext", set()) == []
    # links (stdlib only): the one grammar of pasted Spotify ids, URIs and links (a playlist's link
    # took only https:// and no embed/ while search took both for a track's)
    assert allowed_only("recommender.links", set()) == []
    assert allowed_only("recommender.library", base | {"recommender.safetext", "recommender.links"}) == []
    assert allowed_only("recommender.titles", base | {"recommender.library", "recommender.safetext"}) == []
    # paths (a foundation too): one directory under two names, the leftovers of a move
    assert allowed_only("recommender.store", base | {"recommender.library", "recommender.isotime",
                                                     "recommender.paths", "recommender.safetext"}) == []


def test_the_lock_does_not_import_the_run_log():
    """runlog reads the lock (who runs, who stopped); the lock records nothing in runs.jsonl
    itself: jobs.writing records a run it took over (an import both ways made every RunLock,
    migrate's on an old folder too, write runs.jsonl)."""
    assert not any(n.startswith("recommender.runlog") for n in internal(MODULES["recommender.lock"]))


def test_spotify_http_layer_knows_nothing_of_scoring():
    # isotime: the clock (a foundation, stdlib only) for the "try again after" time; paths (a
    # foundation too): where the standard login is, named when a cache.dir has none; safetext
    # (stdlib only): a name's lone surrogate made U+FFFD as the answer is read; wording (stdlib
    # only): "1 attempt"
    base = {"recommender.errors", "recommender.schema", "recommender.store", "recommender.spotify",
            "recommender.isotime", "recommender.paths", "recommender.safetext", "recommender.wording"}
    for m in ("recommender.spotify.gateway", "recommender.spotify.auth", "recommender.spotify.parse"):
        assert allowed_only(m, base) == [], m


def test_scoring_never_talks_to_spotify_or_publishes():
    for m, names in MODULES.items():
        if m.startswith(("recommender.scorers", "recommender.blend", "recommender.pipeline", "recommender.evaluate",
                         "recommender.tune", "recommender.dataset")):
            bad = [n for n in internal(names) if n.startswith(("recommender.spotify", "recommender.publish",
                                                                 "recommender.jobs"))]
            assert bad == [], (m, bad)


def test_scoring_never_imports_the_open_data_clients():
    """Scoring reads what discovery stored, never the HTTP clients: the open-data scorer imported
    the MusicBrainz client module (and with it requests, the store, the HTTP layer) for one name
    rule, which lives with the Library's other name keys."""
    for m, names in MODULES.items():
        if m.startswith(("recommender.scorers", "recommender.blend", "recommender.pipeline", "recommender.evaluate",
                         "recommender.tune")):
            bad = [n for n in internal(names) if n.startswith(("recommender.enrich", "recommender.services"))]
            assert bad == [], (m, bad)


def test_discovery_sources_never_import_the_pipeline():
    """The sources and their id resolver sit under the pipeline that uses what they find: the
    resolver's title rule is ``titles``', which both import (a lazy import of the pipeline's
    ``normalise_title`` made ``sources/base`` depend on the orchestrator). ``sources/run``, which
    runs them during a refresh, takes the pipeline's taste seeds when given none."""
    for m, names in MODULES.items():
        if m.startswith("recommender.sources") and m != "recommender.sources.run":
            bad = [n for n in internal(names) if n.startswith(("recommender.pipeline", "recommender.scorers",
                                                                 "recommender.blend", "recommender.jobs"))]
            assert bad == [], (m, bad)


def test_publish_does_not_score():
    bad = [n for n in internal(MODULES["recommender.publish"])
           if n.startswith(("recommender.pipeline", "recommender.scorers", "recommender.blend"))]
    assert bad == []


def test_importing_the_cli_loads_no_heavy_library():
    """Nothing happens at import time: `recommend --help` starts without pandas or sklearn."""
    code = "import sys, recommender.cli; print(sorted(m for m in ('pandas', 'sklearn', 'spotipy', 'scipy') if m in sys.modules))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout.strip()
    assert out == "[]"


def test_a_build_imports_no_scikit_learn(tmp_path):
    """scikit-learn (with the scipy.stats it imports) took 1.4 s of every run's 2.5 s of imports:
    a build-playlist run, whose content scorer needs only character n-grams and stop words
    from it, imports none of it (the moods and the benchmark's anchors still do)."""
    code = ("import atexit, sys; atexit.register(lambda: print('sklearn' in sys.modules, file=sys.stderr)); "
            "sys.argv = ['recommend', 'build-playlist', '--demo', '--dry-run', '--quiet']; "
            "from recommender.__main__ import run; run()")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=tmp_path,
                          env={**os.environ, "HOME": str(tmp_path)}, timeout=120)
    assert done.returncode == 0, done.stderr
    assert done.stderr.strip().splitlines()[-1] == "False"


def test_stand_ins_are_reached_only_by_the_demo_the_standin_command_and_the_benchmark():
    """Fakes are not product: only the places that start a stand-in import recommender.standins."""
    allowed = {"recommender.cli.servers", "recommender.jobs", "recommender.persona", "recommender.web.server"}
    offenders = sorted(m for m, names in MODULES.items()
                       if not m.startswith("recommender.standins") and m not in allowed
                       and any(n.startswith("recommender.standins") for n in internal(names)))
    assert offenders == []


def test_open_data_clients_know_nothing_of_scoring_or_spotify():
    for m in MODULES:
        if m.startswith("recommender.services"):
            bad = [n for n in internal(MODULES[m]) if n.startswith(("recommender.scorers", "recommender.pipeline",
                                                                    "recommender.spotify", "recommender.publish",
                                                                    "recommender.jobs", "recommender.sources"))]
            assert bad == [], (m, bad)


def test_now_is_read_through_the_one_clock():
    """Every "now" that ages or stamps something comes from ``isotime.utc_now`` (so that
    tests/test_weeks.py can move time); a new ``datetime.now()`` elsewhere would escape it.
    Allowed: the stand-in's sample dates. The login's expiry and the lock record's start are
    compared with the machine's time (spotipy's, the kernel's): ``isotime.system_now``."""
    import re
    allowed = {"isotime.py", "standins/spotify.py"}
    pattern = re.compile(r"datetime\.now\(|datetime\.utcnow\(|date\.today\(|Timestamp\.(now|utcnow|today)\(")
    pkg = Path(__file__).resolve().parents[1] / "recommender"
    found = [f"{p.relative_to(pkg)}:{i}" for p in sorted(pkg.rglob("*.py"))
             if p.relative_to(pkg).as_posix() not in allowed
             for i, line in enumerate(p.read_text(encoding="utf-8").splitlines(), 1) if pattern.search(line)]
    assert found == []


def test_the_checkout_tracks_only_the_projects_top_level():
    """The top level is fixed (README, Architecture): a stray file a commit took in (web2.pid, a
    test run's pid, was tracked for weeks) is named here. Skipped outside a git checkout."""
    import shutil

    import pytest
    root = PKG.parent
    if not (root / ".git").exists() or shutil.which("git") is None:
        pytest.skip("not a git checkout")
    listed = subprocess.run(["git", "ls-files"], cwd=root, capture_output=True, text=True, check=True).stdout
    top = {line.split("/", 1)[0] for line in listed.splitlines()}
    assert top <= {"recommender", "config", "cache", "tests", "bench", ".ci", "pyproject.toml", "README.md",
                   ".gitignore"}, sorted(top)


def import_graph() -> dict[str, set[str]]:
    """Each module -> the modules of the package it imports, at its top or inside a function
    (a name imported from a module counts as that module; the package itself as nothing)."""
    graph = {}
    for module, names in MODULES.items():
        deps = set()
        for name in internal(names):
            while name and name not in MODULES:
                name = name.rpartition(".")[0]
            if name and name not in (module, "recommender"):
                deps.add(name)
        graph[module] = deps
    return graph


def import_cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """The groups of modules that import one another, directly or through others (Tarjan's
    strongly connected components of more than one module)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    cycles = []

    def visit(v: str) -> None:
        index[v] = low[v] = len(index)
        stack.append(v)
        for w in sorted(graph[v]):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            group = []
            while True:
                w = stack.pop()
                group.append(w)
                if w == v:
                    break
            if len(group) > 1:
                cycles.append(sorted(group))
    for v in sorted(graph):
        if v not in index:
            visit(v)
    return cycles


def test_no_modules_import_one_another():
    """The layers go one way. A function-level import does not make a cycle any less of one: it
    hides it from the import system until the day the import moves up (moodexport <-> jobs,
    explore <-> libsource, runlog <-> schedule, content <-> year, musicbrainz <-> listenbrainz,
    seven modules in all through jobs, were such pairs)."""
    assert import_cycles(import_graph()) == []


def test_the_cycle_check_finds_a_cycle_through_a_lazy_import():
    graph = {"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}
    assert import_cycles(graph) == [["a", "b", "c"]]
    assert import_cycles({"a": {"b"}, "b": set()}) == []
