// recommend web: one small script, no libraries. Data is only ever put into the page with
// textContent / setAttribute (never innerHTML), so names from strangers stay text.
"use strict";

const SVG = "http://www.w3.org/2000/svg";
// one per curve of the Runs page (the blend and up to 11 scorers: the demo draws 10) and per mood
const COLOURS = ["#4e79a7", "#f28e2b", "#59a14f", "#e15759", "#76b7b2", "#edc948", "#b07aa1", "#ff9da7", "#9c755f",
  "#17becf", "#bcbd22", "#2f4b7c"];
const OTHER = "#bab0ac";

function csrf() { return document.querySelector('meta[name="csrf-token"]').content; }

// Control characters and bidi overrides/isolates/marks shown as visible escapes ("\u202e"), as
// safetext.terminal_safe does for the terminal and the pages' templates: a name holding U+202E
// would otherwise turn the rest of its line around (the why, an artist after it). A newline too
// ("\x0a", as the server's pages show a name's), which the page would show as a space; kept only
// in a text of lines of our own (a config diff: ``keepNewlines``).
const UNSAFE = /[\u0000-\u001f\u007f-\u009f\u2028\u2029\u202a-\u202e\u2066-\u2069\u061c\u200e\u200f]/g;
const UNSAFE_BUT_NEWLINES = /[\u0000-\u0009\u000b-\u001f\u007f-\u009f\u2028\u2029\u202a-\u202e\u2066-\u2069\u061c\u200e\u200f]/g;
function visibleText(text, keepNewlines) {
  return String(text).replace(keepNewlines ? UNSAFE_BUT_NEWLINES : UNSAFE, (c) => {
    const code = c.charCodeAt(0);
    return code < 0x100 ? "\\x" + code.toString(16).padStart(2, "0") : "\\u" + code.toString(16).padStart(4, "0");
  });
}

function el(tag, attrs, text) {
  const node = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) node.setAttribute(k, v);
  if (text !== undefined && text !== null) node.textContent = visibleText(text);
  return node;
}

function svg(tag, attrs, text) {
  const node = document.createElementNS(SVG, tag);
  for (const [k, v] of Object.entries(attrs || {})) node.setAttribute(k, String(v));
  if (text !== undefined && text !== null) node.textContent = visibleText(text);
  return node;
}

// A heading filled by the script is hidden while it is empty (a screen reader listed an empty heading)
function setHeading(node, text) {
  node.textContent = visibleText(text);
  node.hidden = !text;
}

function pageData() {
  const node = document.getElementById("page-data");
  return node ? JSON.parse(node.textContent) : null;
}

// "1 track", "2 tracks": as the CLI's wording.plural
function tracksText(n) { return `${n} track${n === 1 ? "" : "s"}`; }
function fmt(v, digits) { return v === null || v === undefined ? "-" : Number(v).toFixed(digits === undefined ? 3 : digits); }

// The app's JSON answer, or its {"error"} as an Error. A stopped app (Ctrl-C, the terminal closed)
// was said as the browser's bare "Failed to fetch", which told nobody what to do.
async function askJSON(url, options) {
  // (a reload after the restart is refused: the page's session is the stopped app's, and a move not saved is lost)
  const stopped = "recommend web is not answering (was it stopped?): start it again and open the address it prints " +
    "in a new tab; this page keeps what you set here: move or Save again then";
  let r, body;
  try {
    r = await fetch(url, Object.assign({ credentials: "same-origin" }, options));
  } catch (err) {
    throw new Error(stopped);
  }
  try {
    body = await r.json();
  } catch (err) {  // not the app's JSON: an editor's port forwarding answers "502 Bad Gateway" (or 503) for a
    // stopped app; any other such answer (a proxy's 504, a page of its own) is said as it is, not as a stop
    const status = `${r.status}${r.statusText ? " " + r.statusText : ""}`;
    throw new Error(r.status === 502 || r.status === 503 ? `${status}: ${stopped}` : `unexpected answer ${status}`);
  }
  if (!r.ok) {
    const err = new Error(body.error || r.statusText);
    err.staleToken = body.stale_token === true;
    err.status = r.status;
    throw err;
  }
  return body;
}

function getJSON(url) { return askJSON(url); }

// A page opened before `recommend web` was restarted holds the old server's CSRF token: its next
// slider move, Save or export was refused with "reload the page", and the reload lost what the
// page held (the sliders moved, the fields typed). The new token is read from a page of the app
// as it serves it now (the session's cookie is the new one once its printed URL was opened), and
// the request is sent once more.
async function renewToken() {
  const doc = await freshPage("/search");
  const meta = doc && doc.querySelector('meta[name="csrf-token"]');
  if (!meta || !meta.content || meta.content === csrf()) return false;
  document.querySelector('meta[name="csrf-token"]').content = meta.content;
  return true;
}

// A page of the app as it is served now, parsed (never run), or null.
async function freshPage(path) {
  try {
    const r = await fetch(path, { credentials: "same-origin" });
    return r.ok ? new DOMParser().parseFromString(await r.text(), "text/html") : null;
  } catch (err) {
    return null;
  }
}

// A Save refused because the config file changed since the page was opened (409: a Save in
// another tab, a blocked artist, an edit by hand) said "reload the page to see its values", and
// the reload lost what had been set on the page. The page now takes the file's values as they
// are now, keeps the ones set here (``mine``: key -> value, only those changed on this page), and
// says so; the next Save writes them (never the page's old values of the others).
const STALE_SAVED = "not saved: the config file changed since this page was opened (a Save in another tab, a blocked " +
  "artist or an edit by hand); this page now shows its values, with what you changed here kept: Save again to write them";

async function postJSON(url, data) {
  const send = () => askJSON(url, { method: "POST", headers: { "Content-Type": "application/json", "X-CSRF-Token": csrf() },
                                    body: JSON.stringify(data) });
  try {
    return await send();
  } catch (err) {
    if (!err.staleToken || !(await renewToken())) throw err;
    return send();
  }
}

// A Save that changed nothing said "saved to FILE" as if it had written it.
function unchanged(path) { return `nothing to save: ${path} already holds these values`; }

// A Save that runs once at a time: a second click (a double click, Enter pressed twice) while the
// first is under way is dropped. It was sent with the page's old version of the config file and
// refused ("changed since this page was opened"), and its error hid the save that had worked.
function oneSave(button, save) {
  let busy = false;
  return async () => {
    if (busy) return;
    busy = true;
    button.setAttribute("aria-disabled", "true");
    try { await save(); } finally { busy = false; button.removeAttribute("aria-disabled"); }
  };
}

function debounce(fn, ms) {
  let t = null;
  return (...args) => { clearTimeout(t); t = setTimeout(() => fn(...args), ms); };
}

function shareBar(shares, names) {
  const box = svg("svg", { class: "shares", width: 120, height: 12, viewBox: "0 0 120 12", role: "img",
                           "aria-label": visibleText("shares: " + names.map((n) => `${n} ${fmt(shares[n] || 0)}`).join(", ")) });
  let x = 0;
  names.forEach((n) => {
    const v = shares[n] || 0;
    const rect = svg("rect", { class: "sc-" + n, x: (x * 120).toFixed(1), y: 0, width: (v * 120).toFixed(1), height: 12 });
    rect.appendChild(svg("title", {}, n + " " + fmt(v)));
    box.appendChild(rect);
    x += v;
  });
  return box;
}

