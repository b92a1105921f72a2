/* The ticket template designer (a template designer light) on the TicketTemplate change page.

   The page is drawn at its real proportions (px per mm) with every placed field as an absolutely
   positioned box showing a sample ticket's value; a field is added from the list, dragged with
   the pointer or moved with the arrow keys (Shift: 5 mm), resized by its right edge, and changed
   in the inspector. Every change is written into the form's "layout" field as JSON, which the
   server checks again on save. Coordinates are millimetres from the page's top left corner and
   snap to 0.5 mm; type sizes are points, as the PDF renderer reads them. */
function startDesigner() {
  "use strict";

  const configNode = document.getElementById("designer-config");
  const root = document.getElementById("designer");
  if (!configNode || !root) return;
  const cfg = JSON.parse(configNode.textContent);
  const words = cfg.words;
  const readonly = !!cfg.readonly;
  const textarea = document.getElementById("id_layout");
  const paperSelect = document.getElementById("id_paper");
  const pageNode = root.querySelector(".designer-page");
  const paperName = root.querySelector(".designer-paper-name");
  const warning = root.querySelector(".designer-warning");
  const inspector = root.querySelector(".designer-inspector");
  const previewBox = document.querySelector(".designer-preview");
  const kinds = {};
  cfg.fields.forEach((f) => { kinds[f.field] = f; });

  const STEP = 0.5; // mm
  const PT = 25.4 / 72; // mm per point
  let layout = [];
  let selected = -1;

  // --- The layout and the form ------------------------------------------------------------

  function paper() {
    return paperSelect ? paperSelect.value : cfg.paper;
  }
  function page() {
    return cfg.papers[paper()] || cfg.papers["80mm"];
  }
  function scale() {
    return paper() === "a4" ? 2.4 : 3.6; // px per mm: a roll is narrow, a sheet wide
  }
  function snap(v) {
    return Math.round(v / STEP) * STEP;
  }
  function clamp(v, lo, hi) {
    return Math.min(Math.max(v, lo), Math.max(lo, hi));
  }

  function read() {
    if (!textarea) return Array.isArray(cfg.layout) ? cfg.layout : [];
    try {
      const value = JSON.parse(textarea.value || "[]");
      return Array.isArray(value) ? value : null;
    } catch (e) {
      return null;
    }
  }

  function write() {
    if (!textarea || readonly) return;
    textarea.value = "[\n" + layout.map((item) => "  " + JSON.stringify(item)).join(",\n") + "\n]";
  }

  // --- Drawing ----------------------------------------------------------------------------

  function kindOf(item) {
    return kinds[item.field] ? kinds[item.field].kind : "text";
  }

  function heightOf(item) {
    const kind = kindOf(item);
    if (kind === "qr") return item.width;
    if (kind === "barcode") return item.height || 12;
    if (kind === "logo") return item.width * (cfg.logo ? cfg.logo_ratio : 1);
    return null; // text: as tall as its lines
  }

  function bottomOf(item) {
    const h = heightOf(item);
    return item.y + (h === null ? (item.size || 10) * PT * 1.3 : h); // text: one line
  }

  function textOf(item) {
    if (item.field === "text") return item.text || "";
    const value = cfg.sample[item.field] || "";
    if (item.label && value) return kinds[item.field].label + ": " + value;
    return value;
  }

  function place(node, item) {
    const s = scale();
    node.style.left = item.x * s + "px";
    node.style.top = item.y * s + "px";
    node.style.width = item.width * s + "px";
    const h = heightOf(item);
    node.style.height = h === null ? "auto" : h * s + "px";
  }

  function drawItem(item, index) {
    const kind = kindOf(item);
    const node = document.createElement("div");
    node.className = "designer-item kind-" + kind + (index === selected ? " selected" : "");
    node.dataset.index = String(index);
    node.dataset.field = item.field;
    node.tabIndex = 0;
    node.title = kinds[item.field] ? kinds[item.field].label : item.field;
    node.setAttribute("aria-label", node.title);
    if (kind === "qr") {
      const img = document.createElement("img");
      img.src = cfg.qr;
      img.alt = "";
      node.appendChild(img);
    } else if (kind === "barcode") {
      const bars = document.createElement("div");
      bars.className = "bars";
      node.appendChild(bars);
    } else if (kind === "logo") {
      if (cfg.logo) {
        const img = document.createElement("img");
        img.src = cfg.logo;
        img.alt = "";
        node.appendChild(img);
      } else {
        const ph = document.createElement("div");
        ph.className = "placeholder";
        ph.textContent = kinds.logo.label;
        node.appendChild(ph);
      }
    } else {
      const text = textOf(item);
      node.appendChild(document.createTextNode(text || "⟨" + node.title + "⟩"));
      if (!text) node.classList.add("empty");
      node.style.fontSize = (item.size || 10) * PT * scale() + "px";
      node.style.fontWeight = item.bold ? "bold" : "normal";
      node.style.textAlign = item.align || "left";
    }
    if (!readonly) {
      const handle = document.createElement("span");
      handle.className = "designer-handle";
      handle.setAttribute("aria-hidden", "true");
      node.appendChild(handle);
    }
    place(node, item);
    return node;
  }

  function draw() {
    const p = page();
    const s = scale();
    pageNode.textContent = "";
    let lowest = 0;
    let outside = false;
    layout.forEach((item, i) => {
      const node = drawItem(item, i);
      pageNode.appendChild(node);
      const bottom = bottomOf(item);
      lowest = Math.max(lowest, bottom);
      if (item.x < 0 || item.y < 0 || item.x + item.width > p.width + 0.01) outside = true;
      if (p.height && bottom > p.height + 0.01) outside = true;
    });
    const height = p.height || Math.min(Math.max(lowest + 25, 120), cfg.roll_max);
    pageNode.style.width = p.width * s + "px";
    pageNode.style.height = height * s + "px";
    paperName.textContent =
      paperSelect && paperSelect.selectedOptions.length
        ? paperSelect.selectedOptions[0].textContent + " · " + p.width + " × " +
          (p.height || Math.round(lowest + 5)) + " mm"
        : "";
    warning.hidden = !outside;
    warning.textContent = outside ? words.outside : "";
  }

  function nodeOf(index) {
    return pageNode.querySelector('.designer-item[data-index="' + index + '"]');
  }

  // --- Changing fields --------------------------------------------------------------------

  function changed(redrawInspector) {
    write();
    draw();
    if (redrawInspector) inspect();
  }

  function select(index, focus) {
    selected = index;
    pageNode.querySelectorAll(".designer-item").forEach((n) => {
      n.classList.toggle("selected", Number(n.dataset.index) === index);
    });
    inspect();
    if (focus && index >= 0) {
      const node = nodeOf(index);
      if (node) node.focus();
    }
  }

  function move(index, dx, dy) {
    const item = layout[index];
    const p = page();
    const h = heightOf(item) || 0;
    item.x = clamp(snap(item.x + dx), 0, p.width - item.width);
    item.y = clamp(snap(item.y + dy), 0, (p.height || cfg.roll_max) - h);
  }

  function lowestBottom() {
    return layout.reduce((low, item) => Math.max(low, bottomOf(item)), 0);
  }

  function add(field) {
    const p = page();
    const kind = kinds[field].kind;
    const margin = paper() === "a4" ? 15 : 4;
    const full = p.width - 2 * margin;
    const item = { field: field, x: margin, y: 0, width: full, size: 10, bold: false };
    if (kind === "qr") item.width = Math.min(40, full);
    if (kind === "barcode") { item.width = Math.min(50, full); item.height = 12; }
    if (kind === "logo") item.width = 16;
    if (field === "text") item.text = words.custom;
    const h = heightOf(item) || 10 * PT * 1.3;
    const limit = (p.height || cfg.roll_max) - h;
    item.y = clamp(snap(lowestBottom() + 2), 0, limit);
    layout.push(item);
    selected = layout.length - 1;
    changed(false);
    select(selected, true);
  }

  function remove(index) {
    layout.splice(index, 1);
    selected = -1;
    changed(true);
  }

  // --- The inspector ----------------------------------------------------------------------

  function input(labelText, attrs, onChange) {
    const label = document.createElement("label");
    const control = document.createElement(attrs.tag || "input");
    Object.keys(attrs).forEach((k) => {
      if (k !== "tag" && k !== "options" && k !== "checked" && k !== "value") {
        control.setAttribute(k, attrs[k]);
      }
    });
    if (attrs.options) {
      attrs.options.forEach(([value, text]) => {
        const o = document.createElement("option");
        o.value = value;
        o.textContent = text;
        control.appendChild(o);
      });
    }
    if (attrs.type === "checkbox") {
      control.checked = !!attrs.checked;
      label.appendChild(control);
      label.appendChild(document.createTextNode(labelText));
    } else {
      control.value = attrs.value === undefined ? "" : attrs.value;
      label.appendChild(document.createTextNode(labelText));
      label.appendChild(control);
    }
    control.disabled = readonly;
    control.addEventListener(attrs.type === "checkbox" || attrs.tag === "select" ? "change" : "input", () =>
      onChange(control)
    );
    inspector.appendChild(label);
    return control;
  }

  function inspect() {
    inspector.textContent = "";
    const item = layout[selected];
    if (!item) {
      const hint = document.createElement("p");
      hint.className = "hint";
      hint.textContent = words.none;
      inspector.appendChild(hint);
      return;
    }
    const kind = kindOf(item);
    const title = document.createElement("div");
    title.className = "title";
    title.textContent = kinds[item.field] ? kinds[item.field].label : item.field;
    inspector.appendChild(title);
    const number = (key, min, step) =>
      input(words[key], { type: "number", step: step || "0.5", min: min, value: item[key], name: "designer-" + key }, (c) => {
        const v = parseFloat(c.value);
        if (!Number.isFinite(v)) return;
        item[key] = v;
        changed(false);
      });
    number("x", "0");
    number("y", "0");
    number("width", String(kinds[item.field] ? kinds[item.field].min_width : 1));
    if (kind === "barcode") number("height", "5");
    if (kind === "text") {
      number("size", "4", "0.5");
      input(words.bold, { type: "checkbox", checked: item.bold, name: "designer-bold" }, (c) => {
        item.bold = c.checked;
        changed(false);
      });
      if (item.field !== "text") {
        input(words.label, { type: "checkbox", checked: item.label, name: "designer-label" }, (c) => {
          if (c.checked) item.label = true;
          else delete item.label;
          changed(false);
        });
      } else {
        input(words.text, { type: "text", value: item.text || "", maxlength: "300", name: "designer-text" }, (c) => {
          item.text = c.value;
          changed(false);
        });
      }
      input(
        words.align,
        {
          tag: "select",
          name: "designer-align",
          options: [["left", words.left], ["center", words.center], ["right", words.right]],
          value: item.align || "left",
        },
        (c) => {
          if (c.value === "left") delete item.align;
          else item.align = c.value;
          changed(false);
        }
      );
    }
    if (!readonly) {
      const button = document.createElement("button");
      button.type = "button";
      button.className = "remove";
      button.textContent = words.remove;
      button.addEventListener("click", () => remove(selected));
      inspector.appendChild(button);
    }
  }

  // --- Pointer and keys -------------------------------------------------------------------

  let drag = null;

  pageNode.addEventListener("pointerdown", (event) => {
    const node = event.target.closest(".designer-item");
    if (!node) {
      select(-1, false);
      return;
    }
    const index = Number(node.dataset.index);
    select(index, false);
    node.focus({ preventScroll: true });
    if (readonly) return;
    const item = layout[index];
    drag = {
      index: index,
      node: node,
      resize: event.target.classList.contains("designer-handle"),
      startX: event.clientX,
      startY: event.clientY,
      x: item.x,
      y: item.y,
      width: item.width,
      pointer: event.pointerId,
    };
    node.setPointerCapture(event.pointerId);
    event.preventDefault();
  });

  pageNode.addEventListener("pointermove", (event) => {
    if (!drag || event.pointerId !== drag.pointer) return;
    const item = layout[drag.index];
    const s = scale();
    const dx = (event.clientX - drag.startX) / s;
    const dy = (event.clientY - drag.startY) / s;
    const p = page();
    if (drag.resize) {
      const min = kinds[item.field] ? kinds[item.field].min_width : 1;
      item.width = clamp(snap(drag.width + dx), min, p.width - item.x);
    } else {
      item.x = drag.x;
      item.y = drag.y;
      move(drag.index, dx, dy);
    }
    place(drag.node, item);
  });

  function endDrag(event) {
    if (!drag || event.pointerId !== drag.pointer) return;
    const index = drag.index;
    drag = null;
    changed(false);
    select(index, true);
  }
  pageNode.addEventListener("pointerup", endDrag);
  pageNode.addEventListener("pointercancel", endDrag);

  pageNode.addEventListener("keydown", (event) => {
    const node = event.target.closest(".designer-item");
    if (!node || readonly) return;
    const index = Number(node.dataset.index);
    const step = event.shiftKey ? 5 : STEP;
    const moves = { ArrowLeft: [-step, 0], ArrowRight: [step, 0], ArrowUp: [0, -step], ArrowDown: [0, step] };
    if (moves[event.key]) {
      event.preventDefault();
      move(index, moves[event.key][0], moves[event.key][1]);
      selected = index;
      changed(false);
      select(index, true);
    } else if (event.key === "Delete" || event.key === "Backspace") {
      event.preventDefault();
      remove(index);
    }
  });

  // --- The rest of the page ---------------------------------------------------------------

  root.querySelectorAll(".designer-add").forEach((button) => {
    button.addEventListener("click", () => add(button.dataset.field));
  });

  const starter = root.querySelector(".designer-starter");
  if (starter) {
    starter.addEventListener("click", () => {
      layout = JSON.parse(JSON.stringify(cfg.starters[paper()] || []));
      selected = -1;
      changed(true);
    });
  }

  if (paperSelect) paperSelect.addEventListener("change", () => draw());

  if (textarea) {
    textarea.addEventListener("input", () => {
      const value = read();
      if (value === null) {
        warning.hidden = false;
        warning.textContent = words.bad_json;
        return;
      }
      layout = value;
      selected = -1;
      draw();
      inspect();
    });
  }

  const previewButton = root.querySelector(".designer-preview-button");
  if (previewButton && previewBox) {
    const frame = previewBox.querySelector("iframe");
    const error = previewBox.querySelector(".designer-preview-error");
    previewButton.addEventListener("click", () => {
      const site = document.getElementById("id_site");
      const terms = document.getElementById("id_terms");
      const params = new URLSearchParams({
        layout: JSON.stringify(layout),
        paper: paper(),
        site: site ? site.value : "",
        terms: terms ? terms.value : "",
        template: cfg.template || "",
      });
      const url = cfg.preview_url + "?" + params.toString();
      previewBox.hidden = false;
      fetch(url, { credentials: "same-origin" }).then((response) => {
        if (response.ok) {
          error.hidden = true;
          frame.hidden = false;
          frame.src = url;
        } else {
          response.text().then((text) => {
            error.textContent = text;
            error.hidden = false;
            frame.hidden = true;
          });
        }
      });
    });
  }

  const first = read();
  if (first === null) {
    layout = [];
    warning.hidden = false;
    warning.textContent = words.bad_json;
  } else {
    layout = first;
  }
  draw();
  inspect();
}

if (document.readyState === "loading") {
  document.addEventListener("DOMContentLoaded", startDesigner);
} else {
  startDesigner();
}
