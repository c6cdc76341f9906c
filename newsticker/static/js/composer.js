// Composer: drag and drop to reorder entries. Progressive enhancement only: the arrow
// buttons do the same without JavaScript, and a refused save reloads the current state.
(function () {
  "use strict";

  function versionInputs() {
    return document.querySelectorAll('input[name="version"]');
  }

  function announce(text) {
    var region = document.getElementById("reorder-status");
    if (!region) {
      region = document.createElement("p");
      region.id = "reorder-status";
      region.className = "visually-hidden";
      region.setAttribute("role", "status");
      document.body.appendChild(region);
    }
    region.textContent = text;
  }

  function refreshButtons(list) {
    var entries = list.querySelectorAll(".entry");
    entries.forEach(function (entry, index) {
      var up = entry.querySelector('button[value="up"]');
      var down = entry.querySelector('button[value="down"]');
      if (up) { up.disabled = index === 0; }
      if (down) { down.disabled = index === entries.length - 1; }
    });
  }

  function save(list) {
    var token = list.querySelector('input[name="csrf_token"]');
    var version = versionInputs()[0];
    var body = new URLSearchParams();
    body.append("csrf_token", token ? token.value : "");
    body.append("version", version ? version.value : "");
    body.append("section", list.getAttribute("data-section"));
    list.querySelectorAll(".entry").forEach(function (entry) {
      body.append("entry_id", entry.getAttribute("data-entry-id"));
    });
    fetch(list.getAttribute("data-reorder-url"), {
      method: "POST",
      body: body,
      credentials: "same-origin"
    }).then(function (response) {
      if (!response.ok) { throw new Error("refused"); }
      return response.json();
    }).then(function (data) {
      versionInputs().forEach(function (input) { input.value = String(data.version); });
      refreshButtons(list);
      announce(list.getAttribute("data-saved") || "OK");
    }).catch(function () {
      window.location.reload();
    });
  }

  function enable(list) {
    var dragged = null;
    list.querySelectorAll(".entry").forEach(function (entry) {
      entry.setAttribute("draggable", "true");
      entry.addEventListener("dragstart", function (event) {
        dragged = entry;
        entry.classList.add("dragging");
        event.dataTransfer.effectAllowed = "move";
        event.dataTransfer.setData("text/plain", entry.getAttribute("data-entry-id"));
      });
      entry.addEventListener("dragend", function () {
        entry.classList.remove("dragging");
        list.querySelectorAll(".drop-before").forEach(function (el) { el.classList.remove("drop-before"); });
        dragged = null;
      });
      entry.addEventListener("dragover", function (event) {
        if (!dragged || dragged === entry || dragged.parentNode !== list) { return; }
        event.preventDefault();
        list.querySelectorAll(".drop-before").forEach(function (el) { el.classList.remove("drop-before"); });
        entry.classList.add("drop-before");
      });
      entry.addEventListener("drop", function (event) {
        if (!dragged || dragged === entry || dragged.parentNode !== list) { return; }
        event.preventDefault();
        var box = entry.getBoundingClientRect();
        var after = event.clientY > box.top + box.height / 2;
        list.insertBefore(dragged, after ? entry.nextSibling : entry);
        save(list);
      });
    });
  }

  document.addEventListener("DOMContentLoaded", function () {
    document.querySelectorAll("ol.entries[data-reorder-url]").forEach(enable);
  });
})();
