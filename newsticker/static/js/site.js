// Progressive enhancement only: every page works without this file.
(function () {
  "use strict";
  // Move focus to the error summary so screen readers announce it at once.
  document.addEventListener("DOMContentLoaded", function () {
    var summary = document.getElementById("error-summary");
    if (summary) { summary.focus(); }
  });
})();