// ----- Next playlist: confirm before publishing (the diff is on the page) ---------------------
function initNext() {
  keepSteerFocus();
  // the steer's message is said once: a reload, or Back and Forward, showed "removed: ..." again
  // as if it had just been done again (the 303's /next?msg=... stayed in the address and history)
  if (new URLSearchParams(window.location.search).has("msg")) history.replaceState(null, "", "/next" + window.location.hash);
  const published = document.getElementById("published");
  if (published && window.location.hash === "#published") published.focus();  // its outcome is read out
  // a removed track's "why": what keeps it off the next playlist, under its name
  for (const b of document.querySelectorAll("ul.removed button.why")) {
    const li = b.closest("li");
    b.addEventListener("click", () => explainTrack(b.dataset.track, b, () => li.querySelector(".why-answer"), () => {
      const box = el("div", { class: "why-answer", role: "status" });
      li.appendChild(box);
      return [box, box];
    }));
  }
  const form = document.querySelector("form.publish");
  if (!form) return;
  form.addEventListener("submit", (e) => {
    const added = document.querySelectorAll("ul.added li:not(.muted)").length;
    const removed = document.querySelectorAll("ul.removed li:not(.muted)").length;
    if (!window.confirm(`Publish: add ${added} and remove ${removed} tracks in the managed playlist?`)) { e.preventDefault(); return; }
    const button = document.getElementById("publish");  // one publish per click: a second would only meet the lock
    button.disabled = true;
    button.textContent = "publishing…";
  });
}

// A steer (remove, pin, block) reloads the page: the focus comes back to the same button of the
// same track, or of the row now in its place, and that button is described by the message
// ("removed ..."), so a keyboard user goes on from where they were and a screen reader says what happened.
function keepSteerFocus() {
  const rows = () => Array.from(document.querySelectorAll("#next-table tbody tr"));
  document.querySelectorAll("td.steer form").forEach((f) => f.addEventListener("submit", (e) => {
    const tr = f.closest("tr");
    const button = e.submitter || f.querySelector("button");
    const kind = button.classList.contains("block") ? "block" : button.value === "remove" ? "remove" : "pin";
    sessionStorage.setItem("steer", JSON.stringify({ track: tr.dataset.track, row: rows().indexOf(tr), kind: kind }));
  }));
  // a block's or a removal's Undo: the focus then goes to its message
  document.querySelectorAll("form.undo").forEach((f) => f.addEventListener("submit",
    () => sessionStorage.setItem("steer", JSON.stringify({ kind: "undo" }))));
  const saved = sessionStorage.getItem("steer");
  sessionStorage.removeItem("steer");
  const message = document.getElementById("message");
  const steered = document.getElementById("steered");
  if (steered) {  // a focused row's button comes into view below the message, however tall it is on the screen
    // (a phone's three lines of it were 200 px, and the 7em margin left the button under them)
    const room = () => document.documentElement.style.setProperty("--steered", `${Math.ceil(steered.getBoundingClientRect().height) + 8}px`);
    room();
    window.addEventListener("resize", room);
  }
  if (!saved || !message) return;
  const was = JSON.parse(saved), all = rows();
  const tr = was.kind === "undo" ? null : all.find((r) => r.dataset.track === was.track) || all[Math.min(was.row, all.length - 1)];
  const button = !tr ? null : was.kind === "block" ? tr.querySelector("button.block")
    : was.kind === "remove" ? tr.querySelector('button[value="remove"]') : tr.querySelector('button[value="pin"], button[value="unpin"]');
  if (button) {
    button.setAttribute("aria-describedby", "message");
    button.addEventListener("blur", () => button.removeAttribute("aria-describedby"), { once: true });
    button.focus();
  } else {
    message.setAttribute("tabindex", "-1");
    message.focus();
  }
}

// ----- Weights ---------------------------------------------------------------------------------
function initWeights() {
  const data = pageData();
  const form = document.getElementById("sliders");
  const values = Object.assign({}, data.weights);
  let newShare = data.new_share;
  let opened = { weights: Object.assign({}, data.weights), new_share: data.new_share };  // what the file held
  const addSlider = (label, id, value, max, step, onInput) => {
    const row = el("div", { class: "slider" });
    const lab = el("label", { for: id }, label);
    // the slider says its value (aria-valuetext, as shown); the number beside it is for the eye
    // only (an <output> is a live region: each move was read twice)
    // a value off the slider's steps (0.123 written by hand or by tune) is shown where it is
    // (step "any": the thumb sat at 0.10 beside "0.12"); the first move puts it back on the steps
    const stepFor = (v) => Math.abs(v / step - Math.round(v / step)) < 1e-9 ? step : "any";
    const input = el("input", { type: "range", id: id, min: 0, max: max, step: stepFor(value), value: value, "aria-valuetext": fmt(value, 2) });
    const out = el("output", { for: id, "aria-hidden": "true" }, fmt(value, 2));
    input.show = (v) => {  // a value set by the page (the file's, after a refused Save)
      input.max = Math.max(Number(input.max), Math.ceil(v));
      input.step = stepFor(v);
      input.value = v;
      out.textContent = fmt(v, 2);
      input.setAttribute("aria-valuetext", fmt(v, 2));
    };
    input.addEventListener("input", () => {
      if (input.step === "any") {
        input.step = step;
        input.value = Number((Math.round(Number(input.value) / step) * step).toFixed(6));
      }
      out.textContent = fmt(input.value, 2);
      input.setAttribute("aria-valuetext", fmt(input.value, 2));
      onInput(Number(input.value));
    });
    row.append(lab, input, out);
    form.appendChild(row);
  };
  const update = debounce(refresh, 250);
  // the status line gives a preview's time once a move made one: at load it said "updated in 0.14 s"
  // of the page's own first preview, before any slider was touched
  let moved = false;
  const move = () => { moved = true; update(); };
  for (const [name, w] of Object.entries(data.weights)) {
    // a saved weight above 2 (a hand edit, tune's grid) widens its slider instead of being cut to 2
    addSlider(name, "w-" + name, w, Math.max(2, Math.ceil(w)), 0.05, (v) => { values[name] = v; move(); });
  }
  addSlider("new-music share", "new-share", newShare, 1, 0.05, (v) => { newShare = v; move(); });
  const status = document.getElementById("status");
  // one request at a time: moves made while one is running are sent together when it ends
  let busy = false, again = false;
  async function refresh() {
    if (busy) { again = true; return; }
    busy = true;
    status.textContent = "computing…";
    try {
      const out = await postJSON("/api/weights/preview", { weights: values, new_share: newShare });
      if (!again) {
        showPreview(out);
        status.textContent = moved ? `updated in ${fmt(out.seconds, 2)} s` : "";
      }
    } catch (err) {
      status.textContent = visibleText("error: " + err.message);
      if (!again) markStale();
    } finally {
      busy = false;
      if (again) { again = false; refresh(); }
    }
  }
  // the save's outcome has a line of its own: a preview ending later must not overwrite it
  const saved = document.getElementById("save-status");
  const save = document.getElementById("save");
  save.addEventListener("click", oneSave(save, async () => {
    saved.className = "muted";
    saved.textContent = "saving…";
    try {
      const sent = { weights: Object.assign({}, values), new_share: newShare };
      const out = await postJSON("/api/weights/save", Object.assign({ version: data.version }, sent));
      data.version = out.version;  // this page now shows what the file holds
      opened = sent;  // saved: no longer "changed here" when a later Save is refused (takeTheFiles)
      const pre = document.getElementById("diff");
      pre.hidden = false;
      pre.textContent = visibleText(out.diff || "(no change)", true);
      saved.textContent = out.diff ? "saved to " + out.path : unchanged(out.path);
    } catch (err) {
      saved.className = "error";
      saved.textContent = visibleText("error: " + err.message);
      if (err.status === 409) await takeTheFiles();
    }
  }));
  // after a refused Save: the file's weights and share now, but those moved on this page
  async function takeTheFiles() {
    const doc = await freshPage("/weights");
    const node = doc && doc.getElementById("page-data");
    if (!node) return;
    const now = JSON.parse(node.textContent);
    for (const [name, w] of Object.entries(now.weights)) {
      if (!(name in values) || values[name] === opened.weights[name]) {
        values[name] = w;
        const input = document.getElementById("w-" + name);
        if (input) input.show(w);
      }
    }
    if (newShare === opened.new_share) {
      newShare = now.new_share;
      document.getElementById("new-share").show(newShare);
    }
    opened = { weights: Object.assign({}, now.weights), new_share: now.new_share };
    data.version = now.version;
    saved.textContent = STALE_SAVED;
    update();
  }
  refresh();
}

