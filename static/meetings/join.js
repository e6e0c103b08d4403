// The participant's page: follows the appointment by polling its status (a 304 while nothing changed), and posts
// each step of the journey (device check, identity, consent, join, leave) as JSON with the CSRF token.
(function () {
  "use strict";
  var main = document.getElementById("main");
  if (!main) { return; }
  var base = main.dataset.baseUrl;
  var csrfInput = document.querySelector("#csrf input[name=csrfmiddlewaretoken]");
  var csrf = csrfInput ? csrfInput.value : "";
  // The page's texts in its language: Django's JavaScript catalogue (meetings/page_language.py) loaded before this
  // script; the English text itself without it.
  var gettext = window.gettext || function (text) { return text; };
  var interpolate = window.interpolate || function (text, named) {
    return text.replace(/%\((\w+)\)s/g, function (all, name) { return named[name]; });
  };

  // The page places itself after each reload (the focus, below): the browser's scrolling back to where the person
  // was before the reload would take the focused heading off the screen.
  if ("scrollRestoration" in window.history) { window.history.scrollRestoration = "manual"; }

  // No lost place (issue 22.3): after a step the page reloads, then says what happened in a live region and moves
  // focus to the next step's heading (the first step not done, else the page's heading).
  // The steps the page's script carries without a form (issue 22.3) say what the reloaded page shows: the device
  // check its verdict, a change staff made the new heading, being let in what was said before the reload.
  function heading() { return document.querySelector("main h1"); }
  function textOf(element) { return element ? element.textContent.replace(/\s+/g, " ").trim() : ""; }
  var DONE = {
    "identity-form": function () { return gettext("Confirmed."); },
    "consent-form": function () { return gettext("Saved."); },
    "join-form": function () { return gettext("Joined."); },
    "leave-form": function () { return gettext("You left the waiting room."); },
    "test-call": function () { return gettext("Saved."); },
    "device-check": function () { return textOf(document.getElementById("device-verdict")) || gettext("Saved."); },
    "changed": function () { return textOf(heading()); },
    "admitted": function (said) { return said || textOf(heading()); }
  };
  // Where focus goes after the reload: the first step still to do, else the page's heading; after a change staff
  // made or being let in, the page's heading, which says where the person now is.
  var TO_HEADING = { changed: true, admitted: true };
  function announceAfterReload(key, said) {
    try {
      window.sessionStorage.setItem("step-done", key);
      window.sessionStorage.setItem("step-said", said || "");
    } catch (ignored) { /* storage off: no message */ }
  }
  var live = document.createElement("p");
  live.id = "step-announcement";
  live.className = "visually-hidden";
  live.setAttribute("role", "status");
  main.appendChild(live);
  var done = null;
  var said = "";
  try {
    done = window.sessionStorage.getItem("step-done");
    said = window.sessionStorage.getItem("step-said") || "";
    window.sessionStorage.removeItem("step-done");
    window.sessionStorage.removeItem("step-said");
  } catch (ignored) { done = null; }
  // The one declaration of what a finished step does, on every page with steps: focus moves to `next`, then the
  // live region (empty at load) says `result`.
  function stepFinished(next, result) {
    // Unless a script before this one moved focus already to something more pressing (meeting.js: the video
    // could not be loaded): that stays where it is, and the result is still announced.
    var focused = document.activeElement;
    if (next && (!focused || focused === document.body || focused === main)) {
      next.setAttribute("tabindex", "-1");
      next.focus();
    }
    // After focus has moved, so a screen reader reads the heading and then the result.
    window.setTimeout(function () { live.textContent = result; }, 100);
  }
  if (done && DONE[done]) {
    stepFinished(TO_HEADING[done] ? heading() : document.querySelector(".steps .step:not(.done) h2") || heading(),
      DONE[done](said));
  } else if (main.dataset.stepFocus !== undefined) {
    // A page of plain forms (the Change or cancel page) says in its markup what its step did: the element to focus
    // (the field or the message in error; else the page's heading) and what to say (a result the script knows by
    // name, else the text of the element named, else of the one focused).
    var target = document.getElementById(main.dataset.stepFocus) || heading();
    var named = main.dataset.stepDone;
    var from = document.getElementById(main.dataset.stepSay || "") || target;
    stepFinished(target, named && DONE[named] ? DONE[named]("") : textOf(from));
  }

  // The rest follows the participant's own page, which polls; the Change or cancel page has only its steps.
  if (!main.dataset.statusUrl) { return; }
  function post(url, body) {
    // The page's own policy sends no referrer; same-origin requests may, so the CSRF origin check can pass.
    return fetch(url, {
      method: "POST",
      credentials: "same-origin",
      referrerPolicy: "same-origin",
      keepalive: true,
      headers: { "Content-Type": "application/json", "X-CSRFToken": csrf },
      body: JSON.stringify(body || {})
    });
  }

  // Follow the appointment: any change of state (the agent started or let this participant in, a reschedule, a
  // cancel, another browser took the link over: "elsewhere") reloads the page.
  var etag = null;
  var basis = null;
  var stopped = false;
  var seconds = Math.max(2, parseInt(main.dataset.pollSeconds, 10) || 5);
  // While the service does not answer (a 503 while its database is down, a 429, the network gone) the page says so
  // calmly, keeps what the person has done, and keeps asking, less often (and never sooner than Retry-After), until
  // the service answers again; then the notice goes.
  var notice = document.createElement("p");
  notice.id = "connection-notice";
  notice.className = "notice connection-notice";
  notice.setAttribute("role", "status");
  main.insertBefore(notice, main.firstChild);
  var failures = 0;
  var UNREACHABLE = gettext("We cannot reach the service just now. This page keeps trying by itself: please keep " +
    "it open, you do not need to do anything.");
  function reached() {
    failures = 0;
    notice.textContent = "";
  }
  function unreachable(retryAfter) {
    failures += 1;
    notice.textContent = UNREACHABLE;
    var wait = Math.min(seconds * Math.pow(2, Math.min(failures, 4)), 30);
    return Math.max(wait, retryAfter || 0);
  }
  function poll() {
    if (stopped) { return; }
    var headers = etag ? { "If-None-Match": etag } : {};
    var next = seconds;
    fetch(main.dataset.statusUrl, { credentials: "same-origin", headers: headers, cache: "no-store" })
      .then(function (response) {
        if (response.status === 304) { reached(); return null; }
        // The link was revoked (a guest's, while waiting or in the meeting): the page says the link is not valid.
        if (response.status === 404) { stopped = true; window.location.reload(); return null; }
        if (!response.ok) {
          next = unreachable(parseInt(response.headers.get("Retry-After"), 10));
          return null;
        }
        etag = response.headers.get("ETag");
        return response.json().then(function (body) {
          reached();
          // A change of state, status or time reloads the page; what the waiting room adds (staff know, a
          // message) is shown in place, so the self-view and what the person is doing stay.
          var key = [body.state, body.status, body.appointment_at, body.duration_in_minutes].join("|");
          if (basis === null) {
            basis = key;
            if (body.state !== main.dataset.state) { window.location.reload(); return; }
          } else if (key !== basis) {
            moveOn(body);
            return;
          }
          waitingNews(body);
        });
      })
      .catch(function () { next = unreachable(0); })
      .then(function () { window.setTimeout(poll, next * 1000); });
  }
  // The waiting room (issue 22.6): that staff know the person is here, the latest message, how long they have
  // waited; when they are let in, the tab's title (and a sound, if they asked for one) says so before the page
  // opens the meeting, so someone reading another tab notices.
  var waiting = document.getElementById("waiting-details");
  var soundBox = document.getElementById("admit-sound");
  function announce(text, target) {
    var region = document.getElementById("waiting-news");
    if (region) { region.textContent = text; }
    // Focus moves to the news only while nothing else has it: a person using a control keeps their place.
    var active = document.activeElement;
    if (target && (!active || active === document.body || active === main)) {
      target.setAttribute("tabindex", "-1");
      target.focus();
    }
  }
  function waitingNews(body) {
    if (!waiting) { return; }
    var know = document.getElementById("staff-know");
    if (body.staff_know && know && know.hidden) {
      know.hidden = false;
      announce(know.textContent, know);
    }
    if (body.message && String(body.message.id) !== waiting.dataset.messageId) {
      waiting.dataset.messageId = String(body.message.id);
      document.getElementById("agent-message-text").textContent = body.message.text;
      var box = document.getElementById("agent-message");
      box.hidden = false;
      var heading = document.getElementById("agent-message-heading");
      announce(heading.textContent + ": " + body.message.text, heading);
    }
  }
  function moveOn(body) {
    stopped = true;
    if (!waiting || body.state !== "meeting") {
      // A change staff made (a cancel, a reschedule, a lock lifted): the new page's heading says what it is.
      announceAfterReload("changed");
      window.location.reload();
      return;
    }
    document.title = waiting.dataset.admittedTitle;
    // Let in: said now, and again on the meeting's page with focus on its heading.
    announce(waiting.dataset.admittedTitle, document.getElementById("waiting-heading"));
    announceAfterReload("admitted", waiting.dataset.admittedTitle);
    if (soundBox && soundBox.checked) {
      try { new Audio(waiting.dataset.soundUrl).play().catch(function () {}); } catch (e) { /* no sound here */ }
    }
    window.setTimeout(function () { window.location.reload(); }, 1500);
  }
  if (soundBox) {
    try { soundBox.checked = window.localStorage.getItem("admit-sound") === "on"; } catch (e) { /* storage off */ }
    soundBox.addEventListener("change", function () {
      try { window.localStorage.setItem("admit-sound", soundBox.checked ? "on" : "off"); } catch (e) { /* off */ }
    });
  }
  var waited = document.getElementById("waited");
  if (waited) {
    var since = new Date(waited.dataset.since);
    window.setInterval(function () {
      if (!isNaN(since)) { waited.textContent = String(Math.max(0, Math.floor((Date.now() - since) / 60000))); }
    }, 20000);
  }

  // A locked page polls too: staff unlocking the link changes it by itself.
  if (["unavailable", "missed", "completed"].indexOf(main.dataset.state) === -1) { poll(); }

  // Two tabs of one browser (the server tells browsers apart, not tabs): the tab that last came into the waiting
  // room or the meeting has the appointment; an earlier one lets it go (its meeting closes, its polling stops) and
  // offers to take it back, so the claimant never joins twice.
  var otherTab = document.getElementById("other-tab");
  if (otherTab && "BroadcastChannel" in window) {
    var tab = String(Math.random()).slice(2) + String(Date.now());
    var channel = new BroadcastChannel("appointment " + main.dataset.baseUrl);
    channel.onmessage = function (event) {
      if (stopped || !event.data || event.data.tab === tab) { return; }
      stopped = true;
      // What the call covered (meeting.js) is back in the focus order.
      Array.prototype.forEach.call(document.querySelectorAll("[inert]"), function (element) { element.inert = false; });
      if (window.appointmentMeeting && typeof window.appointmentMeeting.dispose === "function") {
        window.appointmentMeeting.dispose();
      }
      Array.prototype.forEach.call(main.children, function (child) {
        child.hidden = child !== otherTab && !child.classList.contains("org") && !child.classList.contains("contact");
      });
      otherTab.hidden = false;
      document.getElementById("other-tab-heading").focus();
    };
    channel.postMessage({ tab: tab });
    document.getElementById("use-this-tab").addEventListener("click", function () { window.location.reload(); });
  }

  // Each step form posts JSON and reloads on success; errors are shown next to the form.
  function step(id, read) {
    var form = document.getElementById(id);
    if (!form) { return; }
    form.addEventListener("submit", function (event) {
      event.preventDefault();
      var error = form.querySelector(".error");
      var body = read(form);
      if (body === null) { return; }
      post(form.action, body).then(function (response) {
        if (response.ok) { announceAfterReload(form.id); window.location.reload(); return; }
        if (response.status === 503 || response.status === 429) {
          if (error) { error.textContent = gettext("The service is not answering just now. Please try again in a moment."); }
          return;
        }
        return response.json().then(function (data) {
          if (response.status === 423) { window.location.reload(); return; }
          if (error) { error.textContent = data.message || gettext("Something went wrong. Please try again."); }
          // The field the server named (the identity check's day, month or year) is marked and focused.
          var named = data.errors ? Object.keys(data.errors)[0] : null;
          var field = named ? form.querySelector("input[name=" + named + "]") : null;
          if (field) { field.setAttribute("aria-invalid", "true"); field.focus(); }
        });
      }).catch(function () {
        if (error) { error.textContent = gettext("No connection. Please try again."); }
      });
    });
  }
  // The date of birth in three fields (GOV.UK's memorable date): the server reads and checks them, and a mistake
  // in the format is never counted as a wrong try. A whole date pasted into one field (17/05/1990, 17 5 1990,
  // 1990-05-17) is spread over the three.
  function dateParts(form) {
    return ["day", "month", "year"].map(function (name) { return form.querySelector("input[name=" + name + "]"); });
  }
  var identity = document.getElementById("identity-form");
  if (identity) {
    dateParts(identity).forEach(function (input) {
      input.addEventListener("paste", function (event) {
        var text = (event.clipboardData || window.clipboardData).getData("text").trim();
        var iso = /^(\d{4})-(\d{1,2})-(\d{1,2})$/.exec(text);
        var uk = /^(\d{1,2})[\/.\s-]+(\d{1,2})[\/.\s-]+(\d{4})$/.exec(text);
        var parts = iso ? [iso[3], iso[2], iso[1]] : uk ? [uk[1], uk[2], uk[3]] : null;
        if (!parts) { return; }
        event.preventDefault();
        dateParts(identity).forEach(function (field, index) { field.value = parts[index]; });
      });
    });
  }
  step("identity-form", function (form) {
    var fields = dateParts(form);
    form.querySelectorAll(".date-part").forEach(function (field) { field.removeAttribute("aria-invalid"); });
    return { day: fields[0].value, month: fields[1].value, year: fields[2].value };
  });
  step("consent-form", function (form) {
    var chosen = form.querySelector("input[name=consent]:checked");
    if (!chosen) {
      form.querySelector(".error").textContent = gettext("Choose yes or no.");
      return null;
    }
    return { consent: chosen.value === "true" };
  });
  step("join-form", function () { return {}; });
  step("leave-form", function () { return {}; });

  // The device check: camera and microphone permission with a live preview, then a timed download. A device
  // that fails is recorded with why (refused, none found, could not start): the page then says so, with help.
  function problem(error) {
    var name = error && error.name;
    if (name === "NotAllowedError" || name === "SecurityError" || name === "PermissionDeniedError") { return "blocked"; }
    if (name === "NotFoundError" || name === "DevicesNotFoundError" || name === "OverconstrainedError") { return "missing"; }
    return "unavailable";
  }
  function ask(constraints) {
    if (!navigator.mediaDevices || !navigator.mediaDevices.getUserMedia) {
      return Promise.resolve({ error: { name: "NotSupportedError" } });
    }
    return navigator.mediaDevices.getUserMedia(constraints)
      .then(function (stream) { return { stream: stream }; }, function (error) { return { error: error }; });
  }
  function askEach() {
    // Both at once first (one prompt); when that fails, each alone, to learn which one failed and why.
    return ask({ video: true, audio: true }).then(function (both) {
      if (both.stream) { return { video: both, audio: both }; }
      return ask({ video: true }).then(function (video) {
        return ask({ audio: true }).then(function (audio) { return { video: video, audio: audio }; });
      });
    });
  }
  var words = {
    blocked: gettext("blocked by your browser"),
    missing: gettext("none found"),
    unavailable: gettext("could not be started")
  };
  var check = document.getElementById("device-check");
  if (check) {
    check.addEventListener("click", function () {
      var result = document.getElementById("device-result");
      var preview = document.getElementById("preview");
      var found = { camera: false, microphone: false, downlink_kbps: null };
      // Marked unavailable, not disabled: a disabled button loses the keyboard's focus to the page's body.
      if (check.getAttribute("aria-disabled") === "true") { return; }
      check.setAttribute("aria-disabled", "true");
      result.textContent = gettext("Checking…");
      askEach().then(function (got) {
        var streams = [];
        [["camera", got.video, "getVideoTracks"], ["microphone", got.audio, "getAudioTracks"]].forEach(function (d) {
          if (d[1].stream && d[1].stream[d[2]]().length > 0) {
            found[d[0]] = true;
            if (streams.indexOf(d[1].stream) === -1) { streams.push(d[1].stream); }
          } else {
            found[d[0] + "_problem"] = d[1].error ? problem(d[1].error) : "missing";
          }
        });
        if (found.camera) {
          preview.srcObject = got.video.stream;
          preview.hidden = false;
        }
        window.setTimeout(function () {
          streams.forEach(function (stream) { stream.getTracks().forEach(function (t) { t.stop(); }); });
        }, 4000);
      }).then(function () {
        // The connection is timed against the video platform's host where the page can reach it (its script, read
        // across origins where the platform allows it), else against this service's own download (issue 22.5).
        function timed(url, options, target) {
          var started = performance.now();
          return fetch(url, options).then(function (response) {
            if (!response.ok) { throw new Error("not reachable"); }
            return response.arrayBuffer();
          }).then(function (data) {
            if (data.byteLength < 1024) { throw new Error("too small to time"); }
            var seconds = Math.max((performance.now() - started) / 1000, 0.001);
            found.downlink_kbps = Math.round((data.byteLength * 8) / 1000 / seconds);
            found.connection_to = target;
          });
        }
        function service() {
          return timed(base + "/speed-test", { credentials: "same-origin", cache: "no-store" }, "service");
        }
        var call = document.getElementById("test-call");
        var video = call && call.dataset.videoBase;
        var measured = video
          ? timed(video + "/external_api.js", { mode: "cors", credentials: "omit", cache: "no-store" }, "video")
            .catch(service)
          : service();
        return measured.catch(function () { /* measured as unknown */ });
      }).then(function () {
        var call = document.getElementById("test-call");
        if (call && call.dataset.peak) { found.microphone_peak = parseFloat(call.dataset.peak); }
        return post(base + "/device-check", found);
      }).then(function (response) {
        result.textContent = interpolate(gettext("Camera: %(camera)s. Microphone: %(microphone)s."), {
          camera: found.camera ? gettext("working") : words[found.camera_problem],
          microphone: found.microphone ? gettext("working") : words[found.microphone_problem]
        }, true);
        if (response.ok) {
          announceAfterReload("device-check");
          window.setTimeout(function () { window.location.reload(); }, 1500);
        }
        else { check.removeAttribute("aria-disabled"); }
      }).catch(function () {
        check.removeAttribute("aria-disabled");
        result.textContent = gettext("The check could not be saved. Please try again.");
      });
    });
  }

  // How to allow the camera and microphone: the steps for this visitor's browser open by themselves.
  var help = document.getElementById("device-help");
  if (help) {
    var agent = navigator.userAgent;
    var kind = /iPhone|iPad|iPod/.test(agent) || (/Macintosh/.test(agent) && navigator.maxTouchPoints > 1) ? "ios"
      : /Android/.test(agent) ? "android"
      : /Firefox\//.test(agent) ? "firefox"
      : /Edg\/|Chrome\/|Chromium\//.test(agent) ? "chromium"
      : /Safari\//.test(agent) ? "safari" : "";
    var steps = help.querySelector("details[data-browser='" + kind + "']");
    if (steps) { steps.open = true; }
  }
}());
