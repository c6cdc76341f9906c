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

  document.addEventListener("DOMContentLoaded", function () {
    var form = document.querySelector("form.item-form");
    if (!form) { return; }
    syncSections(form);
    syncAllDay(form);
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
