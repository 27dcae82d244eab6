// tracegate donations pages: live figures on the public record, live scan
// counts on the hospital's receiving page, the shortfall a confirmation
// will record, and the pledge form's goods/money fields. Pages work
// without it. No libraries.
(function () {
  "use strict";

  const $ = (sel, root) => (root || document).querySelector(sel);
  const $$ = (sel, root) => Array.from((root || document).querySelectorAll(sel));

  // One stream for the page's live parts; a periodic refresh catches what
  // other gateways record (their updates do not reach this stream).
  function stream(onUpdate, types) {
    const live = $("#live"), text = $("#live-text");
    const set = (on, msg) => {
      if (!live) return;
      live.classList.toggle("on", on);
      live.classList.toggle("off", !on);
      if (text && msg) text.textContent = msg;
    };
    if (window.EventSource) {
      const es = new EventSource("/api/v1/stream");
      es.addEventListener("open", () => { set(true, "Live"); document.documentElement.dataset.donLive = "on"; });
      es.addEventListener("error", () => { set(false, "Reconnecting…"); document.documentElement.dataset.donLive = "off"; });
      es.addEventListener("bye", () => es.close());
      types.forEach((t) => es.addEventListener(t, onUpdate));
      window.addEventListener("beforeunload", () => es.close());
    }
    setInterval(onUpdate, 60000);
  }

  // Fetch the page again and let swap move the fresh parts in.
  function refresher(swap) {
    let timer = null, inflight = false, again = false;
    function reload() {
      if (inflight) { again = true; return; }
      inflight = true;
      fetch(location.pathname, { credentials: "same-origin", headers: { Accept: "text/html" } })
        .then((r) => { if (!r.ok) throw new Error("HTTP " + r.status); return r.text(); })
        .then((html) => {
          const doc = new DOMParser().parseFromString(html, "text/html");
          const y = window.scrollY;
          swap(doc);
          window.scrollTo(0, y);
          document.documentElement.dataset.donUpdated = String(Date.now());
        })
        .catch(() => { /* the next update retries */ })
        .finally(() => { inflight = false; if (again) { again = false; schedule(); } });
    }
    function schedule() {
      clearTimeout(timer);
      timer = setTimeout(reload, 500);
    }
    return schedule;
  }

  // ---- Public record ----
  function publicRecord() {
    const root = $("#donations");
    if (!root || !window.DOMParser) return;
    const schedule = refresher((doc) => {
      ["#live-parts", "#live-totals"].forEach((sel) => {
        const fresh = $(sel, doc), cur = $(sel);
        if (fresh && cur) cur.replaceWith(document.importNode(fresh, true));
      });
    });
    stream(schedule, ["donation"]);
  }

  // ---- Hospital: scan counts and the shortfall to be recorded ----
  function shortfall(input) {
    const form = input.closest("form");
    const box = form && $(".don-shortfall", form);
    if (!box) return;
    const q = Number(input.dataset.quantity || 0), n = Number(input.value);
    const txt = $(".short-text", box);
    if (input.value === "" || !Number.isFinite(n)) {
      txt.textContent = "Scan the pallets at your dock, or count the units and enter the number.";
      box.classList.remove("is-short");
      box.classList.add("is-empty");
      return;
    }
    const s = q - n;
    box.classList.remove("is-empty");
    box.classList.toggle("is-short", s > 0);
    txt.textContent = "";
    const strong = document.createElement("strong");
    strong.className = "short-n";
    if (s > 0) {
      strong.textContent = String(s);
      txt.append("A shortfall of ", strong, " of the " + q + " allocated will be recorded.");
    } else {
      strong.textContent = "No";
      txt.append(strong, " shortfall: everything allocated arrived.");
    }
  }

  function hospital() {
    const root = $("#hospital");
    if (!root) return;
    $$(".received-input", root).forEach((inp) => {
      inp.addEventListener("input", () => { inp.dataset.touched = "1"; shortfall(inp); });
    });
    if (!window.DOMParser) return;
    const schedule = refresher((doc) => {
      $$(".don-await", root).forEach((art) => {
        const id = art.dataset.id;
        const fresh = $('.don-await[data-id="' + CSS.escape(id) + '"]', doc);
        if (!fresh) return;
        ["dl.scan-figures", ".scan-last", ".scan-hint"].forEach((sel) => {
          const f = $(sel, fresh), c = $(sel, art);
          if (f && c) c.replaceWith(document.importNode(f, true));
        });
        const inp = $(".received-input", art), packs = $(".scan-packs", fresh);
        if (inp && packs && !inp.dataset.touched && Number(packs.dataset.packs) > 0) {
          inp.value = packs.dataset.packs;
          shortfall(inp);
        }
      });
    });
    stream(schedule, ["batch", "donation"]);
  }

  // ---- Charity: goods or money ----
  function charity() {
    const form = $("#pledge-form");
    if (!form) return;
    const apply = () => {
      const money = ($("#pl-money") || {}).checked;
      form.classList.toggle("is-money", !!money);
      form.classList.toggle("is-goods", !money);
    };
    $$('input[name="kind"]', form).forEach((r) => r.addEventListener("change", apply));
    apply();
  }

  document.addEventListener("DOMContentLoaded", () => {
    publicRecord();
    hospital();
    charity();
  });
})();
