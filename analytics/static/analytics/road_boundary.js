// Road boundary block on the road region and camera admin pages: loads on open and on
// "Refresh".
// Metadata comes as JSON, the picture as PNG; both read stored frames only.
(function () {
  "use strict";

  function setBusy(block, busy) {
    block.querySelector(".road-boundary__spinner").hidden = !busy;
    block.querySelector(".road-boundary__refresh").disabled = busy;
  }

  function showError(block, message) {
    const note = block.querySelector(".road-boundary__error");
    note.textContent = message;
    note.hidden = !message;
  }

  function fillMeta(block, meta) {
    block.querySelectorAll("[data-field]").forEach(function (cell) {
      let value = meta[cell.dataset.field];
      if (cell.dataset.field === "coverage_percent") value = value + " %";
      cell.textContent = value === undefined ? "–" : String(value);
    });
  }

  function loadImage(img, url) {
    return new Promise(function (resolve, reject) {
      img.onload = resolve;
      img.onerror = function () { reject(new Error("the image could not be loaded")); };
      img.src = url;
    });
  }

  async function load(block) {
    const base = block.dataset.url;
    const bust = "&t=" + Date.now();
    const img = block.querySelector(".road-boundary__image");
    setBusy(block, true);
    showError(block, "");
    try {
      const response = await fetch(base + "&format=json" + bust, { credentials: "same-origin" });
      const meta = await response.json();
      if (!response.ok) throw new Error(meta.error || "HTTP " + response.status);
      fillMeta(block, meta);
      // The road region editor takes the detected polygon from here (road_region_editor.js).
      block.dispatchEvent(new CustomEvent("road-boundary:loaded", { bubbles: true, detail: meta }));
      await loadImage(img, base + "&format=png" + bust);
      img.hidden = false;
    } catch (error) {
      showError(block, "Road boundary unavailable: " + error.message);
    } finally {
      setBusy(block, false);
    }
  }

  document.addEventListener("DOMContentLoaded", function () {
    document.querySelectorAll(".road-boundary").forEach(function (block) {
      block.querySelector(".road-boundary__refresh").addEventListener("click", function () {
        load(block);
      });
      load(block);
    });
  });
})();
