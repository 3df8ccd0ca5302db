// Study mode, progressive enhancement only: every study page works without it.
(function () {
  "use strict";

  var zone = "";
  try {
    zone = Intl.DateTimeFormat().resolvedOptions().timeZone || "";
  } catch (error) {
    zone = "";
  }
  // The browser's zone: used by the server while the learner has no settings.
  document.querySelectorAll("input.js-zone").forEach(function (input) {
    input.value = zone;
  });
  var settings = document.querySelector("form.settings-form[data-saved='0']");
  if (settings && zone) {
    var select = settings.querySelector("select[name=time_zone]");
    if (select && select.querySelector("option[value='" + zone.replace(/'/g, "") + "']")) {
      select.value = zone;
    }
  }

  // Keys 1-4 rate and Enter takes the suggested rating, while focus is not in a
  // text box; a checkbox turns them off, remembered here (WCAG 2.1.4).
  var form = document.querySelector("form.rating-form");
  var toggle = document.getElementById("study-keys");
  if (!form || !toggle) return;
  var KEY = "quizapp-study-keys";
  var stored = null;
  try {
    stored = window.localStorage.getItem(KEY);
  } catch (error) {
    stored = null;
  }
  toggle.checked = stored !== "off";
  toggle.closest(".study-keys").hidden = false;
  toggle.addEventListener("change", function () {
    try {
      window.localStorage.setItem(KEY, toggle.checked ? "on" : "off");
    } catch (error) {
      // Private mode: the switch still works for this page.
    }
  });
  document.addEventListener("keydown", function (event) {
    if (!toggle.checked || event.altKey || event.ctrlKey || event.metaKey) return;
    var target = event.target;
    if (target && (/^(INPUT|SELECT|TEXTAREA)$/.test(target.tagName) || target.isContentEditable)) return;
    var button = null;
    if (/^[1-4]$/.test(event.key)) {
      button = form.querySelector("button[name=rating][value='" + event.key + "']");
    } else if (event.key === "Enter") {
      if (target && /^(BUTTON|A|SUMMARY)$/.test(target.tagName)) return; // its own action
      button = form.querySelector("button.suggested");
    }
    if (button) {
      event.preventDefault();
      button.click();
    }
  });
})();