// the sliders' weights could not be computed (all at 0, the app stopped): the list and the
// evaluation are greyed out and say whose they are (they read as the sliders' own)
const STALE_PREVIEW = "not updated: the list below is for the last weights that could be computed";
const STALE_EVAL = "not updated: the evaluation above is for the last weights that could be computed";
function markStale() {
  for (const id of ["preview", "metrics"]) document.getElementById(id).classList.add("stale");
  document.getElementById("preview-note").textContent = STALE_PREVIEW;
  document.getElementById("eval-note").textContent = STALE_EVAL;
}

function showPreview(out) {
  const list = document.getElementById("preview");
  list.replaceChildren();
  for (const id of ["preview", "metrics"]) document.getElementById(id).classList.remove("stale");
  for (const t of out.tracks) {
    const li = el("li");
    // the score first, floated right: after a name that filled its line it fell onto the next row
    li.append(el("span", { class: "num score" }, fmt(t.score)), el("span", { class: "name" }, t.name),
      document.createTextNode(" · "), el("span", { class: "artists" }, t.artists));
    list.appendChild(li);
  }
  const factors = Object.entries(out.weight_factors || {})
    .map(([name, f]) => `${name} counts x${f} of its slider on your library (few playlists: scorers.${name}.shrink)`);
  document.getElementById("preview-note").textContent = visibleText((out.from_cache ? `${out.from_cache}; ` : "")
    + (out.reason ? out.reason : `publishing these weights would add ${out.added} and remove ${out.removed} tracks`)
    + (out.short ? `; ${out.short}` : "") + (factors.length ? `; ${factors.join("; ")}` : ""));
  const body = document.querySelector("#metrics tbody");
  body.replaceChildren();
  const ev = out.evaluation || {};
  const note = document.getElementById("eval-note");
  const off = document.getElementById("eval-off");  // the scorers at weight 0, as `recommend evaluate` names them
  off.textContent = visibleText(ev.off || "");
  if (ev.error) { note.textContent = visibleText(ev.error); return; }
  const n = ev.top_n;
  const cells = ev.weight_cells || {};  // as `recommend evaluate`'s weight column: a scorer at weight 0 is "0 (off)"
  const row = (name, label, m) => {
    const tr = el("tr");
    tr.append(el("td", { class: "method" }, label), el("td", {}, cells[name] || ""), el("td", { class: "num" }, fmt(m["p@" + n], 4)),
      el("td", { class: "num" }, fmt(m["r@" + n], 4)), el("td", { class: "num" }, fmt(m["ndcg@" + n], 4)),
      el("td", { class: "num" }, fmt(m.rprec, 4)));
    body.appendChild(tr);
  };
  row("blend", "blend", ev);
  for (const [name, m] of Object.entries(ev.scorers || {})) row(name, name + " alone", m);
  note.textContent = `N = ${n}; ${ev.targets} playlists with hidden tracks; evaluated in ${fmt(ev.seconds, 2)} s`;
}

// ----- Taste map ---------------------------------------------------------------------------------
// The map is one element for a screen reader and the keyboard (role "application", one Tab stop):
// its points are hidden from the accessibility tree (as buttons, hundreds of them were read one by
// one in browse mode), the arrow keys move a highlight between them and a live line says the
// track, and the table under the map lists every track with its cluster and playlist.
function initMap() {
  const data = pageData();
  if (!data) return;
  const plot = document.getElementById("scatter");
  const hover = document.getElementById("hover");
  const live = document.getElementById("map-live");
  const W = 640, H = 480, pad = 20;
  const xs = data.points.map((p) => p.x), ys = data.points.map((p) => p.y);
  const [x0, x1] = [Math.min(...xs), Math.max(...xs)], [y0, y1] = [Math.min(...ys), Math.max(...ys)];
  const sx = (x) => pad + ((x - x0) / ((x1 - x0) || 1)) * (W - 2 * pad);
  const sy = (y) => H - pad - ((y - y0) / ((y1 - y0) || 1)) * (H - 2 * pad);
  const drawing = svg("g", { "aria-hidden": "true" });  // the points are for the eye: the keyboard and the table say them
  plot.appendChild(drawing);
  drawing.appendChild(svg("rect", { x: 0, y: 0, width: W, height: H, class: "plot-bg" }));
  const playlistOf = (p) => p.playlist >= 0 ? data.playlists[p.playlist] : "other playlists";
  const group = (p) => byPlaylist() ? playlistOf(p) : data.clusters[p.cluster].label;
  const line = (p) => `${p.name} - ${p.artists} (${group(p)})`;
  const say = (p) => { hover.textContent = visibleText(line(p)); };
  const at = data.points.map((p) => [sx(p.x), sy(p.y)]);  // on the screen, for the arrow keys
  const dots = data.points.map((p, i) => {
    const c = svg("circle", { cx: at[i][0].toFixed(1), cy: at[i][1].toFixed(1), r: 3.5, class: "dot" });
    c.appendChild(svg("title", {}, `${p.name} - ${p.artists}`));  // the mouse's tooltip
    c.addEventListener("mouseenter", () => say(p));
    drawing.appendChild(c);
    return c;
  });
  if (dots.length) {
    mapKeyboard(plot, at, dots, (i) => { say(data.points[i]); live.textContent = visibleText(line(data.points[i])); },
      (i) => pick(data.points[i], group(data.points[i])), (text) => { live.textContent = text; });
  } else {
    plot.removeAttribute("tabindex");
  }
  const radios = document.querySelectorAll('input[name="colour"]');
  const byPlaylist = () => document.querySelector('input[name="colour"]:checked').value === "playlist";
  const legend = document.getElementById("clusters");
  function colour() {
    data.points.forEach((p, i) => {
      const k = byPlaylist() ? p.playlist : p.cluster;
      dots[i].setAttribute("fill", k >= 0 ? COLOURS[k % COLOURS.length] : OTHER);
    });
    legend.replaceChildren();
    document.getElementById("legend-title").textContent = byPlaylist() ? "Playlists" : "Clusters";
    if (byPlaylist()) {
      data.playlists.forEach((name, i) => legend.appendChild(legendItem(COLOURS[i % COLOURS.length], name)));
      legend.appendChild(legendItem(OTHER, "other playlists"));
    } else {
      for (const c of data.clusters) {
        const li = legendItem(COLOURS[c.cluster % COLOURS.length], `${c.label} (${c.size})`);
        const b = el("button", { type: "button", class: "export", "aria-label": `export ${c.label}` }, "export");
        b.title = "write this cluster to its own private playlist";
        b.addEventListener("click", () => exportCluster(c));
        li.appendChild(b);
        legend.appendChild(li);
      }
    }
  }
  radios.forEach((r) => r.addEventListener("change", colour));
  colour();
  // the table is built when its disclosure is first opened: up to 1,000 rows nobody may read
  const tracks = document.getElementById("map-tracks");
  const openTable = () => {
    if (tracks.open && !tracks.dataset.built) { tracks.dataset.built = "1"; trackTable(data, playlistOf); }
  };
  tracks.addEventListener("toggle", openTable);
  openTable();
  radar(data);
}

