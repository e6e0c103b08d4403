// The back office's one live mechanism (issue 24.2), for today's list, the calendar and the waiting room: the page's
// element with data-live-url polls that small endpoint (meetings/live.py) with the ETag of its last answer; when the
// version it answers differs from the one the page was drawn at, the page fetches its own rows again
// (data-live-source, else its own address) and puts them in place, keeping the scroll, the focus and the ticked
// rows. The tab's title counts who is waiting; a sound, when asked for, says someone arrived for my appointments.
(function () {
  "use strict";
  var root = document.querySelector("[data-live-url]");
  if (!root) { return; }
  var seconds = parseInt(root.dataset.liveSeconds, 10) || 5;
  var every = parseInt(root.dataset.liveEvery, 10) || 0; // redraw at least this often (the minutes waited, now)
  var target = root.dataset.liveTarget ? document.getElementById(root.dataset.liveTarget) : root;
  if (!target) { return; }
  var version = root.dataset.liveVersion || "";
  var latest = version; // the version last answered; the rows are redrawn until they are drawn at it
  var tag = null;
  var mine = null;
  var drawn = Date.now();
  var baseTitle = document.title.replace(/^\(\d+\) /, "");
  var sound = document.getElementById("live-sound");
  var SOUND_KEY = "appointments.liveSound";

  var news = document.getElementById("live-news");
  var told = null;
  function title(waiting) {
    document.title = waiting ? "(" + waiting + ") " + baseTitle : baseTitle;
    // Said once per change of the count, not at every redraw (the rows are not a live region).
    if (news && told !== null && waiting !== told) {
      news.textContent = waiting === 1 ? "1 person waiting" : waiting + " people waiting";
    }
    told = waiting;
  }
  if (sound) {
    try { sound.checked = window.localStorage.getItem(SOUND_KEY) === "1"; } catch (e) { /* storage refused */ }
    sound.addEventListener("change", function () {
      try { window.localStorage.setItem(SOUND_KEY, sound.checked ? "1" : "0"); } catch (e) { /* storage refused */ }
    });
  }
  function chime() {
    if (!sound || !sound.checked) { return; }
    var audio = new Audio(sound.dataset.soundUrl);
    var played = audio.play();
    if (played && played.catch) { played.catch(function () {}); }
  }

  // Someone is busy in the rows: writing a message, or moving a calendar block. The rows wait for them.
  function busy() {
    if (target.querySelector(".pressed, .dragging, .moving, .saving")) { return true; }
    var active = document.activeElement;
    if (active && target.contains(active) && /^(INPUT|SELECT|TEXTAREA)$/.test(active.tagName) &&
        active.type !== "checkbox") { return true; }
    return Array.prototype.some.call(target.querySelectorAll("input[type=text], textarea, form select"),
      function (field) { return field.value !== ""; });
  }

  function keyOf(node) {
    if (!node || !node.closest) { return null; }
    var keyed = node.closest("[id]");
    return keyed && target.contains(keyed) ? keyed.id : null;
  }

  // Today's list: rows matched by their ticked box's value; the box itself stays (the admin's actions hold it), the
  // rest of the row is redrawn; rows come, go and change places as the new list says.
  function mergeRows(fresh) {
    var table = target.querySelector("#result_list");
    var freshTable = fresh.querySelector("#result_list");
    if (!table || !freshTable || !table.tBodies[0] || !freshTable.tBodies[0]) {
      target.innerHTML = fresh.innerHTML; // the list was or becomes empty: drawn whole
      return;
    }
    var body = table.tBodies[0];
    var rows = {};
    Array.prototype.forEach.call(body.rows, function (row) {
      var box = row.querySelector("input.action-select");
      if (box) { rows[box.value] = row; }
    });
    var order = [];
    Array.prototype.forEach.call(freshTable.tBodies[0].rows, function (freshRow) {
      var box = freshRow.querySelector("input.action-select");
      var row = box ? rows[box.value] : null;
      if (row) {
        delete rows[box.value];
        var keep = row.querySelector("input.action-select");
        Array.prototype.forEach.call(freshRow.cells, function (cell, i) {
          if (i < row.cells.length && !cell.querySelector("input.action-select")) { row.cells[i].innerHTML = cell.innerHTML; }
        });
        row.className = freshRow.className.replace(/\bselected\b/, "") + (keep && keep.checked ? " selected" : "");
        order.push(row);
      } else {
        order.push(document.importNode(freshRow, true));
      }
    });
    Object.keys(rows).forEach(function (key) { rows[key].remove(); });
    order.forEach(function (row) { body.appendChild(row); });
    var pager = target.querySelector(".paginator");
    var freshPager = fresh.querySelector(".paginator");
    if (pager && freshPager) { pager.innerHTML = freshPager.innerHTML; }
  }

  function draw(html) {
    var doc = new DOMParser().parseFromString(html, "text/html");
    var fresh = target.id ? doc.getElementById(target.id) : null;
    if (!fresh) { fresh = doc.body; }
    var focused = keyOf(document.activeElement);
    var scrolled = Array.prototype.map.call(target.querySelectorAll(".cal-scroll"), function (node) {
      return [node.scrollLeft, node.scrollTop];
    });
    if (root.dataset.liveMode === "rows") {
      mergeRows(fresh);
    } else {
      target.innerHTML = fresh.innerHTML;
    }
    Array.prototype.forEach.call(target.querySelectorAll(".cal-scroll"), function (node, i) {
      if (scrolled[i]) { node.scrollLeft = scrolled[i][0]; node.scrollTop = scrolled[i][1]; }
    });
    if (focused && document.getElementById(focused)) { document.getElementById(focused).focus({ preventScroll: true }); }
    var count = target.querySelector("[data-waiting-count]");
    if (count) { title(parseInt(count.dataset.waitingCount, 10) || 0); }
    drawn = Date.now();
    root.dataset.liveDrawn = String((parseInt(root.dataset.liveDrawn, 10) || 0) + 1); // how many times, for tests
    document.dispatchEvent(new CustomEvent("live:drawn"));
  }

  function redraw() {
    if (busy()) { return Promise.resolve(false); }
    return fetch(root.dataset.liveSource || window.location.href, { credentials: "same-origin", cache: "no-store" })
      .then(function (response) { return response.ok ? response.text() : null; })
      .then(function (html) {
        if (html === null || busy()) { return false; }
        draw(html);
        return true;
      });
  }

  function poll() {
    var headers = tag ? { "If-None-Match": tag } : {};
    return fetch(root.dataset.liveUrl, { credentials: "same-origin", cache: "no-store", headers: headers })
      .then(function (response) {
        if (response.status === 304) { return null; }
        if (!response.ok) { return null; }
        tag = response.headers.get("ETag");
        return response.json();
      })
      .then(function (body) {
        if (body) {
          title(body.waiting);
          if (mine !== null && body.mine > mine) { chime(); }
          mine = body.mine;
          latest = body.version;
        }
        var stale = every && Date.now() - drawn > every * 1000;
        if (latest === version && !stale) { return null; }
        var seen = latest;
        return redraw().then(function (done) { if (done) { version = seen; } });
      });
  }

  function loop() {
    poll().catch(function () {}).then(function () { window.setTimeout(loop, seconds * 1000); });
  }
  // The calendar asks for its rows at once after a move of its own, without waiting for the poll.
  document.addEventListener("live:refresh", function () { redraw().catch(function () {}); });
  var count = target.querySelector("[data-waiting-count]");
  if (count) { title(parseInt(count.dataset.waitingCount, 10) || 0); }
  window.setTimeout(loop, seconds * 1000);
}());
