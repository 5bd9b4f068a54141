// Live viewer: swaps in each new sequence as the server announces it over the websocket,
// polls /status when the socket is down, and keeps "updated N min ago" current.
"use strict";

(function () {
  const body = document.body;
  const liveState = document.getElementById("live-state");
  const POLL_MS = 30000;
  let socket = null;
  let retryMs = 1000;
  let pollTimer = null;
  const shown = {};

  function say(text) { if (liveState) liveState.textContent = text; }

  function ago(iso) {
    const minutes = Math.floor((Date.now() - Date.parse(iso)) / 60000);
    if (minutes < 1) return "updated just now";
    if (minutes < 120) return "updated " + minutes + " min ago";
    return "updated " + Math.floor(minutes / 60) + " h ago";
  }

  // The camera's own zone, as on the overlay, so both show the same clock.
  function localTime(iso, tz) {
    return new Date(iso).toLocaleString("en-GB", {
      timeZone: tz, weekday: "short", day: "numeric", month: "short", year: "numeric",
      hour: "2-digit", minute: "2-digit", timeZoneName: "short",
    });
  }

  function refreshAges() {
    document.querySelectorAll(".ago[data-since]").forEach(function (el) {
      el.textContent = "(" + ago(el.dataset.since) + ")";
    });
  }

  // Swap in a new sequence: the MP4 where the page plays video, the GIF in the fallback image.
  function showSequence(slug, urls, lastCaptured, sequenceId) {
    if (shown[slug] === sequenceId) return;
    const tile = document.querySelector('.tile[data-camera="' + slug + '"]');
    if (!tile) return;
    shown[slug] = sequenceId;
    const video = tile.querySelector("video.loop");
    if (video && urls.mp4) {
      video.src = urls.mp4;
      video.dataset.sequence = String(sequenceId);
      video.play().catch(function () {});
    }
    let img = tile.querySelector("img.loop");
    if (!img) {
      img = document.createElement("img");
      img.className = "loop";
      img.alt = "Road camera loop";
      const placeholder = tile.querySelector(".placeholder");
      if (placeholder) placeholder.replaceWith(img);
    }
    img.src = urls.gif;
    img.dataset.sequence = String(sequenceId);
    const captured = tile.querySelector(".captured");
    captured.textContent = "Captured " + localTime(lastCaptured, tile.dataset.tz) + " ";
    const agoEl = document.createElement("span");
    agoEl.className = "ago";
    agoEl.dataset.since = lastCaptured;
    captured.appendChild(agoEl);
    refreshAges();
  }

  function onMessage(event) {
    const msg = JSON.parse(event.data);
    if (msg.type === "sequence.updated") {
      showSequence(msg.camera, { gif: msg.gif_url, mp4: msg.mp4_url }, msg.last_captured_at, msg.sequence_id);
    }
  }

  function poll() {
    fetch(body.dataset.statusUrl, { headers: { Accept: "application/json" } })
      .then(function (r) { return r.ok ? r.json() : null; })
      .then(function (status) {
        if (!status) return;
        status.cameras.forEach(function (cam) {
          const seq = cam.last_sequence;
          if (!seq) return;
          const v = "?v=" + seq.id;
          const urls = { gif: seq.urls.gif + v, mp4: seq.urls.mp4 ? seq.urls.mp4 + v : "" };
          showSequence(cam.slug, urls, seq.last_captured_at, seq.id);
        });
      })
      .catch(function () {});
  }

  function startPolling() {
    if (!pollTimer) pollTimer = setInterval(poll, POLL_MS);
  }

  function stopPolling() {
    if (pollTimer) { clearInterval(pollTimer); pollTimer = null; }
  }

  function connect() {
    const scheme = location.protocol === "https:" ? "wss://" : "ws://";
    socket = new WebSocket(scheme + location.host + body.dataset.liveUrl);
    socket.onopen = function () { retryMs = 1000; stopPolling(); say("Live: new pictures appear as they are built."); };
    socket.onmessage = onMessage;
    socket.onclose = function () {
      say("Live updates interrupted; checking every 30 s.");
      startPolling();
      setTimeout(connect, retryMs + Math.random() * 500);
      retryMs = Math.min(retryMs * 2, 60000);
    };
  }

  document.querySelectorAll(".tile [data-sequence]").forEach(function (el) {
    shown[el.closest(".tile").dataset.camera] = Number(el.dataset.sequence);
  });
  refreshAges();
  setInterval(refreshAges, 30000);
  if ("WebSocket" in window) connect(); else startPolling();
})();