// The map's text alternative: every track drawn, by cluster then name, its cluster and playlist
// (what the colours say) and its place on the two axes; the name links to its similar tracks.
function trackTable(data, playlistOf) {
  const table = document.getElementById("track-table");
  const rows = data.points.slice().sort((a, b) => a.cluster - b.cluster || String(a.name).localeCompare(String(b.name)));
  const head = el("tr");
  for (const h of ["track", "artists", "mood cluster", "playlist", "left to right", "bottom to top"]) {
    head.appendChild(el("th", h.includes(" to ") ? { scope: "col", class: "num" } : { scope: "col" }, h));
  }
  const thead = el("thead");
  thead.appendChild(head);
  const body = el("tbody");
  for (const p of rows) {
    const tr = el("tr");
    const name = el("td", { class: "track" });
    name.appendChild(el("a", { href: "/similar?track=" + encodeURIComponent(p.id), class: "name" }, p.name));
    tr.append(name, el("td", { class: "artists" }, p.artists), el("td", {}, data.clusters[p.cluster].label),
      el("td", {}, playlistOf(p)), el("td", { class: "num" }, fmt(p.x, 2)), el("td", { class: "num" }, fmt(p.y, 2)));
    body.appendChild(tr);
  }
  table.replaceChildren(el("caption", {}, `The ${rows.length} tracks of the taste map (a track's name: its similar tracks)`), thead, body);
}

// Keyboard on the taste map: the arrow keys move to the nearest point that way (on the screen),
// Enter or Space picks it as a click does. The point is ringed while the map has the focus; the
// hover line and the live line say its track and group (the live line, when no point is that way, says so).
function mapKeyboard(plot, at, dots, say, onPick, tell) {
  let current = 0, best = Infinity;  // the highlight starts at the point nearest the middle
  const box = plot.viewBox.baseVal;
  at.forEach(([x, y], i) => {
    const d = (x - box.width / 2) ** 2 + (y - box.height / 2) ** 2;
    if (d < best) { best = d; current = i; }
  });
  const index = (node) => (node.classList && node.classList.contains("dot") ? dots.indexOf(node) : -1);
  const ring = svg("ellipse", { rx: 7, ry: 7, class: "map-ring", "aria-hidden": "true" });  // drawn last: on top (not a circle: those are the points)
  plot.appendChild(ring);
  const setCurrent = (i) => {
    dots[current].classList.remove("current");
    current = i;
    dots[i].classList.add("current");
    ring.setAttribute("cx", at[i][0].toFixed(1));
    ring.setAttribute("cy", at[i][1].toFixed(1));
  };
  setCurrent(current);
  // nearest ahead in direction (dx, dy): distance along it plus twice the distance across it;
  // points on the same spot are ahead in the order of the list (so each can be reached)
  const step = (dx, dy) => {
    const [x0, y0] = at[current];
    let found = -1, score = Infinity;
    at.forEach(([x, y], i) => {
      if (i === current) return;
      const along = (x - x0) * dx + (y - y0) * dy, across = Math.abs((x - x0) * dy - (y - y0) * dx);
      if (along < 0 || (along === 0 && (across > 0 || (i > current) !== (dx + dy > 0)))) return;
      const s = along + 2 * across;
      if (s < score || (s === score && Math.abs(i - current) < Math.abs(found - current))) { score = s; found = i; }
    });
    return found;
  };
  const keys = { ArrowRight: [1, 0, "right"], ArrowLeft: [-1, 0, "left"], ArrowDown: [0, 1, "down"], ArrowUp: [0, -1, "up"] };
  plot.addEventListener("keydown", (ev) => {
    if (keys[ev.key]) {
      ev.preventDefault();
      const [dx, dy, way] = keys[ev.key];
      const next = step(dx, dy);
      if (next >= 0) { setCurrent(next); say(next); } else tell(`no track further ${way}`);
    } else if (ev.key === "Enter" || ev.key === " ") {
      ev.preventDefault();
      onPick(current);
    }
  });
  plot.addEventListener("focus", () => say(current));
  plot.addEventListener("click", (ev) => {
    const i = index(ev.target);
    if (i < 0) return;
    setCurrent(i);  // the keyboard goes on from the point last clicked
    say(i);
    onPick(i);
  });
}

// A picked point (click, Enter, Space): its name stays under the map with a link to its similar tracks.
function pick(p, group) {
  const line = document.getElementById("picked");
  const link = el("a", { href: "/similar?track=" + encodeURIComponent(p.id) }, "tracks similar to it");
  line.replaceChildren(document.createTextNode(visibleText(`Picked: ${p.name} - ${p.artists} (${group}): `)), link);
}

// A chart's text alternative: its numbers as a table a screen reader walks (shown to no one
// else: .visually-hidden), built from the very data the chart is drawn from.
function dataTable(table, caption, head, rows) {
  table.replaceChildren(el("caption", {}, caption));
  table.hidden = false;  // (hidden in the page until it has its rows: no features, no table)
  const hr = el("tr");
  head.forEach((h) => hr.appendChild(el("th", { scope: "col" }, h)));
  const tbody = el("tbody");
  for (const [name, ...values] of rows) {
    const tr = el("tr");
    tr.appendChild(el("th", { scope: "row" }, name));
    values.forEach((v) => tr.appendChild(el("td", {}, v)));
    tbody.appendChild(tr);
  }
  const thead = el("thead");
  thead.appendChild(hr);
  table.append(thead, tbody);
}

