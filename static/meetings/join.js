// The participant's page: follows the appointment by polling its status (a 304 while nothing changed), and posts
// each step of the journey (device check, identity, consent, join, leave) as JSON with the CSRF token.
(function () {
  "use strict";
  var main = document.getElementById("main");
  if (!main || !main.dataset.statusUrl) { return; }
  var base = main.dataset.baseUrl;
  var csrfInput = document.querySelector("#csrf input[name=csrfmiddlewaretoken]");
  var csrf = csrfInput ? csrfInput.value : "";

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

  // Times in the participant's own time zone (the server writes them in UTC).
  document.querySelectorAll("time.local-time").forEach(function (node) {
    var when = new Date(node.getAttribute("datetime"));
    if (isNaN(when)) { return; }
    var long = node.textContent.indexOf(",") !== -1;
    var options = long
      ? { weekday: "long", day: "numeric", month: "long", year: "numeric", hour: "2-digit", minute: "2-digit", timeZoneName: "short" }
      : { hour: "2-digit", minute: "2-digit", timeZoneName: "short" };
    node.textContent = new Intl.DateTimeFormat(undefined, options).format(when) + " (your time)";
  });

  // Follow the appointment: any change of state (the agent started or let this participant in, a reschedule, a
  // cancel, another browser took the link over: "elsewhere") reloads the page.
  var etag = null;
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
  var UNREACHABLE = "We cannot reach the service just now. This page keeps trying by itself: please keep it open, " +
    "you do not need to do anything.";
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
        var first = etag === null;
        etag = response.headers.get("ETag");
        return response.json().then(function (body) {
          reached();
          if (!first || body.state !== main.dataset.state) { window.location.reload(); }
        });
      })
      .catch(function () { next = unreachable(0); })
      .then(function () { window.setTimeout(poll, next * 1000); });
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
        if (response.ok) { window.location.reload(); return; }
        if (response.status === 503 || response.status === 429) {
          if (error) { error.textContent = "The service is not answering just now. Please try again in a moment."; }
          return;
        }
        return response.json().then(function (data) {
          if (response.status === 423) { window.location.reload(); return; }
          if (error) { error.textContent = data.message || "Something went wrong. Please try again."; }
        });
      }).catch(function () {
        if (error) { error.textContent = "No connection. Please try again."; }
      });
    });
  }
  step("identity-form", function (form) {
    var input = form.querySelector("input[name=date_of_birth]");
    if (!input.value) {
      form.querySelector(".error").textContent = "Enter your date of birth.";
      input.focus();
      return null;
    }
    return { date_of_birth: input.value };
  });
  step("consent-form", function (form) {
    var chosen = form.querySelector("input[name=consent]:checked");
    if (!chosen) {
      form.querySelector(".error").textContent = "Choose yes or no.";
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
  var words = { blocked: "blocked by your browser", missing: "none found", unavailable: "could not be started" };
  var check = document.getElementById("device-check");
  if (check) {
    check.addEventListener("click", function () {
      var result = document.getElementById("device-result");
      var preview = document.getElementById("preview");
      var found = { camera: false, microphone: false, downlink_kbps: null };
      check.disabled = true;
      result.textContent = "Checking…";
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
        var started = performance.now();
        return fetch(base + "/speed-test", { credentials: "same-origin", cache: "no-store" })
          .then(function (response) { return response.arrayBuffer(); })
          .then(function (data) {
            var seconds = Math.max((performance.now() - started) / 1000, 0.001);
            found.downlink_kbps = Math.round((data.byteLength * 8) / 1000 / seconds);
          }).catch(function () { /* measured as unknown */ });
      }).then(function () {
        return post(base + "/device-check", found);
      }).then(function (response) {
        result.textContent = "Camera: " + (found.camera ? "working" : words[found.camera_problem]) +
          ". Microphone: " + (found.microphone ? "working" : words[found.microphone_problem]) + ".";
        if (response.ok) { window.setTimeout(function () { window.location.reload(); }, 1500); }
        else { check.disabled = false; }
      }).catch(function () {
        check.disabled = false;
        result.textContent = "The check could not be saved. Please try again.";
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
