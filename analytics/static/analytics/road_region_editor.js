// Road region editor on the camera's admin page: the camera's latest stored frame with a
// canvas over it. Click to add points, click the first point (or "Close polygon") to close
// the polygon, drag a point to move it; Undo, Clear and "Use detected region". Every change
// is written into the operator_polygon field as fractions of the frame rounded to 4 decimals,
// so the admin's own Save posts it and the field's validation on the server has the last word.
// The same editor draws a camera's privacy masks (data-kind="mask"): no detected region, its
// own words, and one editor per mask row, including rows added with "Add another".
(function () {
  "use strict";

  const HIT_RADIUS = 10; // CSS pixels around a point that pick it up
  const DRAG_START = 3; // CSS pixels a press must travel before it moves a point
  const HISTORY = 200;
  const LINE = "#ffd400";
  const FIRST = "#ff4d4d";
  const FILL = "rgba(0, 200, 0, 0.25)";
  const GUIDE = "rgba(255, 255, 255, 0.85)";

  // The detected polygon as the road boundary block last reported it (road_boundary.js).
  let reportedDetected = null;
  const listeners = [];

  function fraction(value) {
    return Math.round(Math.min(1, Math.max(0, value)) * 10000) / 10000;
  }

  function rounded(points) {
    return points.map(function (p) { return [fraction(p[0]), fraction(p[1])]; });
  }

  // A list of [x, y] fractions, or null when the text holds anything else.
  function parsePolygon(text) {
    let value;
    try {
      value = JSON.parse(String(text).trim() || "[]");
    } catch (error) {
      return null;
    }
    if (!Array.isArray(value)) return null;
    const good = value.every(function (p) {
      return Array.isArray(p) && p.length === 2 && p.every(function (c) {
        return typeof c === "number" && isFinite(c) && c >= 0 && c <= 1;
      });
    });
    return good ? value.map(function (p) { return [p[0], p[1]]; }) : null;
  }

  document.addEventListener("road-boundary:loaded", function (event) {
    const meta = event.detail || {};
    if (meta.source === "operator" || meta.source === "none") return;
    const polygon = parsePolygon(JSON.stringify(meta.polygon || []));
    if (!polygon || polygon.length < 3) return;
    reportedDetected = rounded(polygon);
    listeners.forEach(function (listener) { listener(reportedDetected); });
  });

  function setup(root) {
    const field = root.querySelector("textarea");
    const tools = root.querySelector(".road-region-editor__tools");
    const stage = root.querySelector(".road-region-editor__stage");
    const image = root.querySelector(".road-region-editor__frame");
    const canvas = root.querySelector(".road-region-editor__canvas");
    const status = root.querySelector(".road-region-editor__status");
    const buttons = {};
    root.querySelectorAll("[data-action]").forEach(function (button) {
      buttons[button.dataset.action] = button;
    });
    const mask = root.dataset.kind === "mask";
    const noun = mask ? "mask" : "road polygon";
    const min = Number(root.dataset.minPoints) || 3;
    const max = Number(root.dataset.maxPoints) || 12;
    let detected = rounded(parsePolygon(root.dataset.detected || "[]") || []);
    let points = [];
    let closed = false;
    let typed = false; // the last change was typed into the field, not drawn
    let history = [];
    let drag = null;

    function say(message, isError) {
      status.textContent = message;
      status.classList.toggle("is-error", Boolean(isError));
    }

    function remember() {
      history.push({ points: points.map(function (p) { return p.slice(); }), closed: closed });
      if (history.length > HISTORY) history.shift();
    }

    function write() {
      field.value = JSON.stringify(points);
      typed = false;
    }

    function refresh() {
      buttons.undo.disabled = history.length === 0;
      buttons.close.disabled = closed || points.length < min;
      buttons.clear.disabled = points.length === 0;
      if (buttons.detected) buttons.detected.disabled = detected.length < 3;
      draw();
    }

    function change(next, message) {
      remember();
      points = next.points;
      closed = next.closed;
      write();
      refresh();
      say(message);
    }

    function size() {
      const rect = canvas.getBoundingClientRect();
      return { width: rect.width, height: rect.height, left: rect.left, top: rect.top };
    }

    function trace(context, polygon, box) {
      context.beginPath();
      polygon.forEach(function (p, i) {
        const x = p[0] * box.width;
        const y = p[1] * box.height;
        if (i === 0) context.moveTo(x, y);
        else context.lineTo(x, y);
      });
    }

    function draw() {
      const box = size();
      const ratio = window.devicePixelRatio || 1;
      const width = Math.round(box.width * ratio);
      const height = Math.round(box.height * ratio);
      if (!width || !height) return;
      if (canvas.width !== width || canvas.height !== height) {
        canvas.width = width;
        canvas.height = height;
      }
      const context = canvas.getContext("2d");
      context.setTransform(ratio, 0, 0, ratio, 0, 0);
      context.clearRect(0, 0, box.width, box.height);
      if (detected.length >= 3) {
        trace(context, detected, box);
        context.closePath();
        context.setLineDash([6, 4]);
        context.lineWidth = 1.5;
        context.strokeStyle = GUIDE;
        context.stroke();
        context.setLineDash([]);
      }
      if (!points.length) return;
      trace(context, points, box);
      if (closed) {
        context.closePath();
        context.fillStyle = FILL;
        context.fill();
      }
      context.lineWidth = 2;
      context.strokeStyle = LINE;
      context.stroke();
      points.forEach(function (p, i) {
        const canClose = i === 0 && !closed && points.length >= min;
        context.beginPath();
        context.arc(p[0] * box.width, p[1] * box.height, canClose ? 8 : 5, 0, 2 * Math.PI);
        context.fillStyle = i === 0 && !closed ? FIRST : LINE;
        context.fill();
        context.lineWidth = 1;
        context.strokeStyle = "#000";
        context.stroke();
      });
    }

    function at(event) {
      const box = size();
      const x = event.clientX - box.left;
      const y = event.clientY - box.top;
      let found = -1;
      let nearest = HIT_RADIUS;
      points.forEach(function (p, i) {
        const distance = Math.hypot(p[0] * box.width - x, p[1] * box.height - y);
        if (distance <= nearest) {
          nearest = distance;
          found = i;
        }
      });
      return { x: x, y: y, fx: x / box.width, fy: y / box.height, hit: found };
    }

    function close() {
      if (closed) return;
      if (points.length < min) {
        say("Add at least " + min + " points before closing the polygon.", true);
        return;
      }
      change(
        { points: points, closed: true },
        "Polygon closed with " + points.length + " points: Save to store it."
      );
    }

    function add(where) {
      if (closed) {
        say("The polygon is closed: drag a point to move it, or Clear to draw a new one.");
        return;
      }
      if (points.length >= max) {
        say("At most " + max + " points: click the first point to close the polygon.", true);
        return;
      }
      const next = points.concat([[fraction(where.fx), fraction(where.fy)]]);
      const left = min - next.length;
      change(
        { points: next, closed: false },
        "Point " + next.length + " added. " + (left > 0
          ? "Add at least " + left + " more."
          : "Click the first point (red) to close the polygon.")
      );
    }

    canvas.addEventListener("pointerdown", function (event) {
      if (event.button !== 0) return;
      event.preventDefault();
      const where = at(event);
      if (where.hit >= 0) {
        drag = { index: where.hit, x: where.x, y: where.y, moved: false };
        canvas.setPointerCapture(event.pointerId);
      } else {
        add(where);
      }
    });

    canvas.addEventListener("pointermove", function (event) {
      const where = at(event);
      canvas.classList.toggle("is-over-point", where.hit >= 0 || drag !== null);
      if (!drag) return;
      if (!drag.moved && Math.hypot(where.x - drag.x, where.y - drag.y) < DRAG_START) return;
      if (!drag.moved) {
        remember();
        drag.moved = true;
      }
      points = points.slice();
      points[drag.index] = [fraction(where.fx), fraction(where.fy)];
      write();
      refresh();
    });

    function release() {
      const done = drag;
      drag = null;
      if (!done) return;
      if (done.moved) say("Point " + (done.index + 1) + " moved.");
      else if (done.index === 0 && !closed) close();
    }
    canvas.addEventListener("pointerup", release);
    canvas.addEventListener("pointercancel", release);

    buttons.undo.addEventListener("click", function () {
      const last = history.pop();
      if (!last) return;
      points = last.points;
      closed = last.closed;
      write();
      refresh();
      say("Undone: " + points.length + " point" + (points.length === 1 ? "" : "s")
        + (closed ? ", closed." : "."));
    });
    buttons.close.addEventListener("click", close);
    buttons.clear.addEventListener("click", function () {
      change(
        { points: [], closed: false },
        mask
          ? "Cleared: click on the frame to draw the region to hide."
          : "Cleared: Save now to use the detected region, or click on the frame to draw a polygon."
      );
    });
    if (buttons.detected) buttons.detected.addEventListener("click", function () {
      if (detected.length < 3) return;
      change(
        { points: detected.map(function (p) { return p.slice(); }), closed: true },
        "The detected region is copied (" + detected.length + " points): adjust it, then Save."
      );
    });

    field.addEventListener("input", function () {
      const typedPolygon = parsePolygon(field.value);
      if (typedPolygon === null) {
        say("The field does not hold a list of [x, y] fractions; Save will say what is wrong.",
          true);
        return;
      }
      remember();
      points = typedPolygon;
      closed = points.length >= 3;
      typed = true;
      refresh();
      say("");
    });

    // An open polygon drawn here is not what the operator meant to store: say so rather
    // than post it. (A typed value goes to the server, which judges it.)
    const form = root.closest("form");
    if (form) {
      form.addEventListener("submit", function (event) {
        if (closed || !points.length || typed) return;
        event.preventDefault();
        say("The " + noun + " is not closed: click its first point (or “Close polygon”), "
          + "or Undo or Clear, before saving.", true);
        status.scrollIntoView({ block: "center" });
        buttons.close.focus();
      });
    }

    if (!mask) {
      listeners.push(function (polygon) {
        detected = polygon;
        refresh();
      });
      if (reportedDetected) detected = reportedDetected;
    }

    const stored = parsePolygon(field.value);
    if (stored === null) {
      say("The field below does not hold a list of [x, y] fractions: correct it or Clear.", true);
    } else {
      points = stored;
      closed = points.length >= 3;
      if (closed) {
        say((mask ? "The mask (" + points.length + " points) hides what is inside it."
          : "The operator polygon (" + points.length + " points) is used.")
          + " Drag a point to move it, or Clear to draw a new one.");
      } else if (points.length) {
        say("Click on the frame to add points, then click the first one to close.");
      } else if (mask) {
        say("Click on the frame to add points around the region to hide, then click the "
          + "first one to close.");
      } else {
        say("No operator polygon: the detected region (dashed) is used. Click on the frame "
          + "to draw one.");
      }
    }

    function shown() {
      stage.hidden = false;
      refresh();
    }
    function missing() {
      stage.hidden = true;
      say("No stored frame of this camera yet: type the polygon in the field below, or come "
        + "back when the camera has stored a frame.", true);
    }
    if (image.complete) {
      if (image.naturalWidth) shown();
      else missing();
    }
    image.addEventListener("load", shown);
    image.addEventListener("error", missing);
    if (window.ResizeObserver) new ResizeObserver(draw).observe(image);
    else window.addEventListener("resize", draw);
    tools.hidden = false;
    refresh();
  }

  function start() {
    document.querySelectorAll(".road-region-editor").forEach(function (root) {
      // The admin's hidden template for "Add another": set up when it is copied (below).
      if (!root.closest(".empty-form")) setup(root);
    });
  }

  document.addEventListener("formset:added", function (event) {
    event.target.querySelectorAll(".road-region-editor").forEach(setup);
  });

  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", start);
  else start();
})();