function legendItem(colour, text) {
  const li = el("li");
  const sw = svg("svg", { width: 12, height: 12, class: "swatch", "aria-hidden": "true" });  // the text beside it names it
  sw.appendChild(svg("rect", { width: 12, height: 12, fill: colour }));
  li.append(sw, el("span", {}, text));
  return li;
}

async function exportCluster(c) {
  const status = document.getElementById("export-status");
  if (!window.confirm(visibleText(`Write the ${c.size} tracks of "${c.label}" to their own private playlist?`))) return;
  status.textContent = "exporting…";
  try {
    const out = await postJSON("/api/map/export", { cluster: c.cluster });
    status.textContent = visibleText(`${out.created ? "created" : "updated"} "${out.name}" (${out.playlist_id}) with ${tracksText(out.tracks)}`);
  } catch (err) {
    status.textContent = visibleText("error: " + err.message);
  }
}

function radar(data) {
  const box = document.getElementById("radar");
  const note = document.getElementById("radar-note");
  const feats = data.features;
  if (!feats.length) { box.setAttribute("hidden", ""); note.textContent = "The radar needs audio features (recommend import features FILE.csv)."; return; }
  const cx = 160, cy = 160, R = 110, n = feats.length;
  const at = (i, v) => [cx + R * v * Math.sin((2 * Math.PI * i) / n), cy - R * v * Math.cos((2 * Math.PI * i) / n)];
  for (const level of [0.25, 0.5, 0.75, 1]) {
    box.appendChild(svg("polygon", { points: feats.map((_, i) => at(i, level).join(",")).join(" "), class: "grid" }));
  }
  feats.forEach((f, i) => {
    const [x, y] = at(i, 1.18);
    box.appendChild(svg("line", { x1: cx, y1: cy, x2: at(i, 1)[0], y2: at(i, 1)[1], class: "axis" }));
    box.appendChild(svg("text", { x: x, y: y, class: "axis-label", "text-anchor": "middle" }, f));
  });
  const drawn = data.clusters.filter((c) => c.radar.length);
  dataTable(document.getElementById("radar-table"), "Audio profile: mean audio features of each cluster (0 to 1)",
    ["cluster", ...feats], drawn.map((c) => [c.label, ...c.radar.map((v) => fmt(v, 2))]));
  for (const c of drawn) {
    const poly = svg("polygon", { points: c.radar.map((v, i) => at(i, v || 0).join(",")).join(" "), class: "cluster",
      stroke: COLOURS[c.cluster % COLOURS.length], fill: COLOURS[c.cluster % COLOURS.length] });
    poly.appendChild(svg("title", {}, c.label));
    box.appendChild(poly);
  }
  fitToContent(box, 4);
  note.textContent = "Mean audio features of each cluster (0 to 1).";
}

// A chart drawn on a fixed canvas, cut to what it draws (and ``margin`` around it): the radar left
// 40 px blank under its lowest labels and 20 above, and its side labels ran past its edges
function fitToContent(box, margin) {
  const b = box.getBBox();
  const w = b.width + 2 * margin, h = b.height + 2 * margin;
  box.setAttribute("viewBox", [b.x - margin, b.y - margin, w, h].map((v) => v.toFixed(1)).join(" "));
  box.setAttribute("width", Math.ceil(w));
  box.setAttribute("height", Math.ceil(h));
}

// ----- Search and Similar ------------------------------------------------------------------------
// Ask `url + encoded text` as the user types (debounced); only the latest answer is shown. The
// text is kept in the page's address (/search?q=...), as the page reads it: Back from a track's
// similar tracks, or a reload, shows the same search again (it came back empty, the query lost).
function liveQuery(url, delay, render, clear) {
  const q = document.getElementById("q");
  const status = document.getElementById("status");
  const param = new URL(url, window.location.href).searchParams.keys().next().value;
  // a track's link (/similar?track=ID): the box shows its "Name - Artists", and while it holds
  // that, the id is asked (and kept in the address): that very track, not the best match of its name
  const exact = q.dataset.track, named = q.value;
  let seq = 0;
  const run = debounce(async () => {
    const text = exact && q.value === named ? exact : q.value.trim();
    const mine = ++seq;
    history.replaceState(null, "", window.location.pathname + (text ? "?" + new URLSearchParams({ [param]: text }) : ""));
    if (!text) { clear(); status.textContent = ""; return; }
    status.textContent = "searching…";  // a slow answer (the app busy) left the last query's count standing
    try {
      const out = await getJSON(url + encodeURIComponent(text));
      if (mine === seq) status.textContent = visibleText(render(out));
    } catch (err) {
      if (mine === seq) { clear(); status.textContent = visibleText(err.message); }
    }
  }, delay);
  q.addEventListener("input", run);
  if (q.value) run();
}

function trackCell(t) {
  const cell = el("td", { class: "track" });
  cell.append(el("span", { class: "name" }, t.name), el("br"), el("span", { class: "artists" }, t.artists));
  return cell;
}

function initSearch() {
  const body = document.querySelector("#results tbody");
  liveQuery("/api/search?q=", 150, (out) => {
    body.replaceChildren();
    for (const t of out.tracks) {
      const tr = el("tr");
      const lc = el("td", { class: "link" });
      lc.appendChild(el("a", { href: "/similar?track=" + encodeURIComponent(t.track_id),
                               "aria-label": visibleText(`similar to ${t.name} - ${t.artists}`) }, "similar"));
      const why = el("button", { type: "button", class: "why", "aria-expanded": "false",
                                 "aria-label": visibleText(`why ${t.name} - ${t.artists} is or is not on the next playlist`) }, "why");
      const answer = () => (tr.nextElementSibling && tr.nextElementSibling.classList.contains("why-row") ? tr.nextElementSibling : null);
      why.addEventListener("click", () => explainTrack(t.track_id, why, answer, () => {
        const cell = el("td", { colspan: String(tr.cells.length), class: "why", role: "status" });
        const row = el("tr", { class: "why-row" });
        row.appendChild(cell);
        tr.after(row);
        return [row, cell];
      }));
      lc.append(" ", why);
      tr.append(trackCell(t), el("td", { class: "album" }, t.album), el("td", { class: "num" }, fmt(t.score)), lc);
      body.appendChild(tr);
    }
    // as `recommend search` says it ("0 tracks" over an empty table read like a broken page)
    return out.tracks.length ? tracksText(out.tracks.length) : `No match for "${out.query}" (nothing scored ${out.min_score} or more)`;
  }, () => body.replaceChildren());
}

// A track's "why" (`build-playlist --why`; a Search row's, a removed track's on the Next page): its
// place on the next playlist or the rule or setting that keeps it out, and its top scorer's
// reason; a second click hides it. ``shown()``: the answer on the page, or null; ``make()``: puts
// an answer on the page, returning [what a second click removes, what holds the text]
async function explainTrack(trackId, button, shown, make) {
  const old = shown();
  if (old) {
    old.remove();
    button.setAttribute("aria-expanded", "false");
    return;
  }
  const [, cell] = make();
  cell.textContent = "…";
  button.setAttribute("aria-expanded", "true");
  try {
    const e = await getJSON("/api/why?track=" + encodeURIComponent(trackId));
    cell.textContent = visibleText((e.on_playlist ? "on the next playlist " : "not on the next playlist: ") + e.reason
                                   + (e.why ? " · why: " + e.why : ""));
  } catch (err) {
    cell.textContent = visibleText(err.message);
  }
}

