// coffer console: small enhancements over plain forms. Nothing here is
// needed to use the console, except the copy buttons.
"use strict";
(function () {
  // Times: shown in the browser's zone; the UTC value stays in the title.
  function localTimes() {
    document.querySelectorAll("time[datetime]").forEach(function (el) {
      var d = new Date(el.getAttribute("datetime"));
      if (!isNaN(d)) { el.textContent = d.toLocaleString(); }
    });
  }

  // Copy buttons copy the text of the element they name.
  function copyButtons() {
    document.querySelectorAll("button.copy[data-copy]").forEach(function (b) {
      b.addEventListener("click", function () {
        var el = document.getElementById(b.getAttribute("data-copy"));
        if (!el) { return; }
        var text = el.textContent;
        var done = function () { b.textContent = "Copied"; };
        if (navigator.clipboard && window.isSecureContext) {
          navigator.clipboard.writeText(text).then(done, function () {});
        } else {
          var r = document.createRange();
          r.selectNodeContents(el);
          var s = window.getSelection();
          s.removeAllRanges();
          s.addRange(r);
          if (document.execCommand("copy")) { done(); }
          s.removeAllRanges();
        }
      });
    });
  }

  // Forms marked data-confirm ask before they post.
  function confirms() {
    document.querySelectorAll("form[data-confirm]").forEach(function (f) {
      f.addEventListener("submit", function (e) {
        if (!window.confirm(f.getAttribute("data-confirm"))) { e.preventDefault(); }
      });
    });
  }

  // Escape leaves a page that has somewhere to go back to (a revealed
  // value, a confirmation).
  function escapeKey() {
    var el = document.querySelector("[data-escape]");
    if (!el) { return; }
    document.addEventListener("keydown", function (e) {
      if (e.key === "Escape") { window.location.assign(el.getAttribute("data-escape")); }
    });
  }

  // A revealed value is removed from the page when it is left, so that
  // the back button does not show it again.
  function hideOnLeave() {
    window.addEventListener("pagehide", function () {
      document.querySelectorAll(".value").forEach(function (el) { el.textContent = ""; });
    });
  }

  // The key-value editor gets a row per click of "Add a row".
  function kvEditor() {
    var add = document.getElementById("add-row");
    if (!add) { return; }
    add.addEventListener("click", function () {
      var rows = document.querySelectorAll("#kv-editor .kv-row");
      var last = rows[rows.length - 1];
      var row = last.cloneNode(true);
      var n = rows.length;
      row.querySelectorAll("input").forEach(function (inp) {
        var id = inp.name + n;
        inp.id = id;
        inp.value = "";
        var label = inp.previousElementSibling;
        if (label && label.tagName === "LABEL") { label.htmlFor = id; }
      });
      last.after(row);
      row.querySelector("input").focus();
    });
  }

  document.addEventListener("DOMContentLoaded", function () {
    localTimes();
    copyButtons();
    confirms();
    escapeKey();
    hideOnLeave();
    kvEditor();
  });
})();
