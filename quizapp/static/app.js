// Progressive enhancement only: every page works without this file.
(function () {
  "use strict";

  // Keyboard shortcuts on question pages, active only while focus is in the
  // question (WCAG 2.1.4): 1-9 pick an option, n/p next/previous question.
  document.addEventListener("keydown", function (event) {
    var target = event.target;
    if (event.altKey || event.ctrlKey || event.metaKey) return;
    if (!target || !target.closest || !target.closest(".question, .pager")) return;
    if (/^(INPUT|SELECT|TEXTAREA)$/.test(target.tagName) && target.type !== "radio" && target.type !== "checkbox") return;
    var form = target.closest(".answer-form");
    var digit = parseInt(event.key, 10);
    if (form && digit >= 1 && digit <= 9) {
      var inputs = form.querySelectorAll("input[type=radio], input[type=checkbox]");
      if (inputs[digit - 1]) {
        inputs[digit - 1].click();
        inputs[digit - 1].focus();
        event.preventDefault();
      }
      return;
    }
    var rel = event.key === "n" ? "next" : event.key === "p" ? "prev" : null;
    if (rel) {
      var link = document.querySelector(".pager a[rel=" + rel + "]");
      if (link) link.click();
    }
  });

  // Elapsed-time display for exams; the server keeps the authoritative times.
  var timer = document.querySelector(".timer[data-started]");
  if (timer) {
    var started = Date.parse(timer.getAttribute("data-started"));
    if (!isNaN(started)) {
      timer.hidden = false;
      var tick = function () {
        var seconds = Math.max(0, Math.floor((Date.now() - started) / 1000));
        var minutes = Math.floor(seconds / 60);
        timer.textContent = "Time so far: " + minutes + " min " + (seconds % 60) + " s";
      };
      tick();
      setInterval(tick, 1000);
    }
  }

  // Avoid double submissions from a double click (the server is idempotent anyway).
  document.querySelectorAll("form").forEach(function (form) {
    form.addEventListener("submit", function () {
      var button = form.querySelector("button[type=submit]");
      if (button) setTimeout(function () { button.disabled = true; }, 0);
    });
  });
})();
