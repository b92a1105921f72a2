/* The self-service kiosk's touch screen (自助售取票机).
 *
 * One page, several screens. Every figure comes from the server (/kiosk/api/...); the page
 * only keeps what the visitor chose. Without a touch for IDLE seconds the screen goes back
 * to the start (an unpaid order is cancelled on the way), except while waiting for a
 * payment, which ends with the order's hold.
 */
(function () {
  "use strict";

  var T = JSON.parse(document.getElementById("kiosk-text").textContent);
  var body = document.body;
  var LANG = body.dataset.lang || "zh-hans";
  var IDLE = parseInt(body.dataset.idle || "60", 10) * 1000;
  var API = "/kiosk/api/";

  var state = {};
  var idleTimer = null;
  var pollTimer = null;
  var countdownTimer = null;

  function $(id) { return document.getElementById(id); }

  function fmt(text, values) {
    return text.replace(/%\((\w+)\)s/g, function (_m, key) { return values[key]; });
  }

  function money(value) { return "¥" + Number(value).toFixed(2); }

  function el(tag, attrs, children) {
    var node = document.createElement(tag);
    Object.keys(attrs || {}).forEach(function (key) {
      if (attrs[key] === null || attrs[key] === undefined) return;
      if (key === "text") node.textContent = attrs[key];
      else if (key === "className") node.className = attrs[key];
      else if (key.slice(0, 2) === "on") node.addEventListener(key.slice(2), attrs[key]);
      else node.setAttribute(key, attrs[key]);
    });
    (children || []).forEach(function (child) { if (child) node.appendChild(child); });
    return node;
  }

  function csrf() {
    var match = document.cookie.match(/(?:^|;\s*)csrftoken=([^;]+)/);
    if (match) return decodeURIComponent(match[1]);
    var field = document.querySelector("input[name=csrfmiddlewaretoken]");
    return field ? field.value : "";
  }

  /* A call to the kiosk's server: resolves with the JSON body (or a Blob for PDFs); a refusal
   * rejects with the server's error ({code, message}). An answer that arrives after the kiosk
   * went back to its start screen (the visitor left) is dropped: it belongs to nobody on
   * screen, and an order it created is cancelled. */
  var visit = 0;
  function call(method, path, data) {
    var mine = visit;
    return send(method, path, data).then(function (result) {
      if (mine === visit) return result;
      if (method === "POST" && path === "orders" && result && result.token && !(result.order && result.order.status === "paid")) {
        send("POST", "orders/cancel", { token: result.token }).catch(function () {});
      }
      return new Promise(function () {});
    }, function (error) {
      if (mine === visit) throw error;
      return new Promise(function () {});
    });
  }

  function send(method, path, data) {
    var options = { method: method, credentials: "same-origin", headers: { "X-CSRFToken": csrf() } };
    if (data !== undefined) {
      options.headers["Content-Type"] = "application/json";
      options.body = JSON.stringify(data);
    }
    return fetch(API + path, options).then(function (response) {
      var type = response.headers.get("Content-Type") || "";
      if (response.ok && type.indexOf("application/pdf") === 0) return response.blob();
      return response.json().then(function (json) {
        if (!response.ok) throw (json && json.error) || { code: "error", message: T.network };
        return json;
      }, function () { throw { code: "error", message: T.network }; });
    }, function () { throw { code: "network", message: T.network }; });
  }

  /* --- Screens, messages, the idle timer ------------------------------------------------ */

  function show(name) {
    document.querySelectorAll(".screen").forEach(function (s) {
      s.hidden = s.dataset.screen !== name;
    });
    state.screen = name;
    body.dataset.screen = name;
    window.scrollTo(0, 0);
    touch();
  }

  function say(error, kind) {
    var box = $("message");
    box.textContent = error.message || String(error);
    box.dataset.code = error.code || "";
    box.className = "message " + (kind || "error");
    box.hidden = false;
  }

  function quiet() { $("message").hidden = true; $("message").dataset.code = ""; }

  function touch() {
    clearTimeout(idleTimer);
    if (state.screen === "start" || state.screen === "pay" || state.screen === "printing") return;
    idleTimer = setTimeout(function () { restart(); }, IDLE);
  }

  function restart(message) {
    visit += 1;  // answers still on their way belong to the visitor who left
    $("pay-start").disabled = false;  // a Pay whose answer is dropped must not stay pressed
    stopPolling();
    if (state.token && state.pending) {
      call("POST", "orders/cancel", { token: state.token }).catch(function () {});
    }
    closePad();
    clearPrint();
    state = {};
    show("start");
    if (message) say(message, "info"); else quiet();
  }

  ["pointerdown", "keydown", "touchstart"].forEach(function (type) {
    document.addEventListener(type, touch, { passive: true });
  });

  document.querySelectorAll("[data-go]").forEach(function (button) {
    button.addEventListener("click", function () {
      quiet();
      if (button.dataset.go === "start") restart(); else show(button.dataset.go);
    });
  });

  /* --- The on-screen keypad -------------------------------------------------------------- */

  var LAYOUTS = {
    digits: "123456789 0".split(""),
    id: "123456789X0".split(""),
    code: "0123456789ABCDEFGHJKMNPQRSTVWXYZ".split(""),
    letters: "ABCDEFGHIJKLMNOPQRSTUVWXYZ ·".split("")
  };
  var pad = null;

  function openPad(options) {
    pad = { value: options.value || "", max: options.max || 40, done: options.done };
    $("pad-title").textContent = options.title;
    var keys = $("pad-keys");
    keys.innerHTML = "";
    keys.className = "pad-keys " + options.layout;
    LAYOUTS[options.layout].forEach(function (key) {
      if (key === " " && options.layout !== "letters") {
        keys.appendChild(el("span", { className: "gap" }));
        return;
      }
      keys.appendChild(el("button", {
        type: "button", className: "key", "data-key": key, text: key === " " ? "␣" : key,
        onclick: function () { if (pad.value.length < pad.max) { pad.value += key; drawPad(); } }
      }));
    });
    keys.appendChild(el("button", {
      type: "button", className: "key wide", "data-key": "back", text: "⌫",
      onclick: function () { pad.value = pad.value.slice(0, -1); drawPad(); }
    }));
    drawPad();
    $("pad").hidden = false;
  }

  function drawPad() { $("pad-value").textContent = pad.value || " "; }

  function closePad() { $("pad").hidden = true; pad = null; }

  $("pad-clear").addEventListener("click", function () { pad.value = ""; drawPad(); });
  $("pad-cancel").addEventListener("click", closePad);
  $("pad-ok").addEventListener("click", function () {
    var done = pad.done, value = pad.value.trim();
    closePad();
    done(value);
  });

  /* --- Buying ---------------------------------------------------------------------------- */

  $("go-buy").addEventListener("click", function () {
    quiet();
    state = { cart: {}, slots: {}, visitors: {}, phone: "" };
    call("GET", "days").then(function (data) {
      var box = $("days");
      box.innerHTML = "";
      data.days.forEach(function (day, i) {
        var date = new Date(day.date + "T12:00:00");
        var label = i === 0 ? T.today : i === 1 ? T.tomorrow
          : date.toLocaleDateString(LANG === "en" ? "en-GB" : "zh-CN", { weekday: "long" });
        var shown = date.toLocaleDateString(LANG === "en" ? "en-GB" : "zh-CN", { month: "long", day: "numeric" });
        box.appendChild(el("button", {
          type: "button", className: "day" + (day.closed ? " closed" : ""), "data-date": day.date,
          onclick: function () { chooseDay(day.date, shown + " · " + label); }
        }, [el("strong", { text: shown }), el("span", { text: day.closed ? T.closed : label })]));
        if (day.closed) box.lastChild.disabled = true;
      });
      show("date");
    }, say);
  });

  function chooseDay(date, label) {
    quiet();
    state.date = date;
    state.cart = {};
    state.slots = {};
    call("GET", "offer?date=" + encodeURIComponent(date)).then(function (data) {
      state.products = data.products;
      $("tickets-day").textContent = label;
      drawProducts();
      show("tickets");
    }, say);
  }

  function dayLeft(product) {
    var known = product.slots.filter(function (s) { return s.remaining !== null; });
    if (!known.length) return null;
    return known.reduce(function (sum, s) { return sum + s.remaining; }, 0);
  }

  function drawProducts() {
    var box = $("products");
    box.innerHTML = "";
    if (!state.products.length) box.appendChild(el("p", { className: "lead", text: T.nothing_today }));
    state.products.forEach(function (p) {
      var left = dayLeft(p);
      var qty = state.cart[p.id] || 0;
      var notes = [];
      if (p.persons > 1) notes.push(fmt(T.persons, { n: p.persons }));
      if (p.real_name) notes.push(T.real_name);
      if (left !== null) notes.push(left > 0 ? fmt(T.left, { n: left }) : T.sold_out);
      box.appendChild(el("div", { className: "product", "data-product": p.id }, [
        el("div", { className: "what" }, [
          el("strong", { text: p.name }),
          el("span", { className: "notes", text: notes.join(" · ") })
        ]),
        el("div", { className: "price", text: money(p.price) }),
        el("div", { className: "qty" }, [
          el("button", { type: "button", className: "minus", "aria-label": "-", text: "−",
            onclick: function () { setQty(p, qty - 1); } }),
          el("output", { className: "count", text: String(qty) }),
          el("button", { type: "button", className: "plus", "aria-label": "+", text: "+",
            onclick: function () { setQty(p, qty + 1); } })
        ])
      ]));
    });
    var total = 0, count = 0;
    state.products.forEach(function (p) {
      total += (state.cart[p.id] || 0) * Number(p.price);
      count += state.cart[p.id] || 0;
    });
    $("tickets-total").textContent = money(total);
    $("tickets-next").disabled = count === 0;
  }

  function setQty(product, qty) {
    if (qty < 0 || qty > 20) return;
    if (qty) state.cart[product.id] = qty; else delete state.cart[product.id];
    drawProducts();
  }

  function chosen() {
    return state.products.filter(function (p) { return state.cart[p.id]; });
  }

  /* Products whose slots are the same pools share one choice ("entry time"). */
  function slotGroups() {
    var groups = {};
    chosen().forEach(function (p) {
      var key = p.slots.map(function (s) { return s.slot; }).join(",");
      if (!groups[key]) groups[key] = { key: key, slots: p.slots, products: [], persons: 0 };
      groups[key].products.push(p);
      groups[key].persons += state.cart[p.id] * p.persons;
    });
    return Object.keys(groups).map(function (k) { return groups[k]; });
  }

  $("tickets-next").addEventListener("click", function () {
    quiet();
    var groups = slotGroups();
    state.slots = {};
    var ask = groups.filter(function (g) { return g.slots.length > 1; });
    state.slotsAsked = ask.length > 0;
    groups.forEach(function (g) {
      if (g.slots.length === 1) g.products.forEach(function (p) { state.slots[p.id] = g.slots[0].slot; });
    });
    if (!ask.length) return afterSlots();
    var box = $("slot-groups");
    box.innerHTML = "";
    ask.forEach(function (g) {
      var row = el("div", { className: "grid slots", "data-group": g.key });
      g.slots.forEach(function (s) {
        var enough = s.remaining === null || s.remaining >= g.persons;
        var label = s.start ? s.start + "–" + s.end : T.whole_day;
        row.appendChild(el("button", {
          type: "button", className: "slot", "data-slot": s.slot, "data-start": s.start || "",
          onclick: function () {
            if (!enough) return;
            g.products.forEach(function (p) { state.slots[p.id] = s.slot; });
            row.querySelectorAll(".slot").forEach(function (b) { b.classList.remove("chosen"); });
            this.classList.add("chosen");
            $("slot-next").disabled = !allChosen();
          }
        }, [el("strong", { text: label }),
            el("span", { text: s.remaining === null ? "" : (s.remaining > 0 ? fmt(T.left, { n: s.remaining }) : T.sold_out) })]));
        if (!enough) row.lastChild.setAttribute("disabled", "disabled");
      });
      box.appendChild(el("h2", { text: g.products.map(function (p) { return p.name; }).join(" · ") }));
      box.appendChild(row);
    });
    $("slot-next").disabled = true;
    show("slot");
  });

  function allChosen() {
    return chosen().every(function (p) { return p.id in state.slots; });
  }

  $("slot-next").addEventListener("click", function () { quiet(); afterSlots(); });

  function named() {
    var out = [];
    chosen().forEach(function (p) {
      if (!p.real_name) return;
      for (var i = 0; i < state.cart[p.id] * p.persons; i++) out.push({ product: p, index: i });
    });
    return out;
  }

  function afterSlots() {
    if (named().length) { drawVisitors(); show("visitors"); } else { drawReview(); show("review"); }
  }

  function drawVisitors() {
    var box = $("visitor-list");
    box.innerHTML = "";
    named().forEach(function (v, n) {
      var key = v.product.id + ":" + v.index;
      var data = state.visitors[key] || (state.visitors[key] = { name: "", id_number: "" });
      var nameButton = el("button", { type: "button", className: "input", "data-field": "name", text: data.name || "—",
        onclick: function () {
          openPad({ title: T.enter_name, layout: "letters", value: data.name, max: 40,
            done: function (value) { data.name = value; drawVisitors(); } });
        } });
      var idButton = el("button", { type: "button", className: "input", "data-field": "id_number", text: data.id_number || "—",
        onclick: function () {
          openPad({ title: T.enter_id, layout: "id", value: data.id_number, max: 18,
            done: function (value) { data.id_number = value; drawVisitors(); } });
        } });
      box.appendChild(el("div", { className: "visitor", "data-visitor": n }, [
        el("h2", { text: fmt(T.visitor, { n: n + 1 }) + " · " + v.product.name }),
        el("label", {}, [el("span", { text: T.name }), nameButton]),
        el("label", {}, [el("span", { text: T.id_number }), idButton])
      ]));
    });
    $("visitors-next").disabled = !named().every(function (v) {
      var d = state.visitors[v.product.id + ":" + v.index];
      return d.name && d.id_number.length === 18;
    });
  }

  $("visitors-back").addEventListener("click", function () { quiet(); show(state.slotsAsked ? "slot" : "tickets"); });
  $("visitors-next").addEventListener("click", function () { quiet(); drawReview(); show("review"); });
  $("review-back").addEventListener("click", function () {
    quiet();
    show(named().length ? "visitors" : state.slotsAsked ? "slot" : "tickets");
  });

  function drawReview() {
    var box = $("review-lines");
    box.innerHTML = "";
    var total = 0;
    chosen().forEach(function (p) {
      var qty = state.cart[p.id];
      total += qty * Number(p.price);
      var slot = p.slots.filter(function (s) { return s.slot === state.slots[p.id]; })[0];
      box.appendChild(el("tr", {}, [
        el("th", { text: p.name + (slot && slot.start ? " · " + slot.start + "–" + slot.end : "") }),
        el("td", { text: qty + " × " + money(p.price) }),
        el("td", { text: money(qty * Number(p.price)) })
      ]));
    });
    $("review-total").textContent = money(total);
    $("phone").textContent = state.phone || "—";
  }

  $("phone").addEventListener("click", function () {
    openPad({ title: T.enter_phone, layout: "digits", value: state.phone, max: 15,
      done: function (value) { state.phone = value; $("phone").textContent = value || "—"; } });
  });

  $("pay-start").addEventListener("click", function () {
    quiet();
    var button = this;
    button.disabled = true;
    var lines = chosen().map(function (p) {
      var visitors = [];
      if (p.real_name) {
        for (var i = 0; i < state.cart[p.id] * p.persons; i++) visitors.push(state.visitors[p.id + ":" + i]);
      }
      return { product: p.id, quantity: state.cart[p.id], slot: state.slots[p.id], visitors: visitors };
    });
    call("POST", "orders", { date: state.date, lines: lines, phone: state.phone }).then(function (data) {
      button.disabled = false;
      state.token = data.token;
      state.order = data.order;
      if (data.order.status === "paid") return printSale();
      state.pending = true;
      $("pay-amount").textContent = money(data.order.total);
      $("pay-order").textContent = data.order.code;
      var qr = $("pay-qr");
      qr.innerHTML = data.qr_svg;
      qr.dataset.payUrl = data.pay_url;
      show("pay");
      startPolling(data.order.expires_at);
    }, function (error) { button.disabled = false; say(error); });
  });

  function startPolling(expiresAt) {
    stopPolling();
    var end = new Date(expiresAt).getTime();
    function tick() {
      var left = Math.max(0, Math.round((end - Date.now()) / 1000));
      $("pay-countdown").textContent = Math.floor(left / 60) + ":" + ("0" + (left % 60)).slice(-2);
    }
    tick();
    countdownTimer = setInterval(tick, 1000);
    pollTimer = setInterval(poll, 2000);
  }

  function stopPolling() {
    clearInterval(pollTimer);
    clearInterval(countdownTimer);
    pollTimer = countdownTimer = null;
  }

  function poll() {
    if (!state.token || state.polling) return;
    state.polling = true;
    call("GET", "orders/status?token=" + encodeURIComponent(state.token)).then(function (data) {
      state.polling = false;
      var status = data.order.status;
      if (status === "paid") { state.pending = false; stopPolling(); printSale(); }
      else if (status === "expired") { state.pending = false; restart({ code: "expired", message: T.time_up }); }
      else if (status === "cancelled") { state.pending = false; restart({ code: "cancelled", message: T.cancelled }); }
    }, function () { state.polling = false; });
  }

  $("pay-cancel").addEventListener("click", function () {
    stopPolling();
    call("POST", "orders/cancel", { token: state.token }).then(function (data) {
      state.pending = false;
      if (data.order.status === "paid") printSale();
      else restart({ code: "cancelled", message: T.cancelled });
    }, function (error) { say(error); });
  });

  function printSale() {
    printPdf(call("POST", "orders/print", { token: state.token }), state.order.code);
  }

  /* The browser's print of the frame (a kiosk browser runs with silent printing, e.g.
   * Chromium's --kiosk-printing). A kiosk with its own printer bridge, or a test, replaces it
   * by defining window.admitKioskPrint(frame) before this script runs. */
  function sendToPrinter(frame) {
    if (typeof window.admitKioskPrint === "function") return window.admitKioskPrint(frame);
    try { frame.contentWindow.focus(); frame.contentWindow.print(); } catch (e) { /* printed by the viewer */ }
  }

  /* The printed tickets leave the screen with the visitor. */
  function clearPrint() {
    var frame = $("print-frame");
    frame.onload = null;
    if (frame.getAttribute("src")) frame.removeAttribute("src");
    if (state.pdfUrl) URL.revokeObjectURL(state.pdfUrl);
  }

  /* The tickets' PDF goes into the frame on the "take your tickets" screen, which prints it. */
  function printPdf(request, orderCode) {
    show("printing");
    request.then(function (blob) {
      var frame = $("print-frame");
      if (state.pdfUrl) URL.revokeObjectURL(state.pdfUrl);
      state.pdfUrl = URL.createObjectURL(blob);
      frame.onload = function () { sendToPrinter(frame); };
      frame.src = state.pdfUrl;
      $("done-order").textContent = orderCode ? fmt(T.order, { code: orderCode }) : "";
      show("done");
      if (state.note) say(state.note, "info");
    }, function (error) {
      say(error.code ? error : { code: "print_failed", message: T.print_failed });
      show("start");
    });
  }

  /* --- Picking up ----------------------------------------------------------------------- */

  $("go-pickup").addEventListener("click", function () { quiet(); state = {}; show("pickup"); });

  function lookup(data) {
    quiet();
    call("POST", "pickup", data).then(function (found) {
      state.grant = found.grant;
      var box = $("found-list");
      box.innerHTML = "";
      found.tickets.forEach(function (t) {
        var when = (t.date || "") + (t.start ? " " + t.start + "–" + t.end : "");
        box.appendChild(el("div", { className: "ticket", "data-serial": t.serial }, [
          el("strong", { text: t.product }),
          el("span", { text: when }),
          el("span", { text: (t.persons > 1 ? fmt(T.persons, { n: t.persons }) + " · " : "") + (t.holder || "") }),
          el("span", { className: "meta", text: t.serial })
        ]));
      });
      var note = $("found-printed");
      state.note = found.printed_before ? { code: "printed_before", message: fmt(T.printed_before, { n: found.printed_before }) } : null;
      note.hidden = !found.printed_before;
      note.textContent = state.note ? state.note.message : "";
      show("found");
    }, say);
  }

  $("by-code").addEventListener("click", function () {
    openPad({ title: T.enter_code, layout: "code", max: 16,
      done: function (value) { if (value) lookup({ by: "code", value: value }); } });
  });
  $("by-id").addEventListener("click", function () {
    openPad({ title: T.enter_id, layout: "id", max: 18,
      done: function (value) { if (value) lookup({ by: "id", value: value }); } });
  });
  $("by-phone").addEventListener("click", function () {
    openPad({ title: T.enter_phone, layout: "digits", max: 15, done: function (phone) {
      if (!phone) return;
      openPad({ title: T.enter_last4, layout: "code", max: 4, done: function (last4) {
        lookup({ by: "phone", value: phone, last4: last4 });
      } });
    } });
  });

  $("found-print").addEventListener("click", function () {
    quiet();
    printPdf(call("POST", "pickup/print", { grant: state.grant }), "");
  });

  show("start");
})();