// the colour of each scorer in the share bars, as the Next page's legend says them
function sharesKey(key, names) {
  key.replaceChildren();
  for (const n of names) key.append(el("span", { class: "key sc-" + n }), n + " ");
  key.append("· shares: each scorer's part of the score");
  key.hidden = !names.length;
}

function initSimilar() {
  const body = document.querySelector("#results tbody");
  const title = document.getElementById("title");
  const key = document.getElementById("shares-key");
  liveQuery("/api/similar?track=", 250, (out) => {
    setHeading(title, "Similar to " + out.title);
    body.replaceChildren();
    sharesKey(key, out.tracks.length ? out.scorers : []);
    for (const t of out.tracks) {
      const tr = el("tr");
      const sh = el("td", { class: "shares" });
      sh.appendChild(shareBar(t.shares, out.scorers));
      tr.append(el("td", { class: "num" }, t.rank), trackCell(t), el("td", { class: "num" }, fmt(t.score)), sh,
        el("td", { class: "why" }, t.why));
      body.appendChild(tr);
    }
    // other songs the text names as well: which one it took, and where to pick another (as the CLI's note)
    const n = (out.others || []).length;
    const others = !n ? "" : `; ${n} other ${n > 1 ? "songs match" : "song matches"} it as well (`
      + out.others.slice(0, 3).join(", ") + (n > 3 ? ", …" : "") + "): the Search page lists them, its \"similar\" link starts from one";
    return tracksText(out.tracks.length) + others;
  }, () => { body.replaceChildren(); setHeading(title, ""); key.hidden = true; });
}

// ----- Moods: the valence/energy plane, a mood or a point -> the nearest tracks ---------------------
const MOOD_COLOURS = { happy: "#edc948", energetic: "#e15759", calm: "#59a14f", sad: "#4e79a7" };

function initMoods() {
  const data = pageData();
  if (!data) return;
  const plane = document.getElementById("plane");
  const hover = document.getElementById("hover");
  const live = document.getElementById("plane-live");
  const body = document.querySelector("#results tbody");
  const title = document.getElementById("title");
  const status = document.getElementById("status");
  const S = 480, pad = 28, span = S - 2 * pad;
  const sx = (v) => pad + v * span, sy = (e) => S - pad - e * span;
  const tv = data.thresholds.valence, te = data.thresholds.energy;
  // what is drawn is for the eye (a thousand points were a thousand items to a screen reader):
  // the plane's name says how to use it, the line under it where the marker is
  const drawing = svg("g", { "aria-hidden": "true" });
  plane.appendChild(drawing);
  drawing.appendChild(svg("rect", { x: 0, y: 0, width: S, height: S, class: "plot-bg" }));
  drawing.appendChild(svg("rect", { x: pad, y: pad, width: span, height: span, class: "frame" }));
  drawing.appendChild(svg("line", { x1: sx(tv), y1: pad, x2: sx(tv), y2: S - pad, class: "axis" }));
  drawing.appendChild(svg("line", { x1: pad, y1: sy(te), x2: S - pad, y2: sy(te), class: "axis" }));
  drawing.appendChild(svg("text", { x: S / 2, y: S - 6, class: "axis-label", "text-anchor": "middle" }, "valence →"));
  drawing.appendChild(svg("text", { x: 12, y: S / 2, class: "axis-label", "text-anchor": "middle",
                                  transform: `rotate(-90 12 ${S / 2})` }, "energy →"));
  for (const p of data.points) {
    const c = svg("circle", { cx: sx(p.valence).toFixed(1), cy: sy(p.energy).toFixed(1), r: 2.5, class: "dot faint",
                              fill: MOOD_COLOURS[p.mood] || OTHER });
    c.appendChild(svg("title", {}, `${p.name} - ${p.artists}`));
    c.addEventListener("mouseenter", () => { hover.textContent = visibleText(`${p.name} - ${p.artists} (${p.mood})`); });
    drawing.appendChild(c);
  }
  // the quadrants' names over the points (drawn first, the points of a busy corner hid them),
  // each on a halo of the background (CSS)
  for (const [mood, x, y, anchor] of [["energetic", pad + 6, pad + 16, "start"], ["happy", S - pad - 6, pad + 16, "end"],
                                      ["sad", pad + 6, S - pad - 8, "start"], ["calm", S - pad - 6, S - pad - 8, "end"]]) {
    drawing.appendChild(svg("text", { x: x, y: y, class: "quadrant", "text-anchor": anchor }, mood));
  }
  const target = svg("circle", { r: 7, class: "target", visibility: "hidden" });
  drawing.appendChild(target);
  const exportRow = document.getElementById("export-row");
  const exportStatus = document.getElementById("export-status");
  // on a phone the list (or the error) comes below the plane and the counts, out of sight: a
  // button's or a click's pick brings its heading into view (on a wider screen it is in view
  // already, and nothing moves); not the keyboard's on the plane, whose marker would go with it
  const toResults = () => {
    const head = title.hidden ? status : title;
    const at = head.getBoundingClientRect();
    if (at.top >= window.innerHeight || at.bottom <= 0) head.scrollIntoView({ block: "start" });
  };
  let seq = 0, shown = null;  // shown: the query of the list on the page (what export writes)
  async function show(query, label, said, bring = true) {
    const mine = ++seq;
    status.textContent = "…";
    exportRow.hidden = true;
    exportStatus.textContent = "";
    try {
      const out = await getJSON("/api/moods?" + new URLSearchParams(query));
      if (mine !== seq) return;
      shown = { query: query, playlist: out.playlist, count: out.tracks.length };  // the server names it, as the CLI does
      exportRow.hidden = out.tracks.length === 0;
      target.setAttribute("cx", sx(out.target.valence).toFixed(1));
      target.setAttribute("cy", sy(out.target.energy).toFixed(1));
      target.setAttribute("visibility", "visible");
      setHeading(title, label(out));
      body.replaceChildren();
      for (const t of out.tracks) {
        const tr = el("tr");
        tr.append(el("td", { class: "num" }, t.rank), trackCell(t), el("td", { class: "mood" }, t.mood), el("td", { class: "num" }, fmt(t.valence)),
          el("td", { class: "num" }, fmt(t.energy)), el("td", { class: "num" }, fmt(t.score)));
        body.appendChild(tr);
      }
      status.textContent = said(out);
      if (bring) toResults();
    } catch (err) {
      if (mine === seq) {
        body.replaceChildren(); setHeading(title, ""); status.textContent = visibleText(err.message);
        if (bring) toResults();
      }
    }
  }
  // a mood's own tracks come first, then (when it has fewer) the nearest of the other moods
  const moodSaid = (out) => {
    const own = out.tracks.filter((t) => t.mood === out.mood).length;
    return own === out.tracks.length ? `${own} ${out.mood} tracks, nearest first`
      : `${out.tracks.length} tracks: the ${own} ${out.mood} ones first, then the nearest of other moods`;
  };
  const point = (out) => `valence ${fmt(out.target.valence, 2)}, energy ${fmt(out.target.energy, 2)}`;
  document.querySelectorAll("button.mood").forEach((b) => b.addEventListener("click", () => {
    const mood = b.dataset.mood;
    show({ mood: mood }, (out) => `Tracks for ${/^[aeiou]/.test(mood) ? "an" : "a"} ${mood} mood (${point(out)})`, moodSaid);
  }));
  document.getElementById("mood-export").addEventListener("click", async () => {
    if (!shown) return;
    const target = shown;
    if (!window.confirm(visibleText(`Write these ${target.count} tracks to the private playlist "${target.playlist}"?`))) return;
    exportStatus.textContent = "exporting…";
    try {
      const out = await postJSON("/api/moods/export", target.query);
      exportStatus.textContent = visibleText(`${out.created ? "created" : "updated"} "${out.name}" (${out.playlist_id}) with ${tracksText(out.tracks)}`);
    } catch (err) {
      exportStatus.textContent = visibleText("error: " + err.message);
    }
  });
  const clamp = (v) => Math.min(1, Math.max(0, v));
  const ask = (v, e, bring) => show({ valence: v.toFixed(3), energy: e.toFixed(3) }, (out) => `Tracks nearest ${out.mood}`,
                                    (out) => `${out.tracks.length} tracks, nearest first`, bring);
  plane.addEventListener("click", (ev) => {
    const box = plane.getBoundingClientRect();
    const v = clamp(((ev.clientX - box.left) * (S / box.width) - pad) / span);
    const e = clamp((S - pad - (ev.clientY - box.top) * (S / box.height)) / span);
    cursor.v = v; cursor.e = e;  // the keyboard's marker goes on from the spot clicked
    place();
    ask(v, e, true);
  });
  // Keyboard: the plane is one Tab stop; the arrow keys move a marker (0.05, with Shift 0.01),
  // Enter or Space lists the tracks nearest it as a click there does. The hover line, and a live
  // line for a screen reader, say where the marker is, its quadrant and the nearest track.
  const cursor = { v: 0.5, e: 0.5 };
  const ring = svg("circle", { r: 9, class: "cursor", visibility: "hidden" });
  drawing.appendChild(ring);
  const place = () => {
    ring.setAttribute("cx", sx(cursor.v).toFixed(1));
    ring.setAttribute("cy", sy(cursor.e).toFixed(1));
    ring.setAttribute("visibility", "visible");
    let near = null, best = Infinity;
    for (const p of data.points) {
      const d = (p.valence - cursor.v) ** 2 + (p.energy - cursor.e) ** 2;
      if (d < best) { best = d; near = p; }
    }
    const mood = cursor.e >= te ? (cursor.v >= tv ? "happy" : "energetic") : (cursor.v >= tv ? "calm" : "sad");
    hover.textContent = visibleText(`marker at valence ${fmt(cursor.v, 2)}, energy ${fmt(cursor.e, 2)} (${mood})`
      + (near ? `; nearest track: ${near.name} - ${near.artists} (${near.mood})` : ""));
    live.textContent = hover.textContent;  // said by a screen reader: the marker's moves, not the mouse's
  };
  const keys = { ArrowRight: [1, 0], ArrowLeft: [-1, 0], ArrowUp: [0, 1], ArrowDown: [0, -1] };
  plane.addEventListener("keydown", (ev) => {
    if (keys[ev.key]) {
      ev.preventDefault();
      const stepSize = ev.shiftKey ? 0.01 : 0.05, [dv, de] = keys[ev.key];
      cursor.v = clamp(Math.round((cursor.v + dv * stepSize) * 100) / 100);
      cursor.e = clamp(Math.round((cursor.e + de * stepSize) * 100) / 100);
      place();
    } else if (ev.key === "Enter" || ev.key === " ") {
      ev.preventDefault();
      place();
      ask(cursor.v, cursor.e, false);
    }
  });
  plane.addEventListener("focus", place);
  plane.addEventListener("blur", () => ring.setAttribute("visibility", "hidden"));
}

