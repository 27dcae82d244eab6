// tracegate portal: small progressive enhancements. Pages work without it;
// with it, the dashboard updates live, proofs verify in place and links
// copy with one click. No libraries.
(function () {
  "use strict";

  const $ = (sel, root) => (root || document).querySelector(sel);
  const $$ = (sel, root) => Array.from((root || document).querySelectorAll(sel));
  const SVG = "http://www.w3.org/2000/svg";

  function el(tag, attrs, ...children) {
    const e = document.createElement(tag);
    for (const [k, v] of Object.entries(attrs || {})) {
      if (k === "class") e.className = v; else e.setAttribute(k, v);
    }
    for (const c of children) {
      if (c == null) continue;
      e.append(c instanceof Node ? c : document.createTextNode(String(c)));
    }
    return e;
  }

  function csrf() {
    const m = $('meta[name="csrf-token"]');
    return m ? m.content : "";
  }

  // ---- Copy buttons ----
  function copyText(text, btn) {
    const done = () => {
      const old = btn.textContent;
      btn.textContent = "Copied";
      setTimeout(() => { btn.textContent = old; }, 1500);
    };
    if (navigator.clipboard && window.isSecureContext) {
      navigator.clipboard.writeText(text).then(done, () => fallbackCopy(text, done));
    } else {
      fallbackCopy(text, done);
    }
  }
  function fallbackCopy(text, done) {
    const ta = el("textarea", { class: "sr-only", "aria-hidden": "true" });
    ta.value = text;
    document.body.append(ta);
    ta.select();
    try { document.execCommand("copy"); done(); } catch (e) { /* nothing to do */ }
    ta.remove();
  }
  document.addEventListener("click", (ev) => {
    const b = ev.target.closest("[data-copy],[data-copy-from]");
    if (!b) return;
    const from = b.getAttribute("data-copy-from");
    const text = from ? ($("#" + from) || {}).textContent || "" : b.getAttribute("data-copy");
    copyText(text, b);
  });

  // ---- Icons and badges cloned from the page's hidden templates ----
  function icon(name) {
    const t = $('#tpl [data-icon="' + name + '"] svg') || $('#tpl [data-icon="dot"] svg');
    return t ? t.cloneNode(true) : el("span");
  }
  function badge(state) {
    const t = $('#tpl [data-badge="' + state + '"] .badge');
    return t ? t.cloneNode(true) : el("span", { class: "badge muted" }, state || "");
  }

  // ---- Events-per-minute chart ----
  function drawSpark(svg, values) {
    if (!svg) return;
    // Draw in the element's own pixels, so labels keep their size on
    // phones and desktops alike.
    const W = Math.max(240, Math.round(svg.getBoundingClientRect().width) || 600), H = 150;
    const top = 22, bottom = 24, left = 2, right = 2;
    svg.setAttribute("viewBox", "0 0 " + W + " " + H);
    while (svg.firstChild) svg.firstChild.remove();
    const n = values.length || 1;
    const max = Math.max(1, ...values);
    const bw = (W - left - right) / n;
    const mk = (tag, attrs) => {
      const e = document.createElementNS(SVG, tag);
      for (const [k, v] of Object.entries(attrs)) e.setAttribute(k, v);
      return e;
    };
    svg.append(mk("line", { class: "base", x1: left, y1: H - bottom, x2: W - right, y2: H - bottom }));
    values.forEach((v, i) => {
      const h = v > 0 ? Math.max(2, (H - top - bottom) * v / max) : 0;
      const r = mk("rect", {
        class: "bar" + (i === n - 1 ? " now" : ""), x: (left + i * bw + 1).toFixed(1), y: (H - bottom - h).toFixed(1),
        width: Math.max(1, bw - 2).toFixed(1), height: h.toFixed(1), rx: 1.5
      });
      const t = mk("title", {});
      const ago = n - 1 - i;
      t.textContent = v + (v === 1 ? " event" : " events") + (ago === 0 ? " this minute" : ", " + ago + " min ago");
      r.append(t);
      svg.append(r);
    });
    const label = (x, anchor, text, y) => {
      const t = mk("text", { x, y: y || H - 6, "text-anchor": anchor });
      t.textContent = text;
      svg.append(t);
    };
    label(left, "start", "60 min ago");
    label(W - right, "end", "now");
    label(left, "start", "peak " + max + " per minute", 14);
    const total = values.reduce((a, b) => a + b, 0);
    svg.setAttribute("aria-label", "Events per minute over the last hour: " + total + " in total, peak " + max + " per minute");
    svg.dataset.total = String(total);
  }

  // ---- Dashboard ----
  function dashboard() {
    const root = $("#dashboard");
    if (!root) return;
    let data = {};
    try { data = JSON.parse($("#dash-data").textContent); } catch (e) { data = {}; }
    drawSpark($("#spark"), data.perMinute || []);
    let lastSeries = data.perMinute || [];
    let resizeTimer = null;
    window.addEventListener("resize", () => {
      clearTimeout(resizeTimer);
      resizeTimer = setTimeout(() => drawSpark($("#spark"), lastSeries), 150);
    });
    let known = new Set((data.recent || []).map((e) => e.id));

    const live = $("#live"), liveText = $("#live-text");
    const setLive = (state, text) => {
      live.classList.toggle("on", state === "on");
      live.classList.toggle("off", state === "off");
      liveText.textContent = text;
    };

    function feedItem(e, isNew) {
      const li = el("li", isNew ? { class: "new" } : {},
        el("span", { class: "fi" }, icon(e.icon)),
        el("div", {}, el("a", { href: e.url }, e.sentence),
          el("span", { class: "meta" }, (e.what ? e.what + " · " : ""), el("time", { datetime: e.time }, e.when))),
        badge(e.state));
      li.dataset.id = e.id;
      return li;
    }

    function update(d) {
      const set = (id, v) => { const n = $("#" + id); if (n) n.textContent = v; };
      set("c-events", d.counts.events);
      set("c-batches", d.counts.batches);
      set("c-anchored", d.counts.anchored);
      set("c-queued", d.anchoring.queued);
      set("c-hour", d.lastHour);
      set("c-oldest", d.anchoring.oldest ? "waiting since " + new Date(d.anchoring.oldest).toLocaleTimeString() : "queue empty");
      set("a-queue", d.anchoring.queued + (d.anchoring.queued === 1 ? " batch" : " batches") + " waiting" + (d.anchoring.stuck ? ", " + d.anchoring.stuck + " refused" : ""));
      set("a-last", d.anchorAge);
      set("a-err", d.anchoring.lastError || "none");
      const lb = $("#ledger-badge");
      if (lb) {
        lb.replaceChildren(d.anchoring.ledgerDown ? el("span", { class: "badge bad" }, "Ledger unavailable")
          : d.anchoring.stuck ? el("span", { class: "badge bad" }, "Refusals") : el("span", { class: "badge ok" }, "Ledger up"));
      }
      lastSeries = d.perMinute || [];
      drawSpark($("#spark"), lastSeries);
      const list = $("#recent");
      if (list && d.recent) {
        const items = d.recent.map((e) => feedItem(e, !known.has(e.id)));
        if (items.length) list.replaceChildren(...items);
        known = new Set(d.recent.map((e) => e.id));
      }
      const probs = $("#problems");
      if (probs) {
        probs.replaceChildren(...(d.problems && d.problems.length ? [el("div", { class: "alert warn", role: "status" },
          el("strong", {}, "Needs attention"), el("ul", {}, ...d.problems.map((p) => el("li", {}, p))))] : []));
      }
      const edges = $("#edges");
      if (edges && d.edges && d.edges.length) {
        edges.replaceChildren(...d.edges.map((e) => {
          const j = e.journal || {};
          const b = e.error ? el("span", { class: "badge bad" }, "Status unavailable")
            : e.ready ? el("span", { class: "badge ok" }, "Ready") : el("span", { class: "badge warn" }, "Needs attention");
          const mini = (label, v, bad) => el("div", bad ? { class: "bad" } : {}, el("span", {}, label), el("strong", {}, v));
          return el("div", { class: "edge-mini" }, el("header", {}, el("strong", {}, e.id), b),
            el("div", { class: "minis" }, mini("Pending events", j.pendingEvents || 0), mini("Unsent batches", j.unackedBatches || 0),
              mini("Dead letters", j.deadLetters || 0, j.deadLetters > 0)));
        }));
      }
      root.dataset.updated = d.updated;
    }

    let timer = null, inflight = false, again = false;
    function refresh() {
      if (inflight) { again = true; return; }
      inflight = true;
      fetch("/api/v1/dashboard", { credentials: "same-origin", headers: { Accept: "application/json" } })
        .then((r) => {
          if (r.status === 401) { location.href = "/login?next=/"; throw new Error("signed out"); }
          if (!r.ok) throw new Error("HTTP " + r.status);
          return r.json();
        })
        .then(update)
        .catch(() => { /* the next update or the periodic refresh retries */ })
        .finally(() => { inflight = false; if (again) { again = false; schedule(); } });
    }
    // Updates come in bursts while devices publish: refresh at most about
    // once a second, and never let a steady stream postpone it for ever.
    let first = 0;
    function schedule() {
      const now = Date.now();
      if (!timer) first = now;
      clearTimeout(timer);
      const wait = now - first > 2000 ? 0 : 700;
      timer = setTimeout(() => { timer = null; refresh(); }, wait);
    }
    if (window.EventSource) {
      const es = liveStream();
      es.onopen = () => setLive("on", "Live");
      es.onerror = () => setLive("off", "Reconnecting…");
      ["batch", "anchor", "event"].forEach((t) => es.addEventListener(t, schedule));
      es.addEventListener("bye", () => setLive("off", "Server stopped"));
    } else {
      setLive("off", "Refreshing every 15 s");
    }
    setInterval(refresh, 15000);
  }

  // ---- Verify in place (event page) ----
  function checkText() {
    try { return JSON.parse(($("#check-text") || {}).textContent || "{}"); } catch (e) { return {}; }
  }
  function renderResult(box, res) {
    const text = checkText();
    let cls = "bad", verdict = "Not verified", summary = "A check failed (marked below): do not rely on this record.";
    if (res.verified) { cls = "ok"; verdict = "Verified"; summary = "Every check passed: this event was sealed by a registered device and is anchored on the consortium ledger."; }
    else if (res.pending) { cls = "warn"; verdict = "Pending anchor"; summary = "The event and its seal check out, but its batch is not anchored on the ledger yet. Try again in a few seconds."; }
    const head = el("div", { class: "verdict " + cls, role: "status" }, icon(cls === "ok" ? "shield" : cls === "warn" ? "clock" : "alert"),
      el("div", {}, el("h2", {}, verdict), el("p", {}, summary)));
    const ol = el("ol", { class: "checks" }, ...(res.steps || []).map((s) => {
      const c = s.ok ? "ok" : s.skipped ? "muted" : "bad";
      return el("li", { class: c }, el("span", { class: "mark", "aria-hidden": "true" }, s.ok ? "✓" : s.skipped ? "–" : "✗"),
        el("div", {}, el("strong", {}, s.check.charAt(0).toUpperCase() + s.check.slice(1), el("span", { class: "sr-only" }, s.ok ? " passed" : s.skipped ? " not checked" : " failed")),
          text[s.check] ? el("p", { class: "explain" }, text[s.check]) : null, el("p", { class: "detail" }, s.detail)));
    }));
    box.replaceChildren(head, ol);
    box.dataset.verified = String(!!res.verified);
  }
  function verifyButtons() {
    $$("[data-verify]").forEach((btn) => {
      btn.addEventListener("click", async () => {
        const box = $("#verify-result");
        btn.disabled = true;
        const label = btn.textContent;
        btn.textContent = "Verifying…";
        try {
          const pr = await fetch(btn.getAttribute("data-verify"), { headers: { Accept: "application/json" } });
          if (!pr.ok) throw new Error("the proof could not be fetched (HTTP " + pr.status + ")");
          const proof = await pr.json();
          const vr = await fetch("/api/v1/verify", {
            method: "POST", credentials: "same-origin",
            headers: { "Content-Type": "application/json", Accept: "application/json", "X-CSRF-Token": csrf() },
            body: JSON.stringify(proof)
          });
          const res = await vr.json();
          if (!res.steps) throw new Error(res.detail || res.title || "unexpected answer");
          renderResult(box, res);
        } catch (e) {
          box.replaceChildren(el("div", { class: "alert bad", role: "alert" }, "Verification could not run: " + e.message));
        } finally {
          btn.disabled = false;
          btn.textContent = label;
        }
      });
    });
  }

  // ---- Verify page: show a chosen file's proof before sending it ----
  function verifyForm() {
    const file = $("#verify-form #file"), ta = $("#verify-form #proof");
    if (!file || !ta || !window.FileReader) return;
    file.addEventListener("change", () => {
      const f = file.files && file.files[0];
      if (!f) return;
      const r = new FileReader();
      r.onload = () => { ta.value = String(r.result || ""); $("#verify-form #eventID").value = ""; };
      r.readAsText(f);
    });
  }


  // ---- One live stream per page ----
  let sharedStream = null;
  function liveStream() {
    if (!sharedStream) {
      sharedStream = new EventSource("/api/v1/stream");
      // Tests (and curious people) can tell when the page is live.
      sharedStream.addEventListener("open", () => { document.documentElement.dataset.live = "on"; });
      sharedStream.addEventListener("error", () => { document.documentElement.dataset.live = "off"; });
      sharedStream.addEventListener("bye", () => sharedStream.close());
      window.addEventListener("beforeunload", () => sharedStream.close());
    }
    return sharedStream;
  }

  // ---- Passport: event filters and live updates ----
  function eventFilters(root) {
    const box = $("#events-box", root);
    if (!box) return;
    const apply = (which) => {
      $$(".filter", box).forEach((b) => {
        const on = b.dataset.filter === which;
        b.classList.toggle("on", on);
        b.setAttribute("aria-pressed", String(on));
      });
      $$("#event-states tr.ev-row", box).forEach((r) => { r.hidden = which !== "all" && r.dataset.state !== which; });
      box.dataset.filter = which;
    };
    box.addEventListener("click", (ev) => {
      const b = ev.target.closest(".filter");
      if (b) apply(b.dataset.filter);
    });
    return apply;
  }

  function passport() {
    const root = $("#passport");
    if (!root) return;
    let apply = eventFilters(root);
    if (!window.EventSource || !window.DOMParser) return;
    const gtin = root.dataset.gtin, lot = root.dataset.lot;
    let timer = null, inflight = false, again = false;
    // Reload the page's live parts in place: the reader keeps their
    // place, open sections stay open, the chosen filter stays chosen.
    function reload() {
      if (inflight) { again = true; return; }
      inflight = true;
      fetch(root.dataset.refresh || location.pathname, { credentials: "same-origin", headers: { Accept: "text/html" } })
        .then((r) => { if (!r.ok) throw new Error("HTTP " + r.status); return r.text(); })
        .then((html) => {
          const doc = new DOMParser().parseFromString(html, "text/html");
          const fresh = $("#live-parts", doc), cur = $("#live-parts");
          const next = $("#passport", doc);
          if (!fresh || !cur || !next) return;
          const open = $("#events-box") ? $("#events-box").open : null;
          const filter = ($("#events-box") || { dataset: {} }).dataset.filter || "all";
          const y = window.scrollY;
          cur.replaceWith(document.importNode(fresh, true));
          if (open !== null && $("#events-box")) $("#events-box").open = open;
          root.dataset.pending = next.dataset.pending;
          apply = eventFilters(root);
          if (apply) apply(filter);
          window.scrollTo(0, y);
          root.dataset.updated = String(Date.now());
        })
        .catch(() => { /* the next update retries */ })
        .finally(() => { inflight = false; if (again) { again = false; schedule(); } });
    }
    function schedule() {
      clearTimeout(timer);
      timer = setTimeout(reload, 600);
    }
    const concerns = (ev) => {
      let d = {};
      try { d = JSON.parse(ev.data || "{}"); } catch (e) { return false; }
      if (!gtin) return true;
      return d.gtin === gtin && (!lot || !d.lot || d.lot === lot);
    };
    const es = liveStream();
    ["alert", "lot"].forEach((t) => es.addEventListener(t, (ev) => { if (concerns(ev)) schedule(); }));
    // A new anchor may prove events still pending here.
    es.addEventListener("anchor", () => { if (Number(root.dataset.pending || 0) > 0) schedule(); });
  }

  // ---- Alerts: the navigation badge and the alerts page ----
  function alerts() {
    const badge = $("#alert-count");
    const page = $("#alerts-page");
    if (!badge && !page) return;
    if (!window.EventSource) return;
    const org = (badge || page).dataset.org || "", all = (badge || page).dataset.all === "true";
    const mine = (a) => all || (a.orgs || []).indexOf(org) >= 0;
    const list = $("#alert-list");
    const sevText = { critical: "Critical", warning: "Warning", info: "Info" };
    const kindText = {
      "excursion-start": "Excursion started", "excursion-breach": "Excursion limit exceeded", "excursion-recorded": "Excursion recorded",
      recall: "Recall", suspect: "Suspect packs", "sensor-fault": "Sensor fault"
    };
    const months = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"];
    const pad = (n) => (n < 10 ? "0" : "") + n;
    // As the server writes times: "25 Nov 2026, 20:44 UTC".
    const fmt = (d) => d.getUTCDate() + " " + months[d.getUTCMonth()] + " " + d.getUTCFullYear() + ", " + pad(d.getUTCHours()) + ":" + pad(d.getUTCMinutes()) + " UTC";
    function item(a) {
      const when = a.at ? new Date(a.at) : new Date();
      const meta = el("div", { class: "alert-meta" }, el("span", { class: "sev" }, sevText[a.severity] || a.severity || "Info"),
        el("time", { datetime: when.toISOString() }, fmt(when)),
        a.siteName ? el("span", {}, a.siteName) : null, a.kind ? el("span", {}, kindText[a.kind] || a.kind) : null);
      const body = el("div", {}, meta, el("h3", {}, a.link ? el("a", { href: a.link }, a.title) : a.title), el("p", {}, a.message || ""));
      const li = el("li", { class: "alert-item new sev-" + (a.severity || "info") }, body);
      li.dataset.id = a.id;
      return li;
    }
    const es = liveStream();
    if (page) {
      const live = $("#live"), liveText = $("#live-text");
      es.addEventListener("open", () => { live.classList.add("on"); live.classList.remove("off"); liveText.textContent = "Live"; });
      es.addEventListener("error", () => { live.classList.remove("on"); live.classList.add("off"); liveText.textContent = "Reconnecting…"; });
      if (es.readyState === 1) { live.classList.add("on"); liveText.textContent = "Live"; }
    }
    es.addEventListener("alert", (ev) => {
      let a = {};
      try { a = JSON.parse(ev.data || "{}"); } catch (e) { return; }
      if (!a.id || !mine(a)) return;
      if (badge) {
        const n = Number(badge.dataset.n || 0) + 1;
        badge.dataset.n = String(n);
        badge.textContent = n > 99 ? "99+" : String(n);
        badge.setAttribute("aria-label", n + " new alerts");
      }
      if (list && !$('[data-id="' + CSS.escape(a.id) + '"]', list)) {
        const empty = $(".empty-li", list);
        if (empty) empty.remove();
        list.prepend(item(a));
        const bump = (id) => { const c = $("#" + id); if (c) c.textContent = String(Number(c.textContent || 0) + 1); };
        bump("alerts-total");
        if (a.severity === "critical") bump("alerts-critical");
        if (a.severity === "warning") bump("alerts-warning");
      }
    });
  }

  document.addEventListener("DOMContentLoaded", () => {
    dashboard();
    passport();
    alerts();
    verifyButtons();
    verifyForm();
  });
})();
