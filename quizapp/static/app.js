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

  // Put-in-order questions: Move up / Move down buttons beside each item. The
  // position selects stay the form's answer (and work alone without this file);
  // a move reorders the list and renumbers the selects to match, and a polite
  // live region says where the item went.
  document.querySelectorAll("[data-reorder]").forEach(function (list) {
    var status = list.parentNode.querySelector("[data-reorder-status]");
    var rows = function () { return Array.prototype.slice.call(list.children); };
    var select = function (row) { return row.querySelector("select"); };
    var label = function (row) { return row.querySelector("label").textContent.trim(); };
    var isPermutation = function () {
      var seen = {};
      return rows().every(function (row) {
        var value = select(row).value;
        if (!value || seen[value]) return false;
        seen[value] = true;
        return true;
      });
    };
    // Show the items in the order their selects give (an answer shown again).
    var sortByPosition = function () {
      if (!isPermutation()) return;
      rows()
        .sort(function (a, b) { return select(a).value - select(b).value; })
        .forEach(function (row) { list.appendChild(row); });
    };
    var renumber = function () {
      rows().forEach(function (row, index) { select(row).value = String(index + 1); });
    };
    var move = function (row, step, button) {
      var all = rows();
      var index = all.indexOf(row);
      var target = index + step;
      var name = "“" + label(row) + "”";
      if (target < 0 || target >= all.length) {
        status.textContent = name + " is already " + (step < 0 ? "first." : "last.");
        return;
      }
      list.insertBefore(row, step < 0 ? all[target] : all[target].nextSibling);
      renumber();
      button.focus();  // moving the row took focus away from its button
      status.textContent = name + " moved to position " + (target + 1) + " of " + all.length + ".";
    };
    rows().forEach(function (row) {
      var tools = document.createElement("span");
      tools.className = "order-moves";
      [["Move up", -1], ["Move down", 1]].forEach(function (spec) {
        var button = document.createElement("button");
        button.type = "button";
        button.className = "secondary order-move";
        button.textContent = spec[0];
        var hidden = document.createElement("span");
        hidden.className = "visually-hidden";
        hidden.textContent = " " + label(row);
        button.appendChild(hidden);
        button.addEventListener("click", function () { move(row, spec[1], button); });
        tools.appendChild(button);
      });
      row.appendChild(tools);
      select(row).addEventListener("change", sortByPosition);
    });
    sortByPosition();
  });

  // Avoid double submissions from a double click (the server is idempotent anyway).
  document.querySelectorAll("form").forEach(function (form) {
    form.addEventListener("submit", function () {
      var button = form.querySelector("button[type=submit]");
      if (button) setTimeout(function () { button.disabled = true; }, 0);
    });
  });
})();
