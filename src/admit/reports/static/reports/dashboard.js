/* The dashboard: draws today's figures with Chart.js and polls /dashboard/data for fresh ones. */
(function () {
  "use strict";
  const C = JSON.parse(document.getElementById("dash-config").textContent);
  const T = C.strings;
  const $ = (id) => document.getElementById(id);
  const lang = document.documentElement.lang === "en" ? "en" : "zh-CN";
  const num = new Intl.NumberFormat(lang);
  const yuan = new Intl.NumberFormat(lang, { minimumFractionDigits: 2, maximumFractionDigits: 2 });
  const css = getComputedStyle(document.documentElement);
  const color = (name) => css.getPropertyValue(name).trim();
  const COLORS = {
    in: color("--green"), out: color("--blue"), grid: "rgba(255,255,255,0.08)",
    text: color("--muted"), free: "#22303d", bar: color("--violet"),
  };
  const charts = {};
  let lastOk = null; // the last figures that arrived
  let timer = null;

  function fmt(template, values) {
    return template.replace(/%\((\w+)\)s/g, (_m, k) => (values[k] == null ? "" : values[k]));
  }
  function esc(s) {
    return String(s == null ? "" : s).replace(/[&<>"']/g, (c) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" }[c]));
  }
  function fontSize() { return Math.max(12, Math.round(window.innerWidth / 120)); }

  Chart.defaults.color = COLORS.text;
  Chart.defaults.borderColor = COLORS.grid;
  Chart.defaults.font.family = getComputedStyle(document.body).fontFamily;
  Chart.defaults.font.size = fontSize();
  Chart.defaults.maintainAspectRatio = false;
  Chart.defaults.plugins.legend.labels.boxWidth = 14;

  function gaugeColor(pct) {
    if (pct == null) return COLORS.free;
    return pct >= 90 ? color("--red") : pct >= 70 ? color("--amber") : COLORS.in;
  }

  function build(d) {
    charts.gauge = new Chart($("chart-gauge"), {
      type: "doughnut",
      data: { labels: [T.inside, T.free], datasets: [{ data: [0, 1], backgroundColor: [COLORS.in, COLORS.free], borderWidth: 0 }] },
      options: {
        rotation: -90, circumference: 180, cutout: "70%", animation: { duration: 600 },
        plugins: { legend: { display: false }, tooltip: { enabled: false } },
      },
    });
    charts.hours = new Chart($("chart-hours"), {
      type: "line",
      data: { labels: [], datasets: [
        { label: T.persons_in, data: [], borderColor: COLORS.in, backgroundColor: COLORS.in + "33", fill: true, cubicInterpolationMode: "monotone", pointRadius: 3 },
        { label: T.persons_out, data: [], borderColor: COLORS.out, backgroundColor: COLORS.out + "22", fill: true, cubicInterpolationMode: "monotone", pointRadius: 3 },
      ] },
      options: { scales: { y: { beginAtZero: true, ticks: { precision: 0 } } }, interaction: { mode: "index", intersect: false } },
    });
    charts.gates = new Chart($("chart-gates"), {
      type: "bar",
      data: { labels: [], datasets: [
        { label: T.persons_in, data: [], backgroundColor: COLORS.in, borderRadius: 4 },
        { label: T.persons_out, data: [], backgroundColor: COLORS.out, borderRadius: 4 },
      ] },
      options: { scales: { y: { beginAtZero: true, ticks: { precision: 0 } } } },
    });
    charts.origins = new Chart($("chart-origins"), {
      type: "bar",
      data: { labels: [], datasets: [{ label: T.visitors, data: [], backgroundColor: COLORS.bar, borderRadius: 4 }] },
      options: {
        indexAxis: "y",
        scales: { x: { beginAtZero: true, ticks: { precision: 0 } }, y: { grid: { display: false } } },
        plugins: { legend: { display: false } },
      },
    });
    draw(d, true);
  }

  function setText(key, text) {
    document.querySelectorAll('[data-key="' + key + '"]').forEach((el) => { el.textContent = text; });
  }

  // the big numbers shrink until they fit their tile (a long sum of money on a narrow screen)
  function fitNumbers() {
    document.querySelectorAll(".kpi .big").forEach((el) => {
      el.style.fontSize = "";
      let size = parseFloat(getComputedStyle(el).fontSize);
      while (el.scrollWidth > el.clientWidth && size > 14) {
        size -= 2;
        el.style.fontSize = size + "px";
      }
    });
  }

  function slotRows(slots) {
    if (!slots.length) return '<tr><td colspan="5" class="muted">' + esc(T.no_slots) + "</td></tr>";
    return slots.map((s) => {
      const fill = s.fill == null ? 0 : s.fill;
      const cls = fill >= 95 ? "fill full" : fill >= 75 ? "fill warn" : "fill";
      return "<tr" + (s.now ? ' class="now" title="' + esc(T.now) + '"' : "") + "><td>" + esc(s.zone) +
        "</td><td>" + esc(s.slot) + '</td><td class="num">' + num.format(s.sold) +
        '</td><td class="num">' + num.format(s.capacity) + '</td><td class="fillcol"><span class="' + cls +
        '"><span style="width:' + Math.min(fill, 100) + '%"></span></span> ' + fill + "%</td></tr>";
    }).join("");
  }

  function draw(d, first) {
    const mode = first ? undefined : "none";
    setText("sold", num.format(d.sold));
    setText("sales", "¥" + yuan.format(Number(d.sales)));
    setText("entered", num.format(d.entered));
    setText("inside", num.format(d.inside));
    setText("inside_pct", d.inside_pct == null ? "–" : d.inside_pct + "%");
    setText("capacity", num.format(d.capacity));
    setText("persons_text", fmt(T.persons_sold, { n: num.format(d.persons) }));
    fitNumbers();
    document.querySelectorAll('[data-key="estimated"]').forEach((el) => { el.hidden = !d.inside_estimated; });
    $("dash-empty").hidden = !d.empty;
    const day = $("dash-day");
    if (day) day.textContent = d.day;

    const g = charts.gauge.data.datasets[0];
    g.data = d.capacity ? [Math.min(d.inside, d.capacity), Math.max(d.capacity - d.inside, 0)] : [0, 1];
    g.backgroundColor = [gaugeColor(d.inside_pct), COLORS.free];
    charts.gauge.update(mode);

    charts.hours.data.labels = d.hours.labels;
    charts.hours.data.datasets[0].data = d.hours.in;
    charts.hours.data.datasets[1].data = d.hours.out;
    charts.hours.data.datasets[1].hidden = !d.hours.out.some((v) => v);
    charts.hours.update(mode);

    charts.gates.data.labels = d.gates.labels;
    charts.gates.data.datasets[0].data = d.gates.in;
    charts.gates.data.datasets[1].data = d.gates.out;
    charts.gates.update(mode);

    charts.origins.data.labels = d.origins.map((o) => o.name);
    charts.origins.data.datasets[0].data = d.origins.map((o) => o.persons);
    charts.origins.update(mode);
    const notes = [];
    if (!d.origins.length) notes.push(T.no_origins);
    if (d.origins_unknown) notes.push(fmt(T.unknown_origin, { n: num.format(d.origins_unknown) }));
    $("origins-note").textContent = notes.join(" · ");

    $("slots").tBodies[0].innerHTML = slotRows(d.slots);

    const off = d.lanes.offline;
    const summary = $("lanes-summary");
    summary.textContent = !d.lanes.total ? T.no_lanes :
      off.length ? fmt(T.lanes_off, { off: off.length, n: d.lanes.total }) : fmt(T.lanes_ok, { n: d.lanes.total });
    summary.className = "lanes-summary " + (off.length ? "bad" : "ok");
    $("lanes-offline").innerHTML = off.map((l) =>
      "<li>" + esc(l.lane) + "<small>" + esc(l.gate) + " · " +
      esc(l.last_contact ? fmt(T.last_seen, { time: l.last_contact }) : T.never) + "</small></li>").join("");

    lastOk = d;
    document.body.classList.remove("stale");
    $("dash-status").textContent = fmt(T.updated, { time: d.updated });
    window.dashboardDrawn = (window.dashboardDrawn || 0) + 1; // for tests and for curious readers
  }

  function failed(message) {
    document.body.classList.add("stale");
    $("dash-status").textContent = message || fmt(T.stale, { time: lastOk ? lastOk.updated : "–" });
  }

  async function poll() {
    const ctrl = new AbortController();
    const limit = setTimeout(() => ctrl.abort(), Math.max(C.refresh * 1000, 5000));
    try {
      const r = await fetch(C.url, {
        credentials: "same-origin", cache: "no-store", signal: ctrl.signal,
        headers: { Accept: "application/json" },
      });
      if (r.status === 401 || r.status === 403) failed(T.logged_out);
      else if (!r.ok) failed();
      else draw(await r.json(), false);
    } catch (e) {
      failed();
    } finally {
      clearTimeout(limit);
      timer = setTimeout(poll, C.refresh * 1000);
    }
  }

  $("dash-fullscreen").addEventListener("click", () => {
    if (document.fullscreenElement) document.exitFullscreen();
    else if (document.documentElement.requestFullscreen) document.documentElement.requestFullscreen();
  });
  window.addEventListener("resize", () => { Chart.defaults.font.size = fontSize(); fitNumbers(); });
  // back from a sleeping screen or a hidden tab: fetch at once
  document.addEventListener("visibilitychange", () => {
    if (!document.hidden) { clearTimeout(timer); poll(); }
  });

  build(JSON.parse($("dash-data").textContent));
  timer = setTimeout(poll, C.refresh * 1000);
})();
