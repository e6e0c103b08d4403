// The embedded meeting (the video platform's IFrame API), set up from the options the server wrote into the page.
(function () {
  "use strict";
  var holder = document.getElementById("meeting");
  var data = document.getElementById("meeting-options");
  if (!holder || !data) { return; }
  var options = JSON.parse(data.textContent);
  var csrfInput = document.querySelector("#csrf input[name=csrfmiddlewaretoken]");
  function postJson(url) {
    return fetch(url, {
      method: "POST", credentials: "same-origin", referrerPolicy: "same-origin", keepalive: true,
      headers: { "Content-Type": "application/json", "X-CSRFToken": csrfInput ? csrfInput.value : "" }, body: "{}"
    });
  }
  // The agent's page beats while it is open, as the participants' pages poll: a session nobody ended is
  // completed only once every page has been closed for a while.
  if (holder.dataset.heartbeatUrl) {
    var every = Math.max(2, parseInt(holder.dataset.pollSeconds, 10) || 5) * 1000;
    window.setInterval(function () { postJson(holder.dataset.heartbeatUrl).catch(function () {}); }, every);
  }
  // Who waits to be let in (an interpreter, a guest), with Admit: the agent admits them without leaving the call.
  var admission = document.getElementById("admission");
  if (admission && admission.dataset.waitingUrl) {
    var list = document.getElementById("admission-list");
    var shown = "";
    var refresh = function () {
      fetch(admission.dataset.waitingUrl, { credentials: "same-origin", cache: "no-store" })
        .then(function (response) { return response.ok ? response.json() : null; })
        .then(function (body) {
          if (!body) { return; }
          var key = JSON.stringify(body.waiting);
          if (key === shown) { return; }
          shown = key;
          list.textContent = "";
          body.waiting.forEach(function (person) {
            var item = document.createElement("li");
            var text = document.createElement("span");
            text.textContent = person.name + " (" + person.role + ")" +
              (person.declined_recording ? ": said no to the recording" : "");
            var button = document.createElement("button");
            button.type = "button";
            button.className = "button";
            button.textContent = "Admit " + person.name;
            button.addEventListener("click", function () {
              button.disabled = true;
              fetch(person.admit_url, {
                method: "POST", credentials: "same-origin", referrerPolicy: "same-origin",
                headers: { "Content-Type": "application/x-www-form-urlencoded", "X-CSRFToken": csrfInput ? csrfInput.value : "" },
                body: "from=meeting"
              }).catch(function () {}).then(refresh);
            });
            item.appendChild(text);
            item.appendChild(button);
            list.appendChild(item);
          });
          admission.hidden = body.waiting.length === 0;
        })
        .catch(function () {});
    };
    refresh();
    window.setInterval(refresh, Math.max(2, parseInt(holder.dataset.pollSeconds, 10) || 5) * 1000);
  }
  if (typeof window.JitsiMeetExternalAPI !== "function") {
    // The platform's script did not load: the page's own message (readable, with a way back and, for the agent,
    // "End the session" above), instead of the dark stage covering everything.
    var failed = document.getElementById("video-failed");
    holder.classList.add("failed");
    if (failed) {
      holder.hidden = true;
      failed.hidden = false;
      failed.setAttribute("role", "alert");
      failed.querySelector("h2").focus();
    } else {
      holder.textContent = "The video could not be loaded. Please check your connection and reload the page.";
      holder.setAttribute("role", "alert");
    }
    return;
  }
  var api = new window.JitsiMeetExternalAPI(options.domain, {
    roomName: options.roomName,
    jwt: options.jwt || undefined,
    parentNode: holder,
    width: "100%",
    height: "100%",
    userInfo: options.userInfo,
    lang: options.lang,
    configOverwrite: options.configOverwrite,
    interfaceConfigOverwrite: options.interfaceConfigOverwrite
  });
  // The platform's iframe comes without a name; a screen reader says this one (WCAG 4.1.2).
  var frame = typeof api.getIFrame === "function" ? api.getIFrame() : holder.querySelector("iframe");
  if (frame && !frame.getAttribute("title")) {
    var gettext = window.gettext || function (text) { return text; };
    frame.setAttribute("title", gettext("Video call"));
  }
  // On the participant's page the call covers the whole screen: what it covers leaves the focus order and the
  // accessibility tree while it is there (WCAG 2.4.11), so no key moves focus onto something nobody can see.
  if (window.getComputedStyle(holder).position === "fixed") {
    var covered = Array.prototype.slice.call(document.body.children).concat(Array.prototype.slice.call(holder.parentNode.children));
    covered.forEach(function (element) {
      // Only what holds something focusable: headings and live regions stay, so what the page says is still heard.
      var focusable = "a[href], button, input, select, textarea, summary, [tabindex]:not([tabindex='-1'])";
      if (!element.contains(holder) && !element.hidden && element.querySelector(focusable)) { element.inert = true; }
    });
  }
  var done = false;
  function finished() {
    if (done) { return; }
    done = true;
    var after = holder.dataset.afterUrl;
    var leave = holder.dataset.leaveUrl;
    var go = function () { if (after) { window.location.assign(after); } else { window.location.reload(); } };
    if (!leave) { go(); return; }
    postJson(leave).catch(function () {}).then(go);
  }
  api.addListener("readyToClose", finished);
  window.appointmentMeeting = api;
}());
