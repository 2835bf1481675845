"""`recommend web --demo` in a real browser (as test_web_browser.py) on a library with
right-to-left names: each name takes its own direction, as with dir="auto"."""

from __future__ import annotations

import json
import signal
import subprocess
import sys

import pytest

from test_web_browser import ROOT, browser, env_for  # noqa: F401  (browser: a fixture; skips as that module does)

pytestmark = pytest.mark.slow

NAME, ARTIST = "שלום עכשיו!", "2 להקות"  # a neutral "!" at the end, a number first
PICK, PICK_WAS = "ילדה מתוקה", "Promises"  # one of the demo's first picks, by a left-to-right artist


@pytest.fixture(scope="module")
def rtl_demo(tmp_path_factory):
    from recommender.standins.spotify import Account
    cache = tmp_path_factory.mktemp("web-rtl")
    acct = Account.sample()
    tid = sorted(acct.tracks)[0]
    acct.tracks[tid]["name"] = NAME
    acct.artists[acct.tracks[tid]["artist_ids"][0]]["name"] = ARTIST
    [pick] = [t for t in acct.tracks.values() if t["name"] == PICK_WAS]
    pick["name"] = PICK
    (cache / "demo").mkdir()
    (cache / "demo" / "standin-account.json").write_text(json.dumps(acct.to_dict()))
    proc = subprocess.Popen([sys.executable, "-m", "recommender", "web", "--demo", "--no-browser", "--port", "0"],
                            cwd=ROOT, env=env_for(cache), stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    url = proc.stdout.readline().strip()
    assert url.startswith("http://127.0.0.1:"), proc.stderr.read() if not url else url
    yield url
    proc.send_signal(signal.SIGINT)
    proc.wait(20)


# x of a name's first and last character (logical order) as drawn
EDGES = """(sel) => [...document.querySelectorAll(sel)].map(e => {
  const t = e.firstChild, r = document.createRange();
  const x = (i) => { r.setStart(t, i); r.setEnd(t, i + 1); return r.getBoundingClientRect().x; };
  return {text: e.textContent, first: x(0), last: x(t.length - 1)}; })"""


def searched(browser, url):  # noqa: F811
    """A page that opened the printed URL and searched for NAME: (page, base URL)."""
    page = browser.new_context(viewport={"width": 1300, "height": 900}).new_page()
    base = url.split("/?")[0]
    page.goto(url)
    page.wait_for_url(base + "/next")
    page.goto(base + "/search")
    page.fill("#q", "שלום עכשיו")
    return page, base


def test_a_right_to_left_name_reads_right_to_left_in_its_own_direction(browser, rtl_demo):  # noqa: F811
    # In the page's left-to-right flow "שלום עכשיו!" was drawn with its "!" at the right end, where a
    # reader of Hebrew starts, and "2 להקות" with the 2 at the left, where such a reader ends.
    page, base = searched(browser, rtl_demo)
    page.wait_for_selector("#results tbody tr")
    [name] = [e for e in page.evaluate(EDGES, "#results span.name") if e["text"] == NAME]
    [artist] = [e for e in page.evaluate(EDGES, "#results span.artists") if e["text"] == ARTIST]
    assert name["last"] < name["first"]    # "!" left of the "ש" it follows
    assert artist["first"] > artist["last"]  # "2" right of the word after it
    page.context.close()


# x of the first and last character of `text` (logical order) where it is drawn in the element
SPAN = """([sel, text]) => { const root = document.querySelector(sel);
  const w = document.createTreeWalker(root, NodeFilter.SHOW_TEXT); let t;
  while ((t = w.nextNode()) && !t.data.includes(text)) {}
  const i = t.data.indexOf(text), r = document.createRange();
  const x = (k) => { r.setStart(t, k); r.setEnd(t, k + 1); return r.getBoundingClientRect().x; };
  return {first: x(i), last: x(i + text.length - 1)}; }"""


def test_the_next_pages_diff_shows_a_right_to_left_name_before_its_artists(browser, rtl_demo):  # noqa: F811
    # The Added list's "NAME - ARTISTS" took the direction of its first letter: a Hebrew name turned
    # the whole line right to left, its artists first (on the left) and the line pushed to the right
    page, base = searched(browser, rtl_demo)
    link = page.locator("#results tbody tr", has=page.locator("span.name", has_text=NAME)).first.locator("a")
    track = link.get_attribute("href").split("track=")[1]
    page.goto(base + "/next")
    csrf = page.get_attribute('meta[name="csrf-token"]', "content")
    page.request.post(base + "/next/steer", form={"csrf": csrf, "action": "pin", "track": track})  # placed first
    page.goto(base + "/next")
    line = "#diff ul.added li:first-child"
    assert NAME in page.inner_text(line) and ARTIST in page.inner_text(line)
    name, artist = page.evaluate(SPAN, [line, NAME]), page.evaluate(SPAN, [line, ARTIST])
    assert name["last"] < name["first"] and artist["last"] < artist["first"]  # each reads right to left
    assert max(name.values()) < min(artist.values())  # the name first, on the left, as on every other line
    page.request.post(base + "/next/steer", form={"csrf": csrf, "action": "unpin", "track": track})
    page.context.close()


def test_the_next_pages_diff_shows_a_removed_right_to_left_name_before_its_artists(browser, rtl_demo):  # noqa: F811
    # The Removed list kept "NAME - ARTISTS" in one piece after the Added list's fix: a Hebrew name
    # drew its artists first. The first pick, published, then removed: it leaves the playlist and the table.
    page = browser.new_context(viewport={"width": 1300, "height": 900}).new_page()
    base = rtl_demo.split("/?")[0]
    page.goto(rtl_demo)
    page.wait_for_url(base + "/next")
    csrf = page.get_attribute('meta[name="csrf-token"]', "content")
    page.request.post(base + "/next/publish", form={"csrf": csrf, "plan": page.get_attribute('input[name="plan"]', "value")})
    page.goto(base + "/next")
    track = page.locator("#next-table tbody tr", has=page.locator("span.name", has_text=PICK)).get_attribute("data-track")
    page.request.post(base + "/next/steer", form={"csrf": csrf, "action": "remove", "track": track})
    page.goto(base + "/next")
    line = "#diff ul.removed li:first-child"
    artists = page.locator(line + " bdi").nth(1).inner_text()  # (the line ends with its "why" button)
    assert artists and page.locator("#diff ul.removed li").count() == 1
    name, artist = page.evaluate(SPAN, [line, PICK]), page.evaluate(SPAN, [line, artists])
    assert name["last"] < name["first"]  # the name reads right to left
    assert max(name.values()) < min(artist.values())  # the name first, on the left, as on every other line
    page.context.close()
