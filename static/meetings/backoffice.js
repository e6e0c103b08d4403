// Back office: copy a participant's link.
(function () {
  "use strict";
  document.addEventListener("click", function (event) {
    var button = event.target.closest ? event.target.closest("button.copy-link") : null;
    if (!button) { return; }
    event.preventDefault();
    var text = button.dataset.copy;
    var done = function () { button.textContent = "Copied"; window.setTimeout(function () { button.textContent = "Copy"; }, 2000); };
    if (navigator.clipboard && window.isSecureContext) {
      navigator.clipboard.writeText(text).then(done, function () {});
    } else {
      var field = button.previousElementSibling;
      if (field && field.select) { field.select(); document.execCommand("copy"); done(); }
    }
  });
  // The waiting room refreshes itself through the back office's one live mechanism (static/appointments/live.js).
}());