// ----- Discovery: save the settings (only what changed is written) ------------------------------
function initDiscovery() {
  const form = document.getElementById("discovery-form");
  if (!form) return;
  const status = document.getElementById("status");
  const read = (input) => input.type === "checkbox" ? input.checked : Number(input.value);
  const inputs = Array.from(form.querySelectorAll("input[data-key]"));
  let opened = new Map(inputs.map((i) => [i.dataset.key, read(i)]));  // what the file held
  // a refused save: the field it names is marked invalid, described by the status line and
  // focused (the focus stayed on Save, and the keyboard had to look for the field)
  const mark = (input) => {
    for (const i of inputs) { i.removeAttribute("aria-invalid"); i.removeAttribute("aria-describedby"); }
    if (!input) return;
    input.setAttribute("aria-invalid", "true");
    input.setAttribute("aria-describedby", "status");
    input.focus();
  };
  const named = (message) => inputs.filter((i) => message.includes(i.dataset.key))
    .sort((a, b) => b.dataset.key.length - a.dataset.key.length)[0];  // the longest key the message names
  const save = oneSave(document.getElementById("save"), async () => {
    const values = {};
    for (const input of inputs) {
      const whole = input.step !== "any";  // seconds may have a fraction (discovery.max_seconds)
      if (input.type === "number" && (input.value === "" || !Number.isFinite(Number(input.value))
                                      || (whole && !Number.isInteger(Number(input.value))))) {
        status.textContent = `error: ${input.dataset.key} must be a ${whole ? "whole " : ""}number`;
        mark(input);
        return;
      }
      // only the fields changed on the page: a number past 2^53 (read back as another number)
      // was written over a field the user never touched
      if (read(input) !== opened.get(input.dataset.key)) values[input.dataset.key] = read(input);
    }
    status.textContent = "saving…";
    try {
      const out = await postJSON("/api/discovery/save", { values: values, version: form.dataset.version });
      form.dataset.version = out.version;  // this page now shows what the file holds
      opened = new Map(inputs.map((i) => [i.dataset.key, read(i)]));
      const pre = document.getElementById("diff");
      pre.hidden = false;
      pre.textContent = visibleText(out.diff || "(no change)", true);
      status.textContent = out.diff ? "saved to " + out.path + ": takes effect at the next refresh" : unchanged(out.path);
      mark(null);
    } catch (err) {
      status.textContent = visibleText("error: " + err.message);
      if (err.status === 409 && await takeTheFiles()) status.textContent = STALE_SAVED;
      else mark(named(err.message));
    }
  });
  // after a refused Save: the file's settings now, but those changed on this page
  async function takeTheFiles() {
    const doc = await freshPage("/discovery");
    const now = doc && doc.getElementById("discovery-form");
    if (!now) return false;
    const theirs = new Map(Array.from(now.querySelectorAll("input[data-key]")).map((i) => [i.dataset.key, read(i)]));
    for (const input of inputs) {
      const key = input.dataset.key;
      if (!theirs.has(key) || read(input) !== opened.get(key)) continue;
      if (input.type === "checkbox") input.checked = theirs.get(key);
      else input.value = theirs.get(key);
    }
    opened = theirs;
    form.dataset.version = now.dataset.version;
    return true;
  }
  form.addEventListener("submit", (ev) => { ev.preventDefault(); save(); });  // the Save button, or Enter in a field
}

