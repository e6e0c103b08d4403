// Back office: copy a participant's link, and refresh the waiting room by itself.
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
  var room = document.querySelector(".waiting-room[data-refresh-url]");
  if (!room) { return; }
  var target = document.getElementById("waiting-rows");
  var seconds = parseInt(room.dataset.refreshSeconds, 10) || 5;
  function refresh() {
    fetch(room.dataset.refreshUrl, { credentials: "same-origin", cache: "no-store" })
      .then(function (response) { return response.ok ? response.text() : null; })
      .then(function (html) { if (html !== null) { target.innerHTML = html; } })
      .catch(function () {})
      .then(function () { window.setTimeout(refresh, seconds * 1000); });
  }
  window.setTimeout(refresh, seconds * 1000);
}());
