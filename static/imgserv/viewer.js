// Live viewer: applies the server's messages (sequence.updated, camera.health,
// condition.updated; see sequences/live.py) to the page in place, polls /status while the
// socket is down, reconnects with exponential backoff and jitter, and keeps the
// "updated N min ago" texts and the offline state current. No framework, no build step.
"use strict";

(function () {
  const body = document.body;
  const liveState = document.getElementById("live-state");
  const POLL_MS = 30000;
  const RETRY_MIN_MS = 1000;
  const RETRY_MAX_MS = 60000;
  const MAX_ALERTS = 2;
  // The server's clock minus ours, so "N min ago" and the offline check hold on a phone
  // whose clock is wrong.
  const skewMs = body.dataset.now ? Date.parse(body.dataset.now) - Date.now() : 0;
  let socket = null;
  let retryMs = RETRY_MIN_MS;
  let pollTimer = null;
  const shown = {};

  function serverNow() { return Date.now() + skewMs; }
  function say(text) { if (liveState) liveState.textContent = text; }
  function tileOf(slug) {
    return document.querySelector('.tile[data-camera="' + CSS.escape(slug) + '"]');
  }

  function ago(iso) {
    const minutes = Math.floor((serverNow() - Date.parse(iso)) / 60000);
    if (minutes < 1) return "updated just now";
    if (minutes < 120) return "updated " + minutes + " min ago";
    return "updated " + Math.floor(minutes / 60) + " h ago";
  }

  // The camera's own zone, as on the overlay and the server's page ("Sat 28 Nov 2026 12:00
  // EST"): en-GB for the order of the parts, en-US for the zone's abbreviation.
  function localTime(iso, tz, withYear) {
    const date = new Date(iso);
    const options = { timeZone: tz, weekday: "short", day: "numeric", month: "short",
      hour: "2-digit", minute: "2-digit", hourCycle: "h23" };
    if (withYear) options.year = "numeric";
    const zone = new Intl.DateTimeFormat("en-US", { timeZone: tz, timeZoneName: "short" })
      .formatToParts(date).find(function (p) { return p.type === "timeZoneName"; });
    const text = date.toLocaleString("en-GB", options).replace(/,/g, "");
    return zone ? text + " " + zone.value : text;
  }

  function make(tag, className, text) {
    const el = document.createElement(tag);
    if (className) el.className = className;
    if (text !== undefined) el.textContent = text;
    return el;
  }

  // Offline: health says so, or the newest frame is older than the tile's limit.
  function refreshOffline(tile) {
    const last = tile.dataset.lastFrame;
    const limitMs = Number(tile.dataset.offlineAfter || 0) * 1000;
    const stale = last && limitMs && serverNow() - Date.parse(last) > limitMs;
    const offline = tile.dataset.health === "offline" || Boolean(stale);
    if (offline === tile.classList.contains("is-offline")) return;
    tile.classList.toggle("is-offline", offline);
    const title = tile.querySelector(".offline-title");
    if (offline && title) {
      title.textContent = "Camera offline";
      if (last) {
        title.append(" since ");
        const time = make("time", "offline-since", localTime(last, tile.dataset.tz, false));
        time.dateTime = last;
        title.appendChild(time);
      }
    }
    const video = tile.querySelector("video.loop");
    if (video && !offline) video.play().catch(function () {});
  }

  function refreshAll() {
    document.querySelectorAll(".ago[data-since]").forEach(function (el) {
      el.textContent = "(" + ago(el.dataset.since) + ")";
    });
    document.querySelectorAll(".tile").forEach(refreshOffline);
  }

  function newLoop(tile, urls) {
    const name = tile.querySelector("h2").textContent.trim();
    const img = make("img", "loop");
    img.alt = "Road camera loop at " + name;
    if (!urls.mp4) return img;
    const video = make("video", "loop");
    video.muted = true;
    video.autoplay = video.loop = video.playsInline = true;
    video.setAttribute("aria-label", "Road camera loop at " + name);
    img.classList.add("fallback");
    video.appendChild(img);
    return video;
  }

  // Swap in a new sequence: the MP4 where the page plays video, the GIF in the fallback image.
  function showSequence(slug, urls, lastCaptured, sequenceId) {
    const tile = tileOf(slug);
    if (!tile || shown[slug] === sequenceId) return;
    shown[slug] = sequenceId;
    let loop = tile.querySelector(".media > .loop");
    if (!loop || (loop.tagName === "IMG" && urls.mp4)) {
      const fresh = newLoop(tile, urls);
      const old = loop || tile.querySelector(".placeholder");
      if (old) old.replaceWith(fresh); else tile.querySelector(".media").prepend(fresh);
      loop = fresh;
    }
    const img = loop.tagName === "IMG" ? loop : loop.querySelector("img");
    if (img) { img.src = urls.gif; img.dataset.sequence = String(sequenceId); }
    if (loop.tagName === "VIDEO") {
      loop.src = urls.mp4;
      loop.play().catch(function () {});
    }
    loop.dataset.sequence = String(sequenceId);

    const captured = tile.querySelector(".captured");
    captured.textContent = "Captured ";
    const time = make("time", "last-captured", localTime(lastCaptured, tile.dataset.tz, true));
    time.dateTime = lastCaptured;
    const agoEl = make("span", "ago");
    agoEl.dataset.since = lastCaptured;
    captured.append(time, " ", agoEl);
    if (!tile.dataset.lastFrame || Date.parse(tile.dataset.lastFrame) < Date.parse(lastCaptured)) {
      tile.dataset.lastFrame = lastCaptured;
    }
    if (tile.dataset.health === "offline") tile.dataset.health = "ok";
    refreshAll();
  }

  function showHealth(slug, health, lastFrameAt) {
    const tile = tileOf(slug);
    if (!tile) return;
    tile.dataset.health = health;
    if (lastFrameAt) tile.dataset.lastFrame = lastFrameAt;
    refreshOffline(tile);
  }

  // As cameras/units.py temperature_text writes it: the value comes in °C; a tile whose
  // camera uses US units (data-units="us") shows °F.
  function temperatureText(value, units) {
    if (value === null || value === undefined) return "";
    const us = units === "us";
    const text = (us ? value * 9 / 5 + 32 : value).toFixed(1);
    return (text === "-0.0" ? "0.0" : text.replace("-", "−")) + (us ? " °F" : " °C");
  }

  // `state` null: no reading yet; "unknown": the road's state is not known (shown as "—").
  function showConditions(slug, state, style, label, reason, temperature, units, alerts,
    forecastNote) {
    const tile = tileOf(slug);
    if (!tile) return;
    if (units) tile.dataset.units = units;
    const badge = tile.querySelector(".badge");
    if (badge) {
      badge.className = "badge level-" + (style || "unknown");
      badge.textContent = state ? (label || "—") : "No reading";
      badge.title = reason || "";
    }
    const temp = tile.querySelector(".temperature");
    if (temp) temp.textContent = temperatureText(temperature, tile.dataset.units);
    const list = tile.querySelector(".alerts");
    if (list) {
      list.replaceChildren.apply(list, (alerts || []).slice(0, MAX_ALERTS).map(function (text) {
        return make("li", "", text);
      }));
    }
    const note = tile.querySelector(".forecast-note");
    if (note) note.textContent = forecastNote;
  }

  const handlers = {
    "sequence.updated": function (m) {
      showSequence(m.camera, { gif: m.gif_url, mp4: m.mp4_url }, m.last_captured_at, m.sequence_id);
    },
    "camera.health": function (m) { showHealth(m.camera, m.health, m.last_frame_at); },
    "condition.updated": function (m) {
      showConditions(m.camera, m.state, m.style, m.label, m.reason, m.temperature_c, m.units,
        m.alerts, m.forecast_status === "ok" ? "" : m.forecast_label);
    },
  };

  function onMessage(event) {
    const message = JSON.parse(event.data);
    const handle = handlers[message.type];
    if (handle) handle(message);
  }

  const FORECAST_LABELS = {
    unavailable: "Forecast unavailable", pending: "Forecast not fetched yet",
    no_location: "No location set for this camera",
  };

  function poll() {
    fetch(body.dataset.statusUrl, { headers: { Accept: "application/json" } })
      .then(function (r) { return r.ok ? r.json() : null; })
      .then(function (status) {
        if (!status) return;
        status.cameras.forEach(function (cam) {
          showHealth(cam.slug, cam.health, cam.last_frame_at);
          const seq = cam.last_sequence;
          if (seq) {
            const v = "?v=" + seq.id;
            const urls = { gif: seq.urls.gif + v, mp4: seq.urls.mp4 ? seq.urls.mp4 + v : "" };
            showSequence(cam.slug, urls, seq.last_captured_at, seq.id);
          }
          const c = cam.conditions;
          if (c) {
            showConditions(cam.slug, c.state, c.style, c.label, c.reason, c.temperature_c,
              c.units, c.alerts, FORECAST_LABELS[c.forecast] || "");
          }
        });
      })
      .catch(function () {});
  }

  function startPolling() { if (!pollTimer) pollTimer = setInterval(poll, POLL_MS); }
  function stopPolling() { if (pollTimer) { clearInterval(pollTimer); pollTimer = null; } }

  function connect() {
    const scheme = location.protocol === "https:" ? "wss://" : "ws://";
    socket = new WebSocket(scheme + location.host + body.dataset.liveUrl);
    socket.onopen = function () {
      // Whatever happened while we were away.
      if (retryMs > RETRY_MIN_MS) poll();
      retryMs = RETRY_MIN_MS;
      stopPolling();
      say("Live: new pictures appear as soon as they are ready.");
    };
    socket.onmessage = onMessage;
    socket.onclose = function (event) {
      say("Live updates interrupted; checking every 30 s.");
      startPolling();
      // 4404: the server knows no such camera (sequences/consumers.py); retrying won't help.
      if (event.code === 4404) return;
      // Half the delay random, so a restarted server is not hit by every viewer at once.
      const delay = retryMs / 2 + Math.random() * retryMs / 2;
      retryMs = Math.min(retryMs * 2, RETRY_MAX_MS);
      setTimeout(connect, delay);
    };
  }

  document.querySelectorAll(".tile [data-sequence]").forEach(function (el) {
    shown[el.closest(".tile").dataset.camera] = Number(el.dataset.sequence);
  });
  refreshAll();
  setInterval(refreshAll, 30000);
  if ("WebSocket" in window) connect(); else startPolling();
})();
