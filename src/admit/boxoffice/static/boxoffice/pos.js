/* The cashier's point of sale: keyboard first, one page, JSON to /boxoffice/pos/. */
(function () {
  "use strict";
  const C = JSON.parse(document.getElementById("pos-config").textContent);
  const T = JSON.parse(document.getElementById("pos-strings").textContent);
  const KEYS = "QWERTYUIOPASDFGHJKLZXCVBNM";
  const $ = (id) => document.getElementById(id);
  const state = {
    date: C.days[0], slotStart: null, products: [], basket: [], sel: -1,
    quote: null, parts: [], method: null, target: null, key: newKey(),
    digits: "", digitsAt: 0, busy: false, lastOrder: null, qrTimer: null, member: null,
  };

  function newKey() {
    return (window.crypto && crypto.randomUUID) ? crypto.randomUUID() :
      String(Date.now()) + Math.random().toString(16).slice(2);
  }
  function weekday(d) {
    try { return new Date(d + "T12:00:00").toLocaleDateString(document.documentElement.lang || undefined, { weekday: "short" }); } catch (e) { return ""; }
  }
  function money(v) { return "¥" + Number(v || 0).toFixed(2); }
  function fen(v) { const n = parseFloat(String(v || "0").replace(",", ".")); return isNaN(n) ? NaN : Math.round(n * 100); }
  function yuan(f) { return (f / 100).toFixed(2); }
  function esc(s) { return String(s == null ? "" : s).replace(/[&<>"']/g, (c) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" }[c])); }
  function csrf() { const m = document.cookie.match(/(?:^|; )csrftoken=([^;]+)/); return m ? decodeURIComponent(m[1]) : (document.querySelector("[name=csrfmiddlewaretoken]") || {}).value; }

  function say(text, kind) {
    const m = $("msg");
    m.textContent = text; m.className = "msg " + (kind || "error"); m.hidden = !text;
    if (text && kind === "ok") setTimeout(() => { if (m.textContent === text) m.hidden = true; }, 4000);
  }
  async function api(url, body, raw) {
    const opts = body === undefined ? { headers: { Accept: "application/json" } } : {
      method: "POST", headers: { "Content-Type": "application/json", "X-CSRFToken": csrf(), Accept: "application/json" },
      body: JSON.stringify(body),
    };
    const r = await fetch(url, opts);
    const type = r.headers.get("Content-Type") || "";
    if (raw && r.ok && type.indexOf("pdf") >= 0) return r.blob();
    let data = {};
    try { data = await r.json(); } catch (e) { data = { error: { code: "http_" + r.status, message: T.failed + " (" + r.status + ")" } }; }
    if (!r.ok || data.error) {
      const err = new Error((data.error && data.error.message) || T.failed);
      err.code = data.error && data.error.code; err.details = data.error && data.error.details;
      throw err;
    }
    return data;
  }
  function fail(e) { say(e.message + (e.code ? " [" + e.code + "]" : ""), "error"); }
  const orderUrl = (code, tail) => C.urls.order.replace("CODE", encodeURIComponent(code)) + (tail ? "/" + tail : "");

  // --- The day and its products --------------------------------------------------------
  function renderDays() {
    $("days").innerHTML = C.days.map((d, i) =>
      `<button type="button" role="tab" data-day="${d}" class="${d === state.date ? "on" : ""}">${i === 0 ? T.today : i === 1 ? T.tomorrow : d.slice(5)}<small>${i < 2 ? d.slice(5) : weekday(d)}</small></button>`).join("");
  }
  let daySeq = 0;
  async function loadDay() {
    renderDays();
    const seq = ++daySeq;
    try {
      const data = await api(C.urls.day + "?date=" + state.date);
      if (seq !== daySeq) return;  // another day was chosen meanwhile: its answer counts
      state.products = data.products;
      state.closed = data.closed;
      const starts = [];
      data.products.forEach((p) => p.slots.forEach((s) => { if (s.start && starts.indexOf(s.start) < 0) starts.push(s.start); }));
      starts.sort();
      state.starts = starts;
      if (state.slotStart && starts.indexOf(state.slotStart) < 0) state.slotStart = null;
      if (!state.slotStart) {
        const main = data.products.find((p) => p.slots.some((s) => s.start));
        const open = main ? main.slots.find((s) => s.start && (s.remaining === null || s.remaining > 0)) : null;
        state.slotStart = open ? open.start : (starts[0] || null);
      }
      renderSlots(); renderProducts();
      state.basket.forEach((ln) => { ln.date = state.date; ln.slot = slotFor(product(ln.product)); });
      renderBasket(); requote();
    } catch (e) { if (seq === daySeq) fail(e); }
  }
  function product(id) { return state.products.find((p) => p.id === id) || {}; }
  function slotFor(p) {
    if (!p.slots || !p.slots.length) return null;
    const same = p.slots.find((s) => s.start && s.start === state.slotStart);
    if (same) return same;
    return p.slots.find((s) => s.remaining === null || s.remaining > 0) || p.slots[0];
  }
  function renderSlots() {
    const main = state.products.find((p) => p.slots.some((s) => s.start));
    if (state.closed) { $("slots").innerHTML = `<p class="warn">${esc(T.closed)}</p>`; return; }
    $("slots").innerHTML = (state.starts || []).map((st) => {
      const s = main ? main.slots.find((x) => x.start === st) : null;
      const left = s && s.remaining !== null ? s.remaining : null;
      return `<button type="button" data-start="${st}" class="${st === state.slotStart ? "on" : ""} ${left === 0 ? "full" : ""}">${st}${s && s.end ? "–" + s.end : ""}<small>${left === null ? "" : T.left.replace("%s", left)}</small></button>`;
    }).join("");
  }
  function renderProducts() {
    $("products").innerHTML = state.products.map((p, i) => {
      const s = slotFor(p);
      const left = s && s.remaining !== null ? s.remaining : null;
      const off = p.price === null || left === 0;
      p.key = KEYS[i] || "";
      return `<button type="button" class="product ${p.kind}" data-product="${p.id}" ${off ? "disabled" : ""} data-code="${esc(p.code)}">
        <kbd>${p.key}</kbd><span class="name">${esc(p.name)}</span>
        <span class="price">${p.price === null ? T.not_on_sale : money(p.price)}${p.kind === "group" ? " " + T.per_person : ""}</span>
        <small>${left === null ? "" : T.left.replace("%s", left)}${p.real_name ? " · " + T.real_name : ""}${p.kind === "group" ? " · " + p.persons + "–" + (p.max_persons || p.persons) + " " + T.persons : ""}</small></button>`;
    }).join("") || `<p class="empty">${esc(T.no_products)}</p>`;
  }

  // --- The basket ----------------------------------------------------------------------
  function add(p) {
    if (!p || p.price === null) return;
    leaveOrderMode();
    const s = slotFor(p);
    let i = state.basket.findIndex((ln) => ln.product === p.id && ln.kind !== "group");
    if (i >= 0 && p.kind !== "group") { state.basket[i].quantity += 1; }
    else {
      state.basket.push({ product: p.id, kind: p.kind, date: state.date, slot: s, quantity: 1,
        persons: p.kind === "group" ? p.persons : null, visitors: [] });
      i = state.basket.length - 1;
    }
    state.sel = i; state.digits = "";
    changed();
  }
  function changed() { state.key = newKey(); state.parts = []; renderBasket(); renderParts(); requote(); }
  function setQuantity(q) {
    const ln = state.basket[state.sel]; if (!ln) return;
    if (q <= 0) { state.basket.splice(state.sel, 1); state.sel = Math.min(state.sel, state.basket.length - 1); }
    else ln.quantity = Math.min(q, 200);
    changed();
  }
  function needed(ln) { const p = product(ln.product); return p.real_name ? ln.quantity * (ln.persons || p.persons || 1) : 0; }
  function renderBasket() {
    const b = $("basket");
    if (!state.basket.length) { b.innerHTML = `<p class="empty">${esc(T.empty_basket)}</p>`; return; }
    const q = state.quote;
    b.innerHTML = state.basket.map((ln, i) => {
      const p = product(ln.product);
      const ql = q && q.lines[i];
      const n = needed(ln);
      while (ln.visitors.length < n) ln.visitors.push({ name: "", id_number: "" });
      ln.visitors.length = n;
      const people = ln.visitors.map((v, k) => `<div class="visitor"><span>${k + 1}</span>
          <input data-line="${i}" data-v="${k}" data-f="name" value="${esc(v.name)}" placeholder="${esc(T.name)}" maxlength="100">
          <input data-line="${i}" data-v="${k}" data-f="id_number" value="${esc(v.id_number)}" placeholder="${esc(T.id_number)}" maxlength="40"></div>`).join("");
      return `<div class="line ${i === state.sel ? "sel" : ""}" data-line="${i}" data-code="${esc(p.code)}">
        <div class="l1"><span class="name">${esc(p.name)}</span>
          <span class="qty"><button type="button" data-dec="${i}">−</button><b class="q">${ln.quantity}</b><button type="button" data-inc="${i}">+</button></span>
          <span class="amount">${ql ? money(ql.total) : ""}</span><button type="button" class="x" data-del="${i}" aria-label="${esc(T.remove)}">×</button></div>
        <div class="l2 meta">${ln.slot && ln.slot.start ? ln.slot.start + "–" + ln.slot.end : ""} ${ln.date}
          ${ql ? " · " + money(ql.unit) + (ln.kind === "group" ? " × " + ql.persons + " " + T.persons : "") : ""}
          ${ln.kind === "group" ? `<label>${esc(T.group_size)} <input type="number" class="persons" data-persons="${i}" min="${p.persons}" max="${p.max_persons || p.persons}" value="${ln.persons}"></label>` : ""}</div>
        ${people}</div>`;
    }).join("");
  }
  // Quotes can come back out of order (the server answers requests in parallel): only the
  // answer to the latest request may be shown, or a fast cashier sees a stale total.
  let quoteTimer = null, quoteSeq = 0;
  function requote() { clearTimeout(quoteTimer); quoteSeq += 1; quoteTimer = setTimeout(doQuote, 120); }
  function linesOut() {
    return state.basket.map((ln) => ({ product: ln.product, date: ln.date, quantity: ln.quantity,
      slot: ln.slot ? ln.slot.slot : null, persons: ln.persons,
      visitors: ln.visitors.filter((v) => v.name || v.id_number).map((v) => ({ name: v.name, id_type: "resident_id", id_number: v.id_number })) }));
  }
  function discountOut() {
    return { percent: $("disc-percent").value.trim() || null, reason: $("disc-reason").value.trim(),
      approver: $("appr-name").value.trim(), pin: $("appr-pin").value };
  }
  async function doQuote() {
    if (state.target) return;
    if (!state.basket.length) { state.quote = null; showTotals(); return; }
    const pct = parseFloat($("disc-percent").value || "0");
    $("approval").hidden = !(pct > parseFloat(C.limit));
    const seq = quoteSeq;
    let quote = null, error = null;
    try {
      quote = await api(C.urls.quote, { lines: linesOut().map((l) => ({ ...l, visitors: [] })), discount: discountOut(), member: state.member });
    } catch (e) { error = e; }
    if (seq !== quoteSeq) return;  // the basket changed while this quote was on its way
    state.quote = quote;
    if (error) fail(error); else say("");
    renderBasket(); showTotals();
  }
  function showTotals() {
    const q = state.quote;
    $("sum-subtotal").textContent = q ? money(q.subtotal) : "¥0.00";
    $("sum-discount").textContent = q ? "−" + money(q.discount) : "¥0.00";
    $("sum-total").textContent = q ? money(q.total) : "¥0.00";
    showDue();
  }
  function dueFen() {
    if (state.target) return fen(state.target.due);
    return state.quote ? fen(state.quote.total) : 0;
  }
  function leftFen() { return dueFen() - state.parts.reduce((s, p) => s + fen(p.amount), 0); }
  function showDue() {
    $("due").textContent = money(yuan(leftFen()));
    $("pay-target").textContent = state.target ? T.order + " " + state.target.code : "";
    updateChange();
  }

  // --- Payment ---------------------------------------------------------------------------
  function choose(method) {
    if (state.busy) return;
    if (!state.target && !state.basket.length) { say(T.empty_basket); return; }
    if (method === "qr") { payQr(); return; }
    state.method = method;
    document.querySelectorAll(".methods button").forEach((b) => b.classList.toggle("on", b.dataset.method === method));
    $("tender").hidden = false;
    $("row-tendered").hidden = method !== "cash";
    $("change-box").hidden = method !== "cash";
    $("row-reference").hidden = method !== "card";
    $("row-account").hidden = method !== "account";
    if (method === "account") {
      $("t-account").innerHTML = C.accounts.map((a) => `<option value="${a.id}">${esc(a.name)} (${esc(a.code)})</option>`).join("");
    }
    $("t-amount").value = yuan(leftFen());
    $("t-tendered").value = "";
    $("t-reference").value = "";
    updateChange();
    const focus = method === "cash" ? $("t-tendered") : method === "card" ? $("t-reference") : $("t-account");
    focus.focus(); if (focus.select) focus.select();
  }
  function updateChange() {
    if (state.method !== "cash") return;
    const amount = fen($("t-amount").value), given = fen($("t-tendered").value);
    const change = isNaN(given) || !$("t-tendered").value ? 0 : given - amount;
    $("change").textContent = money(yuan(Math.max(change, 0)));
    $("change-box").classList.toggle("short", change < 0);
  }
  function currentPart() {
    const m = state.method;
    if (!m) return null;
    const part = { method: m, amount: $("t-amount").value.trim() || null };
    if (m === "cash" && $("t-tendered").value.trim()) part.tendered = $("t-tendered").value.trim();
    if (m === "card") part.reference = $("t-reference").value.trim();
    return part;
  }
  function takePart() {
    const part = currentPart(); if (!part) return;
    if (part.method === "account") state.account = $("t-account").value;
    if (isNaN(fen(part.amount)) || fen(part.amount) <= 0 || fen(part.amount) >= leftFen()) { say(T.part_amount); return; }
    state.parts.push(part); state.method = null; $("tender").hidden = true;
    document.querySelectorAll(".methods button").forEach((b) => b.classList.remove("on"));
    renderParts(); showDue();
  }
  function renderParts() {
    $("parts").innerHTML = state.parts.map((p, i) => `<li>${esc(T.methods[p.method] || p.method)} ${money(p.amount)}${p.reference ? " · " + esc(p.reference) : ""} <button type="button" class="x" data-part="${i}">×</button></li>`).join("");
  }
  function checkoutBody(tenders, qr) {
    const body = { key: state.key, lines: linesOut(), discount: discountOut(), tenders: tenders, qr: !!qr };
    const acc = tenders.some((t) => t.method === "account") ? (state.account || $("t-account").value) : null;
    if (acc) body.account = acc;
    if (state.member) body.member = state.member;
    return body;
  }
  async function confirm() {
    if (state.busy) return;
    const part = currentPart();
    if (!part) { say(T.choose_method); return; }
    if (part.method === "account") state.account = $("t-account").value;
    const tenders = state.parts.concat([{ ...part, amount: null }]);
    state.busy = true; $("btn-confirm").disabled = true;
    try {
      let data;
      if (state.target) data = await api(orderUrl(state.target.code, "pay"), { key: state.key, tenders: tenders });
      else data = await api(C.urls.checkout, checkoutBody(tenders, false));
      const change = data.order.payments.reduce((s, p) => s + (p.change ? fen(p.change) : 0), 0);
      done(data.order, change);
    } catch (e) { fail(e); }
    finally { state.busy = false; $("btn-confirm").disabled = false; }
  }
  async function payQr() {
    if (state.busy) return;
    if (state.parts.length) { say(T.qr_whole); return; }
    state.busy = true;
    try {
      const data = state.target ? await api(orderUrl(state.target.code, "pay"), { qr: true })
        : await api(C.urls.checkout, checkoutBody([], true));
      if (data.order.status === "paid") { done(data.order, 0); return; }
      state.qrOrder = data.order.code;
      $("qr-img").innerHTML = data.qr.svg;
      $("qr-link").href = data.qr.pay_url;
      $("qr-amount").textContent = money(data.qr.amount);
      $("qr-status").textContent = T.waiting;
      open("qr");
      clearInterval(state.qrTimer);
      state.qrTimer = setInterval(pollQr, 1500);
    } catch (e) { fail(e); }
    finally { state.busy = false; }
  }
  async function pollQr() {
    // One check at a time, and only for the order still on screen: two checks in flight
    // would both see "paid" and finish (and print) the sale twice. A check that has hung for
    // 8 s no longer holds the next one back (the order code guards against a double finish).
    const started = Date.now();
    if (state.qrPolling && started - state.qrPolling < 8000) return;
    const code = state.qrOrder;
    state.qrPolling = started;
    try {
      const data = await api(orderUrl(code));
      if (code !== state.qrOrder || $("qr").hidden) return;
      if (data.order.status === "paid") { clearInterval(state.qrTimer); state.qrOrder = null; close("qr"); done(data.order, 0); }
      else if (data.order.status !== "pending") { clearInterval(state.qrTimer); $("qr-status").textContent = data.order.status_label; }
    } catch (e) { $("qr-status").textContent = e.message; }
    finally { if (state.qrPolling === started) state.qrPolling = 0; }
  }
  async function qrOther() {
    clearInterval(state.qrTimer); close("qr");
    try { const data = await api(orderUrl(state.qrOrder)); orderMode(data.order); } catch (e) { fail(e); }
  }
  async function qrCancel() {
    clearInterval(state.qrTimer);
    try { await api(orderUrl(state.qrOrder, "cancel"), {}); close("qr"); say(T.cancelled, "ok"); reset(); } catch (e) { fail(e); }
  }
  function orderMode(order) {
    state.target = order; state.parts = []; state.key = newKey();
    $("due-label").textContent = T.due_on_order;
    renderParts(); showDue();
  }
  function leaveOrderMode() {
    if (!state.target) return;
    state.target = null; $("due-label").textContent = T.to_pay; showDue();
  }

  // --- After payment: change, printing, card binding ----------------------------------
  async function printOrder(code, tickets, reason) {
    $("done-print").textContent = T.printing;
    try {
      const body = tickets ? { tickets: tickets, reason: reason || "" } : {};
      const blob = await api(orderUrl(code, "print"), body, true);
      const url = URL.createObjectURL(blob);
      const frame = $("print-frame");
      frame.onload = () => { if (window.POS_NO_PRINT) return; try { frame.contentWindow.focus(); frame.contentWindow.print(); } catch (e) { /* the link below opens it */ } };
      frame.src = url;
      $("done-print").innerHTML = esc(T.printed) + ` <a href="${url}" target="_blank" id="pdf-link">${esc(T.open_pdf)}</a>`;
      return true;
    } catch (e) { $("done-print").textContent = e.message; fail(e); return false; }
  }
  function done(order, changeFen) {
    state.lastOrder = order;
    $("done-code").textContent = order.code;
    $("done-change").textContent = money(yuan(changeFen));
    const passes = order.tickets.filter((t) => t.card && t.kind === "pass" && t.status === "valid");
    $("done-bind").innerHTML = passes.map((t) => `<div class="row bind"><span>${esc(t.product)} ${esc(t.holder)} ${esc(t.serial)}</span>
      <input data-bind="${t.id}" placeholder="${esc(T.card_uid)}" maxlength="64"><button type="button" data-bindbtn="${t.id}">${esc(T.bind_card)}</button></div>`).join("");
    open("done");
    $("btn-next").focus();
    if (order.status === "paid") printOrder(order.code);
    loadTotals();
  }
  function reset() {
    quoteSeq += 1; state.basket = []; state.sel = -1; state.quote = null; state.parts = []; state.method = null;
    state.key = newKey(); state.account = null; state.member = null;
    $("member").value = ""; $("member-info").textContent = "";
    $("disc-percent").value = ""; $("disc-reason").value = ""; $("appr-name").value = ""; $("appr-pin").value = "";
    $("approval").hidden = true; $("tender").hidden = true;
    document.querySelectorAll(".methods button, .presets button").forEach((b) => b.classList.remove("on"));
    leaveOrderMode(); renderBasket(); renderParts(); showTotals(); loadDay();
  }

  // --- Recent sales, pick-up -----------------------------------------------------------
  async function loadTotals() {
    try {
      const data = await api(C.urls.recent);
      const t = data.totals;
      $("totals").innerHTML = `${esc(T.sales)} <b id="tot-sales">${money(t.sales)}</b> · ${esc(T.tickets)} <b id="tot-tickets">${t.tickets}</b> · ${esc(T.cash_drawer)} <b id="tot-cash">${money(t.cash_expected)}</b>`;
      return data;
    } catch (e) { return null; }
  }
  function orderCard(o, where) {
    const tickets = o.tickets.map((t) => `<tr data-ticket="${t.id}" class="t-${t.status}">
      <td><input type="checkbox" data-pick="${t.id}" ${t.status !== "valid" ? "disabled" : ""}></td>
      <td>${esc(t.serial)}</td><td>${esc(t.product)}${t.persons > 1 ? " ×" + t.persons : ""}</td><td>${esc(t.holder)}</td>
      <td>${money(t.price)}</td><td>${esc(t.status_label)}${t.used ? " ✓" : ""}</td><td>${t.printed ? T.printed_n.replace("%s", t.printed) : ""}</td></tr>`).join("");
    const pays = o.payments.map((p) => `${esc(p.label)} ${money(p.amount)}`).join(" + ");
    const pending = o.status === "pending";
    return `<div class="order" data-order="${esc(o.code)}"><div class="row"><b>${esc(o.code)}</b> <span>${esc(o.placed_at)}</span>
      <span class="status s-${o.status}">${esc(o.status_label)}</span><span>${money(o.total)}</span>
      ${Number(o.discount) > 0 ? `<span class="meta">−${money(o.discount)}</span>` : ""}
      ${Number(o.refunded) > 0 ? `<span class="meta">${esc(T.refunded)} ${money(o.refunded)}</span>` : ""}<span class="meta">${pays}</span><span class="grow"></span>
      ${pending ? `<button type="button" data-act="collect">${esc(T.pay_due)} ${money(o.due)}</button>` : ""}
      ${o.status === "paid" ? `<button type="button" data-act="print">${esc(T.print)}</button>` : ""}
      ${o.status === "paid" && C.rights.reprint ? `<button type="button" data-act="reprint">${esc(T.reprint)}</button>` : ""}
      ${o.status === "paid" && C.rights.refund ? `<button type="button" data-act="refund">${esc(T.refund_selected)}</button>` : ""}
      ${o.status === "paid" && C.rights.void && where === "recent" && o.shift === C.shift ? `<button type="button" data-act="void">${esc(T.void)}</button>` : ""}
      </div><table class="tickets">${tickets}</table></div>`;
  }
  async function showRecent() {
    open("recent");
    const data = await loadTotals();
    if (!data) return;
    const t = data.totals;
    $("recent-totals").innerHTML = [[T.sales, money(t.sales)], [T.tickets, t.tickets], [T.taken, money(t.taken)], [T.paid_back, money(t.paid_back)], [T.float, money(t.float)], [T.cash_drawer, money(t.cash_expected)]]
      .map((x) => `<div class="big"><span>${esc(x[0])}</span><strong>${esc(x[1])}</strong></div>`).join("");
    $("recent-list").innerHTML = data.orders.map((o) => orderCard(o, "recent")).join("") || `<p class="empty">${esc(T.no_sales)}</p>`;
  }
  async function orderAction(el) {
    const card = el.closest(".order"), code = card.dataset.order, act = el.dataset.act;
    const picked = Array.from(card.querySelectorAll("[data-pick]:checked")).map((c) => Number(c.dataset.pick));
    const reason = $("recent-reason").value.trim() || ($("pickup-reason") ? $("pickup-reason").value.trim() : "");
    try {
      if (act === "collect") {
        const data = await api(orderUrl(code));
        close("recent"); close("pickup"); orderMode(data.order); return;
      }
      if (act === "print") {
        const ok = await printOrder(code, null);
        if (ok) say(T.printed, "ok");
      } else if (act === "reprint") {
        if (!picked.length) { say(T.pick_tickets); return; }
        if (!reason) { say(T.reason_needed); $("recent-reason").focus(); return; }
        const ok = await printOrder(code, picked, reason);
        if (ok) say(T.reprinted, "ok");
      } else if (act === "refund") {
        if (!picked.length) { say(T.pick_tickets); return; }
        const data = await api(orderUrl(code, "refund"), { tickets: picked, reason: reason });
        say(T.refund_done.replace("%s", money(data.refunded)), "ok");
      } else if (act === "void") {
        const data = await api(orderUrl(code, "void"), { reason: reason || "void" });
        say(T.void_done.replace("%s", money(data.refunded)), "ok");
      }
      if (!$("recent").hidden) showRecent(); else findOrder();
    } catch (e) { fail(e); }
  }
  async function findOrder(ev) {
    if (ev) ev.preventDefault();
    const code = $("pickup-code").value.trim();
    if (!code) return;
    try {
      const data = await api(orderUrl(code));
      $("pickup-order").innerHTML = orderCard(data.order, "pickup") +
        `<label>${esc(T.reason_reprint)} <input type="text" id="pickup-reason" maxlength="200"></label>`;
    } catch (e) { $("pickup-order").innerHTML = `<p class="error">${esc(e.message)}</p>`; }
  }

  // --- Dialogs and keys -----------------------------------------------------------------
  function open(id) { $(id).hidden = false; if (id === "pickup") { $("pickup-code").focus(); } }
  function close(id) { $(id).hidden = true; }
  function openDialog() { return ["done", "qr", "pickup", "recent"].find((id) => !$(id).hidden); }
  function typing(el) { return el && (el.tagName === "INPUT" || el.tagName === "SELECT" || el.tagName === "TEXTAREA"); }

  document.addEventListener("keydown", (ev) => {
    const dlg = openDialog();
    const k = ev.key;
    if (k === "Escape") {
      ev.preventDefault();
      if (dlg === "qr") return;
      if (dlg === "done") { close("done"); reset(); return; }
      if (dlg) { close(dlg); return; }
      if (typing(document.activeElement)) { document.activeElement.blur(); return; }
      if (state.method) { state.method = null; $("tender").hidden = true; return; }
      reset(); return;
    }
    const fkeys = { F2: "cash", F3: "card", F4: "qr", F6: "account" };
    if (dlg === "done") { if (k === "Enter") { ev.preventDefault(); close("done"); reset(); } return; }
    if (dlg) return;
    if (fkeys[k]) { ev.preventDefault(); choose(fkeys[k]); return; }
    if (k === "F7") { ev.preventDefault(); open("pickup"); return; }
    if (k === "F8") { ev.preventDefault(); $("disc-percent").focus(); $("disc-percent").select(); return; }
    if (k === "F9") { ev.preventDefault(); showRecent(); return; }
    if (k === "Enter" && state.method && (typing(document.activeElement) || !document.activeElement || document.activeElement === document.body)) {
      if (document.activeElement && document.activeElement.closest && document.activeElement.closest(".basket, .discount")) return;
      ev.preventDefault(); confirm(); return;
    }
    if (typing(document.activeElement) || ev.ctrlKey || ev.metaKey || ev.altKey) return;
    if (/^[0-9]$/.test(k)) {
      const now = Date.now();
      state.digits = (now - state.digitsAt < 1200 ? state.digits : "") + k; state.digitsAt = now;
      setQuantity(parseInt(state.digits, 10)); ev.preventDefault(); return;
    }
    if (k === "+" || k === "=") { const ln = state.basket[state.sel]; if (ln) setQuantity(ln.quantity + 1); return; }
    if (k === "-") { const ln = state.basket[state.sel]; if (ln) setQuantity(ln.quantity - 1); return; }
    if (k === "Delete" || k === "Backspace") { setQuantity(0); ev.preventDefault(); return; }
    if (k === "ArrowUp" || k === "ArrowDown") {
      if (state.basket.length) { state.sel = (state.sel + (k === "ArrowUp" ? -1 : 1) + state.basket.length) % state.basket.length; state.digits = ""; renderBasket(); }
      ev.preventDefault(); return;
    }
    if (k === "ArrowLeft" || k === "ArrowRight") {
      const i = (state.starts || []).indexOf(state.slotStart);
      const n = i + (k === "ArrowLeft" ? -1 : 1);
      if (state.starts && n >= 0 && n < state.starts.length) { state.slotStart = state.starts[n]; loadDay(); }
      ev.preventDefault(); return;
    }
    if (k === "PageUp" || k === "PageDown") {
      const i = C.days.indexOf(state.date) + (k === "PageUp" ? -1 : 1);
      if (i >= 0 && i < C.days.length) { state.date = C.days[i]; loadDay(); }
      ev.preventDefault(); return;
    }
    if (k.length === 1) {
      const p = state.products.find((x) => x.key === k.toUpperCase());
      if (p) { ev.preventDefault(); add(p); }
    }
  });

  document.addEventListener("click", (ev) => {
    const el = ev.target.closest("button, [data-close]");
    if (!el) return;
    if (el.hasAttribute("data-close")) { close(el.closest(".overlay").id); return; }
    if (el.dataset.day) { state.date = el.dataset.day; loadDay(); return; }
    if (el.dataset.start) { state.slotStart = el.dataset.start; loadDay(); return; }
    if (el.dataset.product) { add(product(Number(el.dataset.product))); return; }
    if (el.dataset.inc !== undefined) { state.sel = Number(el.dataset.inc); setQuantity(state.basket[state.sel].quantity + 1); return; }
    if (el.dataset.dec !== undefined) { state.sel = Number(el.dataset.dec); setQuantity(state.basket[state.sel].quantity - 1); return; }
    if (el.dataset.del !== undefined) { state.sel = Number(el.dataset.del); setQuantity(0); return; }
    if (el.dataset.part !== undefined) { state.parts.splice(Number(el.dataset.part), 1); renderParts(); showDue(); return; }
    if (el.dataset.method) { choose(el.dataset.method); return; }
    if (el.dataset.preset !== undefined) {
      const on = el.classList.contains("on");
      document.querySelectorAll(".presets button").forEach((b) => b.classList.remove("on"));
      if (!on) { el.classList.add("on"); $("disc-percent").value = el.dataset.percent; $("disc-reason").value = el.dataset.name; }
      else { $("disc-percent").value = ""; $("disc-reason").value = ""; }
      state.key = newKey(); requote(); return;
    }
    if (el.dataset.act) { orderAction(el); return; }
    if (el.dataset.bindbtn) {
      const id = el.dataset.bindbtn, input = document.querySelector(`[data-bind="${id}"]`);
      api(orderUrl(state.lastOrder.code, "tickets/" + id + "/bind"), { uid: input.value.trim() })
        .then(() => { el.textContent = T.bound; el.disabled = true; }).catch(fail);
      return;
    }
    const actions = { "btn-clear": reset, "btn-confirm": confirm, "btn-part": takePart, "btn-next": () => { close("done"); reset(); },
      "btn-print-again": () => state.lastOrder && printOrder(state.lastOrder.code, null),
      "btn-qr-other": qrOther, "btn-qr-cancel": qrCancel, "btn-pickup": () => open("pickup"), "btn-recent": showRecent };
    if (actions[el.id]) actions[el.id]();
  });
  document.addEventListener("input", (ev) => {
    const el = ev.target;
    if (el.dataset.line !== undefined && el.dataset.v !== undefined) {
      state.basket[Number(el.dataset.line)].visitors[Number(el.dataset.v)][el.dataset.f] = el.value; state.key = newKey(); return;
    }
    if (el.dataset.persons !== undefined) {
      const ln = state.basket[Number(el.dataset.persons)]; ln.persons = parseInt(el.value, 10) || null; state.key = newKey(); requote(); return;
    }
    if (el.id === "disc-percent" || el.id === "disc-reason") { state.key = newKey(); requote(); return; }
    if (el.id === "appr-name" || el.id === "appr-pin") { state.key = newKey(); return; }
    if (el.id === "t-tendered" || el.id === "t-amount") updateChange();
  });
  $("pickup-form").addEventListener("submit", findOrder);
  $("member").addEventListener("change", async () => {
    const q = $("member").value.trim();
    state.member = null; $("member-info").textContent = "";
    if (q) {
      try {
        const m = await api(C.urls.member + "?q=" + encodeURIComponent(q));
        state.member = m.number;
        $("member-info").textContent = [m.name, m.level, T.points.replace("%s", m.points)].filter(Boolean).join(" · ");
        say("");
      } catch (e) { fail(e); }
    }
    state.key = newKey(); requote();
  });

  $("presets").innerHTML = C.presets.map((p) => `<button type="button" data-preset="${p.id}" data-percent="${p.percent}" data-name="${esc(p.name)}">${esc(p.name)} ${Number(p.percent)}%</button>`).join("");
  loadDay(); loadTotals();
})();
