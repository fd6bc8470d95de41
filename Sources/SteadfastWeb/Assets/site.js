// Steadfast portal: progressive enhancement only. Every page works without this file.
// 1. The "Menu" button folds the navigation on narrow screens.
// 2. A destructive action's confirmation (a <details> second step) becomes a modal <dialog>.
(function () {
  "use strict";
  document.documentElement.classList.add("js");
  document.addEventListener("DOMContentLoaded", function () {
    var toggle = document.querySelector(".menu-toggle");
    var bar = document.querySelector(".site-header");
    if (toggle && bar) {
      toggle.addEventListener("click", function () {
        var open = bar.classList.toggle("nav-open");
        toggle.setAttribute("aria-expanded", open ? "true" : "false");
      });
    }
    if (typeof HTMLDialogElement !== "function") return;
    document.querySelectorAll("details.confirm").forEach(function (details) {
      var summary = details.querySelector("summary");
      var body = details.querySelector(".confirm-body");
      if (!summary || !body) return;
      var dialog = document.createElement("dialog");
      dialog.className = "confirm-dialog";
      dialog.setAttribute("aria-label", summary.textContent.trim());
      details.parentNode.insertBefore(dialog, details);
      var cancel = document.createElement("button");
      cancel.type = "button";
      cancel.className = "secondary";
      cancel.textContent = "Keep it";
      cancel.addEventListener("click", function () { dialog.close(); details.open = false; });
      summary.addEventListener("click", function (event) {
        event.preventDefault();
        dialog.appendChild(body);
        var form = body.querySelector("form");
        if (form && !form.contains(cancel)) form.appendChild(cancel);
        dialog.showModal();
      });
      dialog.addEventListener("close", function () { details.open = false; });
    });
  });
})();
