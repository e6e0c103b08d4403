// The test call (issue 22.5): a live self-view and microphone level that stay on the device check's step and in the
// waiting room (started again by itself after each step's reload, once the browser has allowed the camera or the
// microphone), the choice of camera, microphone and speaker, a test sound ("Did you hear it?") and joining by audio
// only. The answers are posted to the test call's address; the page then reloads, as every step does, for the
// verdict the server writes.
(function () {
  "use strict";
  var box = document.getElementById("test-call");
  if (!box || !navigator.mediaDevices || !navigator.mediaDevices.getUserMedia) { return; }
  var preview = document.getElementById("preview");
  var meter = document.getElementById("mic-level");
  var csrfInput = document.querySelector("#csrf input[name=csrfmiddlewaretoken]");
  var stream = null;
  var peak = 0;
  var audio = null;
  var STORE = "test-call-devices";
  var choice = document.getElementById("device-choice");

  // What starts by itself (below) has its place from the first paint (the templates keep it: the self-view where
  // the camera worked, the choice of devices invisible until filled), so nothing under it moves when a slow camera
  // starts. The places are given back if they do not start.
  function giveBack() {
    if (preview && !preview.srcObject) { preview.hidden = true; }
    if (choice.classList.contains("starting")) {
      choice.hidden = true;
      choice.classList.remove("starting");
    }
  }

  function remembered() {
    try { return JSON.parse(window.localStorage.getItem(STORE) || "{}") || {}; } catch (e) { return {}; }
  }
  function remember(kind, id) {
    var chosen = remembered();
    chosen[kind] = id;
    try { window.localStorage.setItem(STORE, JSON.stringify(chosen)); } catch (e) { /* storage off */ }
  }

  // The microphone's level, from Web Audio's analyser: the loudest sample of each frame, shown on the meter.
  function listen(source) {
    var Context = window.AudioContext || window.webkitAudioContext;
    if (!Context || source.getAudioTracks().length === 0) { return; }
    if (audio) { audio.close(); }
    audio = new Context();
    var analyser = audio.createAnalyser();
    analyser.fftSize = 1024;
    audio.createMediaStreamSource(source).connect(analyser);
    var samples = new Float32Array(analyser.fftSize);
    var context = audio;
    function frame() {
      if (context !== audio) { return; }
      analyser.getFloatTimeDomainData(samples);
      var loudest = 0;
      for (var i = 0; i < samples.length; i += 1) { loudest = Math.max(loudest, Math.abs(samples[i])); }
      loudest = Math.min(1, loudest);
      peak = Math.max(peak, loudest);
      if (meter) { meter.value = loudest; }
      box.dataset.peak = peak.toFixed(3);
      window.setTimeout(frame, 100);
    }
    if (audio.state === "suspended") { audio.resume().catch(function () {}); }
    frame();
  }

  function fill(select, devices, kind, current) {
    select.textContent = "";
    devices.filter(function (d) { return d.kind === kind; }).forEach(function (d, index) {
      var option = document.createElement("option");
      option.value = d.deviceId;
      option.textContent = d.label || (kind + " " + (index + 1));
      option.selected = d.deviceId === current;
      select.appendChild(option);
    });
    return select.options.length;
  }

  function choices() {
    return navigator.mediaDevices.enumerateDevices().then(function (devices) {
      var chosen = remembered();
      var video = stream && stream.getVideoTracks()[0];
      var sound = stream && stream.getAudioTracks()[0];
      fill(document.getElementById("camera-choice"), devices, "videoinput",
        video ? video.getSettings().deviceId : chosen.videoinput);
      fill(document.getElementById("microphone-choice"), devices, "audioinput",
        sound ? sound.getSettings().deviceId : chosen.audioinput);
      var speakers = fill(document.getElementById("speaker-choice"), devices, "audiooutput", chosen.audiooutput);
      // Choosing a speaker needs setSinkId (not every browser has it): without it the system's own is used.
      document.getElementById("speaker-line").hidden = !(speakers > 0 && "setSinkId" in HTMLMediaElement.prototype);
      choice.hidden = false;
      choice.classList.remove("starting");
    }).catch(giveBack);
  }

  // `allowed`: what to ask for (by itself the page asks only for what the browser already allows); both when the
  // person asked (the check, a device chosen).
  function start(allowed) {
    var chosen = remembered();
    var want = allowed || { video: true, audio: true };
    var constraints = {
      video: want.video && (chosen.videoinput ? { deviceId: { exact: chosen.videoinput } } : true),
      audio: want.audio && (chosen.audioinput ? { deviceId: { exact: chosen.audioinput } } : true)
    };
    var ask = navigator.mediaDevices.getUserMedia(constraints).catch(function (error) {
      // No camera: the level and the sound still help (where the microphone may be asked for).
      if (!(want.video && want.audio)) { throw error; }
      return navigator.mediaDevices.getUserMedia({ audio: true });
    });
    return ask.then(function (got) {
      if (stream) { stream.getTracks().forEach(function (t) { t.stop(); }); }
      stream = got;
      if (preview && got.getVideoTracks().length > 0) {
        preview.srcObject = got;
        preview.hidden = false;
      } else if (preview) {
        preview.srcObject = null;
        preview.hidden = true;
      }
      listen(got);
      // Started once everything it shows is in place (the self-view, the level, the choice of devices).
      return choices().then(function () { box.dataset.started = "1"; });
    }).catch(giveBack); // refused: the device check's result already says so
  }

  ["camera-choice", "microphone-choice"].forEach(function (id) {
    var select = document.getElementById(id);
    select.addEventListener("change", function () {
      remember(id === "camera-choice" ? "videoinput" : "audioinput", select.value);
      start();
    });
  });
  document.getElementById("speaker-choice").addEventListener("change", function (event) {
    remember("audiooutput", event.target.value);
  });

  // Started again by itself only where the browser already allowed it (no prompt out of the blue); the device
  // check's own button asks the first time.
  function allowed(name) {
    if (!navigator.permissions || !navigator.permissions.query) { return Promise.resolve(false); }
    return navigator.permissions.query({ name: name }).then(function (s) { return s.state === "granted"; },
      function () { return false; });
  }
  if (box.dataset.live) {
    Promise.all([allowed("camera"), allowed("microphone")]).then(function (both) {
      // A camera the browser no longer allows shows no picture: its place goes at once, not once the rest starts.
      if (!both[0] && preview && !preview.srcObject) { preview.hidden = true; }
      if (both[0] || both[1]) { start({ video: both[0], audio: both[1] }); } else { giveBack(); }
    });
  }
  var check = document.getElementById("device-check");
  if (check) {
    check.addEventListener("click", function () {
      // Once per check: join.js marks the button unavailable while it checks (this script runs first).
      if (check.getAttribute("aria-disabled") !== "true") { window.setTimeout(function () { start(); }, 500); }
    });
  }

  function answer(body) {
    var error = document.getElementById("test-call-error");
    body.microphone_peak = Math.round(peak * 1000) / 1000;
    return fetch(box.dataset.testCallUrl, {
      method: "POST",
      credentials: "same-origin",
      referrerPolicy: "same-origin",
      headers: { "Content-Type": "application/json", "X-CSRFToken": csrfInput ? csrfInput.value : "" },
      body: JSON.stringify(body)
    }).then(function (response) {
      if (response.ok) {
        // Announced after the reload, with focus on the step still to do (join.js, issue 22.3).
        try { window.sessionStorage.setItem("step-done", "test-call"); } catch (ignored) { /* storage off */ }
        window.location.reload();
        return;
      }
      return response.json().then(function (data) { if (error) { error.textContent = data.message || ""; } });
    }).catch(function () { if (error) { error.textContent = box.dataset.error || ""; } });
  }

  // The test sound, on the chosen speaker where the browser lets the page choose.
  var play = document.getElementById("play-sound");
  if (play) {
    play.addEventListener("click", function () {
      var sound = new Audio(box.dataset.soundUrl);
      var speaker = document.getElementById("speaker-choice").value;
      var ready = speaker && sound.setSinkId ? sound.setSinkId(speaker).catch(function () {}) : Promise.resolve();
      ready.then(function () { return sound.play(); }).then(function () {
        box.dataset.played = "1";
      }).catch(function () {}).then(function () {
        document.getElementById("heard-question").hidden = false;
        document.getElementById("heard-yes").focus();
      });
    });
    document.getElementById("heard-yes").addEventListener("click", function () { answer({ speaker_heard: true }); });
    document.getElementById("heard-no").addEventListener("click", function () { answer({ speaker_heard: false }); });
  }
  var audioOnly = document.getElementById("audio-only");
  if (audioOnly) {
    audioOnly.addEventListener("change", function () { answer({ audio_only: audioOnly.checked }); });
  }
}());
