// slipcatch workbench: plots, the live what-if and notes. Data comes from the page's JSON
// block (never evaluated); everything written into the page goes through textContent.
"use strict";
(function () {
  const data = JSON.parse(document.getElementById("page-data").textContent);
  const dark = window.matchMedia && window.matchMedia("(prefers-color-scheme: dark)").matches;
  const ink = dark ? "#ddd" : "#222";
  const paper = dark ? "#1b1d21" : "#fff";
  const plotConfig = { displaylogo: false, responsive: true, modeBarButtonsToRemove: ["toImage"] };
  const baseLayout = { paper_bgcolor: paper, plot_bgcolor: paper, font: { color: ink, family: "system-ui, sans-serif", size: 12 } };

  function text(el, value) { if (el) { el.textContent = value; } }
  // Plotly reads a few HTML tags in labels: evidence strings go in as entities, shown as text.
  function esc(value) {
    return String(value == null ? "" : value).replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;");
  }
  function pct(p) { return (100 * (p || 0)).toFixed(1) + "%"; }

  async function postJSON(url, body) {
    const r = await fetch(url, { method: "POST", credentials: "same-origin",
      headers: { "Content-Type": "application/json" }, body: JSON.stringify(body) });
    const doc = await r.json();
    if (!r.ok) { throw new Error(doc.error || ("HTTP " + r.status)); }
    return doc;
  }

  // -- timeline -------------------------------------------------------------------------
  const LANES = { tor: "cover", vpn: "cover", proxy: "cover", hosting: "cover",
    residential: "exposed", unknown: "exposed", actor: "actor", reserved: "other" };
  function timeline() {
    const el = document.getElementById("timeline");
    if (!el || !window.Plotly) { return; }
    const byChannel = {};
    for (const e of data.timeline.events) {
      const ch = e.channel || "?";
      (byChannel[ch] = byChannel[ch] || { x: [], y: [], text: [] });
      byChannel[ch].x.push(e.time);
      byChannel[ch].y.push(LANES[e.category] || "other");
      byChannel[ch].text.push(esc((e.src_ip || "") + " " + (e.category || "") + " " + (e.country || "")));
    }
    const traces = Object.keys(byChannel).sort().map((ch) => ({
      type: "scatter", mode: "markers", name: esc(ch), x: byChannel[ch].x, y: byChannel[ch].y,
      text: byChannel[ch].text, hoverinfo: "x+text+name", marker: { size: 7, opacity: 0.75 },
    }));
    const slips = data.slips || [];
    traces.push({
      type: "scatter", mode: "markers+text", name: "slips", x: slips.map((s) => s.first_seen),
      y: slips.map((s) => (s.category === "actor" ? "actor" : "exposed")),
      text: slips.map((s) => esc(s.label)), textposition: "top center",
      hovertext: slips.map((s) => esc(s.label + " " + s.ip + (s.closed_after_seconds != null ?
        " — back under cover after " + Math.round(s.closed_after_seconds) + " s" : ""))),
      hoverinfo: "text", marker: { size: 14, symbol: "diamond-open", color: "#c0392b", line: { width: 2 } },
    });
    const shapes = slips.filter((s) => s.closed_after_seconds != null).map((s) => ({
      type: "rect", xref: "x", yref: "paper", y0: 0, y1: 1, x0: s.first_seen,
      x1: new Date(new Date(s.last_seen || s.first_seen).getTime() + 1000 * s.closed_after_seconds).toISOString(),
      fillcolor: "rgba(192,57,43,0.12)", line: { width: 0 },
    }));
    Plotly.newPlot(el, traces, Object.assign({}, baseLayout, {
      height: 320, margin: { l: 70, r: 20, t: 10, b: 40 }, shapes: shapes,
      yaxis: { type: "category", categoryorder: "array", categoryarray: ["other", "cover", "exposed", "actor"] },
      xaxis: { type: "date", rangeslider: { visible: true } }, legend: { orientation: "h" },
    }), plotConfig);
  }

  // -- map ------------------------------------------------------------------------------
  async function worldMap() {
    const el = document.getElementById("map");
    if (!el || !window.Plotly) { return; }
    const r = await fetch("/static/world-110m.json", { credentials: "same-origin" });
    const world = await r.json();
    const groups = { exposed: { x: [], y: [] }, cover: { x: [], y: [] }, other: { x: [], y: [] } };
    const centre = {};
    for (const c of world.countries) {
      centre[c.iso2] = c.centroid;
      const g = data.exposed[c.iso2] ? "exposed" : (data.cover[c.iso2] ? "cover" : "other");
      for (const ring of c.rings) {
        for (const p of ring) { groups[g].x.push(p[0]); groups[g].y.push(p[1]); }
        groups[g].x.push(null); groups[g].y.push(null);
      }
    }
    const fills = { exposed: "rgba(230,126,34,0.75)", cover: "rgba(93,122,150,0.55)", other: dark ? "rgba(90,90,90,0.35)" : "rgba(200,200,200,0.45)" };
    const traces = ["other", "cover", "exposed"].map((g) => ({
      type: "scatter", mode: "lines", x: groups[g].x, y: groups[g].y, fill: "toself",
      fillcolor: fills[g], line: { color: dark ? "#777" : "#888", width: 0.5 }, hoverinfo: "skip",
      name: g === "other" ? "no event" : g,
    }));
    const marker = (codes, counts, name, color) => {
      const known = codes.filter((c) => centre[c]);
      return { type: "scatter", mode: "markers", name: name, x: known.map((c) => centre[c][0]),
        y: known.map((c) => centre[c][1]), text: known.map((c) => esc((data.names[c] || c) + ": " + counts[c] + " " + name)),
        hoverinfo: "text", marker: { color: color, size: known.map((c) => 6 + 3 * Math.log2(1 + counts[c])), opacity: 0.8 } };
    };
    traces.push(marker(Object.keys(data.cover), data.cover, "cover events", "#34495e"));
    traces.push(marker(Object.keys(data.exposed), data.exposed, "exposed events", "#d35400"));
    const slipCount = {};
    for (const s of data.slips) { if (s.country) { slipCount[s.country] = (slipCount[s.country] || 0) + 1; } }
    const st = marker(Object.keys(slipCount), slipCount, "slips", "#c0392b");
    st.marker.symbol = "diamond-open"; st.marker.line = { width: 2 };
    traces.push(st);
    Plotly.newPlot(el, traces, Object.assign({}, baseLayout, {
      height: 520, margin: { l: 10, r: 10, t: 10, b: 10 }, showlegend: true, legend: { orientation: "h" },
      xaxis: { range: [-180, 180], visible: false }, yaxis: { range: [-60, 85], visible: false, scaleanchor: "x" },
    }), plotConfig);
  }

  // -- what-if --------------------------------------------------------------------------
  function whatIf() {
    const form = document.getElementById("whatif-form");
    if (!form) { return; }
    let seq = 0;
    async function run() {
      const drop = Array.from(form.querySelectorAll("input[name=line]")).filter((c) => !c.checked).map((c) => c.value);
      const body = { persona_id: data.persona.id, drop: drop };
      for (const k of ["unknown", "false_flag_share", "exclusivity"]) {
        const v = form.elements[k].value;
        if (v !== "") { body[k] = Number(v); }
      }
      const mine = ++seq;
      text(document.getElementById("w-state"), "Recomputing…");
      try {
        const r = await postJSON("/api/whatif", body);
        if (mine !== seq) { return; }
        text(document.getElementById("w-likelihood"), r.likelihood);
        text(document.getElementById("w-probability"), pct(r.probability));
        text(document.getElementById("w-confidence"), r.confidence);
        text(document.getElementById("w-actor"), r.actor || "none");
        const ul = document.getElementById("w-reasons");
        ul.replaceChildren();
        for (const reason of r.reasons.concat(r.notes)) { const li = document.createElement("li"); li.textContent = reason; ul.appendChild(li); }
        for (const [hid, p] of Object.entries(r.posteriors)) {
          const cell = document.querySelector("[data-post='" + CSS.escape(hid) + "']");
          text(cell, String(p));
        }
        const changed = r.likelihood !== r.recorded.likelihood || r.confidence !== r.recorded.confidence || r.actor !== r.recorded.actor;
        const state = document.getElementById("w-state");
        text(state, (changed ? "Verdict changed" : "Verdict unchanged") + " — " + r.lines + " line(s) kept, " + r.dropped.length + " dropped.");
        state.dataset.state = changed ? "changed" : "same";
        document.getElementById("whatif-result").dataset.done = String(mine);
      } catch (err) {
        if (mine === seq) { text(document.getElementById("w-state"), "Error: " + err.message); }
      }
    }
    form.addEventListener("change", run);
    document.getElementById("whatif-reset").addEventListener("click", () => {
      form.reset(); form.querySelectorAll("input[name=line]").forEach((c) => { c.checked = true; }); run();
    });
  }

  // -- notes ----------------------------------------------------------------------------
  function notes() {
    const box = document.getElementById("notes");
    const form = box && box.querySelector(".note-form");
    if (!form) { return; }
    form.addEventListener("submit", async (ev) => {
      ev.preventDefault();
      const on = form.elements.on ? form.elements.on.value : "";
      const body = { target_kind: on ? "line" : box.dataset.kind, target_id: on || box.dataset.target,
        tag: form.elements.tag.value, note: form.elements.note.value };
      try {
        const n = await postJSON("/api/notes", body);
        const li = document.createElement("li");
        const tag = document.createElement("span"); tag.className = "tag"; tag.textContent = n.tag;
        li.appendChild(tag); li.appendChild(document.createTextNode(" " + n.note + (on ? " (on " + on + ")" : "")));
        box.querySelector("ul.notes").appendChild(li);
        form.reset();
      } catch (err) { window.alert(err.message); }
    });
  }

  timeline();
  worldMap();
  whatIf();
  notes();
  document.body.dataset.ready = "1";
})();
