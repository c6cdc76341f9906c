// Progressive enhancement of the item form: the form works fully without this file.
(function () {
  "use strict";
  var MAX_IMAGE_BYTES = 8 * 1024 * 1024;

  function chosenKind(form) {
    var checked = form.querySelector('input[name="kind"]:checked');
    return checked ? checked.value : "event";
  }

  // Show only the date fields that fit what is being submitted.
  function syncSections(form) {
    var kind = chosenKind(form);
    form.querySelectorAll("[data-kind]").forEach(function (section) {
      var kinds = section.getAttribute("data-kind").split(" ");
      section.hidden = kinds.indexOf(kind) === -1;
    });
  }

  // Times make no sense for an all-day event.
  function syncAllDay(form) {
    var allDay = form.querySelector('input[name="all_day"]');
    if (!allDay) { return; }
    ["start_time", "end_time"].forEach(function (name) {
      var input = form.querySelector('input[name="' + name + '"]');
      if (input) { input.closest(".field").hidden = allDay.checked; }
    });
  }

  function checkImage(form, input) {
    var message = input.closest(".field").querySelector(".js-size-error");
    if (message) { message.remove(); }
    var file = input.files && input.files[0];
    if (file && file.size > MAX_IMAGE_BYTES) {
      var p = document.createElement("p");
      p.className = "error js-size-error";
      p.id = input.id + "-size-error";
      p.textContent = form.getAttribute("data-image-too-large") || "Max. 8 MB";
      input.insertAdjacentElement("afterend", p);
      input.setAttribute("aria-describedby", p.id);
      input.setAttribute("aria-invalid", "true");
      return false;
    }
    input.removeAttribute("aria-invalid");
    return true;
  }

  function isEmpty(group) {
    return Array.prototype.every.call(
      group.querySelectorAll("input[type=text], textarea"),
      function (input) { return !input.value.trim(); }
    );
  }

  // Texts in other languages: show the filled groups and one empty one; a button adds
  // another group (a copy of the last, renumbered), up to the form's maximum.
  function setUpVersions(form) {
    var box = form.querySelector("#versions");
    if (!box) { return; }
    var groups = box.querySelectorAll("[data-version-group]");
    var shownEmpty = false;
    groups.forEach(function (group) {
      var empty = isEmpty(group) && !group.querySelector(".error");
      group.hidden = empty && shownEmpty;
      if (empty) { shownEmpty = true; }
    });
    var button = document.createElement("button");
    button.type = "button";
    button.className = "button secondary";
    button.textContent = box.getAttribute("data-add-label");
    box.appendChild(button);
    var max = parseInt(box.getAttribute("data-max"), 10) || groups.length;
    function update() {
      var all = box.querySelectorAll("[data-version-group]");
      var hidden = box.querySelectorAll("[data-version-group][hidden]");
      button.hidden = hidden.length === 0 && all.length >= max;
    }
    button.addEventListener("click", function () {
      var next = box.querySelector("[data-version-group][hidden]");
      if (!next) {
        var all = box.querySelectorAll("[data-version-group]");
        var last = all[all.length - 1];
        var index = all.length;
        next = last.cloneNode(true);
        next.querySelectorAll("[id], [name], [for], [aria-describedby]").forEach(function (el) {
          ["id", "name", "for", "aria-describedby"].forEach(function (attr) {
            var value = el.getAttribute(attr);
            if (value) { el.setAttribute(attr, value.replace(/versions-\d+-/g, "versions-" + index + "-")); }
          });
          if (el.tagName === "SELECT") { el.selectedIndex = 0; } else if (el.value !== undefined) { el.value = ""; }
        });
        next.querySelectorAll(".error").forEach(function (el) { el.remove(); });
        var legend = next.querySelector("legend");
        if (legend) { legend.textContent = legend.textContent.replace(/\d+\s*$/, String(index + 1)); }
        last.insertAdjacentElement("afterend", next);
      }
      next.hidden = false;
      var first = next.querySelector("select, input, textarea");
      if (first) { first.focus(); }
      update();
    });
    update();
  }

  document.addEventListener("DOMContentLoaded", function () {
    var form = document.querySelector("form.item-form");
    if (!form) { return; }
    syncSections(form);
    syncAllDay(form);
    setUpVersions(form);
    form.addEventListener("change", function (event) {
      if (event.target.name === "kind") { syncSections(form); }
      if (event.target.name === "all_day") { syncAllDay(form); }
      if (event.target.type === "file") { checkImage(form, event.target); }
    });
    form.addEventListener("submit", function (event) {
      var image = form.querySelector('input[type="file"]');
      if (image && !checkImage(form, image)) {
        event.preventDefault();
        image.focus();
        return;
      }
      // One click, one submission: a second click while the first is on its way does nothing.
      if (form.getAttribute("data-sending")) { event.preventDefault(); return; }
      form.setAttribute("data-sending", "1");
    });
  });
})();
