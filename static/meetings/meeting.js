// The embedded meeting (the video platform's IFrame API), set up from the options the server wrote into the page.
(function () {
  "use strict";
  var holder = document.getElementById("meeting");
  var data = document.getElementById("meeting-options");
  if (!holder || !data) { return; }
  var options = JSON.parse(data.textContent);
  if (typeof window.JitsiMeetExternalAPI !== "function") {
    holder.textContent = "The video could not be loaded. Please check your connection and reload the page.";
    holder.setAttribute("role", "alert");
    return;
  }
  var csrfInput = document.querySelector("#csrf input[name=csrfmiddlewaretoken]");
  var api = new window.JitsiMeetExternalAPI(options.domain, {
    roomName: options.roomName,
    jwt: options.jwt || undefined,
    parentNode: holder,
    width: "100%",
    height: "100%",
    userInfo: options.userInfo,
    configOverwrite: options.configOverwrite,
    interfaceConfigOverwrite: options.interfaceConfigOverwrite
  });
  var done = false;
  function finished() {
    if (done) { return; }
    done = true;
    var after = holder.dataset.afterUrl;
    var leave = holder.dataset.leaveUrl;
    var go = function () { if (after) { window.location.assign(after); } else { window.location.reload(); } };
    if (!leave) { go(); return; }
    fetch(leave, {
      method: "POST", credentials: "same-origin", referrerPolicy: "same-origin", keepalive: true,
      headers: { "Content-Type": "application/json", "X-CSRFToken": csrfInput ? csrfInput.value : "" }, body: "{}"
    }).catch(function () {}).then(go);
  }
  api.addListener("readyToClose", finished);
  window.appointmentMeeting = api;
}());