// ----- Runs: precision curves of the last evaluation ------------------------------------------------
// the round step at or above ``x``: 1, 2 or 5 times a power of ten
function niceStep(x) {
  const power = Math.pow(10, Math.floor(Math.log10(x)));
  return [1, 2, 5, 10].map((m) => m * power).find((s) => s >= x - 1e-12);
}

function initRuns() {
  const data = pageData();
  const box = document.getElementById("curves");
  if (!data || !box) return;
  const W = 640, H = 320, pad = 36;
  const series = Object.entries(data.curves);
  const maxN = Math.max(...series.map(([, c]) => c.length));
  const maxY = Math.max(0.01, ...series.flatMap(([, c]) => c));
  const sx = (i) => pad + (i / Math.max(maxN - 1, 1)) * (W - 2 * pad);
  const sy = (v) => H - pad - (v / maxY) * (H - 2 * pad);
  // the values on each axis (the chart said only "max 0.73" and "N"): a grid line at each step of
  // precision (1, 2 or 5 times a power of ten, 3 to 5 of them), and N = 1, then every tenth
  const step = niceStep(maxY / 4);
  for (let i = 0; i * step <= maxY + 1e-9; i++) {
    const y = sy(i * step);
    if (i) box.appendChild(svg("line", { x1: pad, y1: y, x2: W - pad, y2: y, class: "grid" }));
    box.appendChild(svg("text", { x: pad - 4, y: y + 4, class: "axis-label tick", "text-anchor": "end" },
      fmt(i * step, step < 0.1 ? 2 : 1)));
  }
  [1, ...Array.from({ length: Math.floor(maxN / 10) }, (_, i) => 10 * (i + 1))].filter((n) => n <= maxN).forEach((n) => {
    box.appendChild(svg("text", { x: sx(n - 1), y: H - pad + 14, class: "axis-label tick", "text-anchor": "middle" }, String(n)));
  });
  box.appendChild(svg("line", { x1: pad, y1: H - pad, x2: W - pad, y2: H - pad, class: "axis" }));
  box.appendChild(svg("line", { x1: pad, y1: pad, x2: pad, y2: H - pad, class: "axis" }));
  box.appendChild(svg("text", { x: W - pad, y: H - 4, class: "axis-label", "text-anchor": "end" }, "N"));
  box.appendChild(svg("text", { x: 4, y: pad - 10, class: "axis-label" }, "precision@N (max " + fmt(maxY, 2) + ")"));
  const legend = document.getElementById("curve-legend");
  // a scorer at weight 0: "NAME (off)" and dotted, as the HTML report draws it (alone, not in the blend)
  const label = (name) => (data.curve_labels || {})[name] || name;
  series.forEach(([name, c], k) => {
    const pts = c.map((v, i) => `${sx(i).toFixed(1)},${sy(v).toFixed(1)}`).join(" ");
    const attrs = { points: pts, class: "curve", stroke: COLOURS[k % COLOURS.length] };
    if (label(name) !== name) attrs["stroke-dasharray"] = "2 4";
    const line = svg("polyline", attrs);
    line.appendChild(svg("title", {}, label(name)));
    box.appendChild(line);
    legend.appendChild(legendItem(COLOURS[k % COLOURS.length], label(name)));
  });
  dataTable(document.getElementById("curves-table"), "precision@N of each method, N = 1.." + maxN,
    ["method", ...Array.from({ length: maxN }, (_, i) => "N=" + (i + 1))], series.map(([name, c]) => [label(name), ...c.map((v) => fmt(v))]));
}

// a status line saying "error: ..." is shown as an error (red), not in the grey of the notes it
// says otherwise: the two read alike
function markErrors() {
  document.querySelectorAll('[role="status"]').forEach((el) => {
    const mark = () => el.classList.toggle("error", el.textContent.trim().startsWith("error:"));
    new MutationObserver(mark).observe(el, { childList: true, characterData: true, subtree: true });
  });
}

// a table wider than its box scrolls sideways in it: the box is then a tab stop (the arrow keys
// scroll it) named after its table, where Chrome made it an unnamed tab stop and other browsers
// none (a keyboard could not reach the columns past the edge); a box that fits is neither
function scrollBoxes() {
  const name = (table) => {
    const ids = (table.getAttribute("aria-labelledby") || "").split(/\s+/).filter(Boolean);
    const text = table.getAttribute("aria-label") || ids.map((id) => (document.getElementById(id) || {}).textContent || "").join(" ").trim();
    return text || (table.caption && table.caption.textContent.trim()) || "table";
  };
  const boxes = Array.from(document.querySelectorAll(".table-scroll")).filter((box) => box.querySelector("table"));
  const mark = () => boxes.forEach((box) => {
    if (box.scrollWidth > box.clientWidth + 1) {
      box.setAttribute("tabindex", "0");
      box.setAttribute("role", "region");
      box.setAttribute("aria-label", name(box.querySelector("table")) + " (scrolls sideways)");
    } else {
      ["tabindex", "role", "aria-label"].forEach((a) => box.removeAttribute(a));
    }
  });
  // a window turned or resized, rows filled in by a search
  atEverySize(boxes.flatMap((box) => [box, box.querySelector("table")]), mark);
}

// a chart drawn to its viewBox shrinks with a narrow window, and its words with it (the run
// curves' to 6 px on a phone): each chart's scale (its width over its viewBox's) is set as --k,
// which the CSS divides the words' size by, so they stay 11 px or more on screen
function legibleCharts() {
  const charts = Array.from(document.querySelectorAll("svg[viewBox]")).filter((c) => c.viewBox.baseVal.width);
  atEverySize(charts, () => charts.forEach((c) => {
    const k = c.getBoundingClientRect().width / c.viewBox.baseVal.width;
    if (k > 0) c.style.setProperty("--k", Math.min(k, 1).toFixed(3));
  }));
}

// ``update()`` now and whenever one of ``elements`` changes size: a ResizeObserver's first call
// comes only with the next frame, and what is drawn before it (the run curves, on a busy
// machine) showed its unscaled 6 px words until then
function atEverySize(elements, update) {
  update();
  const watch = new ResizeObserver(update);
  elements.forEach((e) => watch.observe(e));
}

document.addEventListener("DOMContentLoaded", () => {
  markErrors();
  scrollBoxes();
  legibleCharts();
  const page = document.body.dataset.page;
  const init = { enter: () => window.location.replace(document.getElementById("enter").getAttribute("href")), next: initNext, weights: initWeights, discovery: initDiscovery, map: initMap, moods: initMoods, search: initSearch, similar: initSimilar, runs: initRuns }[page];
  if (init && !document.getElementById("problem")) init();  // a page that shows a problem has none of its parts
});
