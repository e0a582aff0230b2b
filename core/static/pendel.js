// Small enhancements only: every page works without this file.
(function () {
  "use strict";
  // A button with data-confirm asks before its form is sent (the server still asks again where it matters).
  document.addEventListener("submit", function (event) {
    var button = event.submitter;
    var question = (button && button.getAttribute("data-confirm")) || event.target.getAttribute("data-confirm");
    if (question && !window.confirm(question)) { event.preventDefault(); }
  });
  // Copy buttons: <button data-copy="#field-id">.
  document.addEventListener("click", function (event) {
    var button = event.target.closest("[data-copy]");
    if (!button) { return; }
    var field = document.querySelector(button.getAttribute("data-copy"));
    if (!field) { return; }
    field.select();
    if (navigator.clipboard) { navigator.clipboard.writeText(field.value); } else { document.execCommand("copy"); }
    var done = button.getAttribute("data-copied");
    if (done) { button.textContent = done; }
  });
  // Selects with data-autosubmit send their filter form on change.
  document.addEventListener("change", function (event) {
    if (event.target.matches("select[data-autosubmit]")) { event.target.form.requestSubmit(); }
  });
})();
