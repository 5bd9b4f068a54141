// Public bundle viewer. Static on purpose: the page itself is cached by the web server, so the
// age of each picture ("updated N min ago") and the stale placeholder are worked out here, in
// the browser, from status.json, which is fetched fresh every minute.
(function () {
  "use strict";
  var REFRESH_MS = 60000;
  var seen = {};

  function ago(iso, now) {
    var minutes = Math.max(0, Math.round((now - Date.parse(iso)) / 60000));
    if (minutes < 1) return "updated just now";
    if (minutes < 120) return "updated " + minutes + " min ago";
    return "updated " + Math.round(minutes / 60) + " h ago";
  }

  function chosenCamera() {
    var match = /[?&]camera=([a-z0-9-_]+)/.exec(window.location.search);
    return match ? match[1] : null;
  }

  function showChosen() {
    var slug = chosenCamera();
    if (!slug || !document.body.classList.contains("embed")) return;
    document.querySelectorAll(".camera").forEach(function (figure) {
      figure.hidden = figure.getAttribute("data-slug") !== slug;
    });
  }

  function reloadMedia(figure, camera) {
    // A new build keeps the same file names, so add the build time to skip stale caches.
    var version = "?v=" + encodeURIComponent(camera.built_at);
    figure.querySelectorAll("video, source, img").forEach(function (el) {
      ["src", "poster"].forEach(function (attr) {
        var value = el.getAttribute(attr);
        if (value) el.setAttribute(attr, value.split("?")[0] + version);
      });
    });
    var video = figure.querySelector("video");
    if (video) video.load();
  }

  function update(status) {
    var now = Date.now();
    status.cameras.forEach(function (camera) {
      var figure = document.querySelector('.camera[data-slug="' + camera.slug + '"]');
      if (!figure) return;
      var newest = camera.newest_frame_at || camera.last_captured_at;
      var stale = now - Date.parse(newest) > camera.stale_after_seconds * 1000;
      var label = figure.querySelector("[data-updated]");
      label.textContent = ago(newest, now);
      label.classList.toggle("stale", stale);
      figure.querySelector(".placeholder").hidden = !stale;
      if (seen[camera.slug] && seen[camera.slug] !== camera.built_at) reloadMedia(figure, camera);
      seen[camera.slug] = camera.built_at;
    });
  }

  function poll() {
    fetch("status.json", { cache: "no-store" })
      .then(function (response) { return response.ok ? response.json() : null; })
      .then(function (status) { if (status) update(status); })
      .catch(function () { /* offline for a moment: keep what is shown, try again later */ });
  }

  showChosen();
  poll();
  window.setInterval(poll, REFRESH_MS);
})();
