// The calendar's moves (issue 24.1): drag a block to another quarter hour or column, or focus it, move it with the
// arrow keys and confirm with Enter (Escape puts it back). The move is posted to the calendar's move address, which
// goes through the API's service: a refusal puts the block back and says why, in the service's words, twice: in the
// page's live region at the top (#calendar-message, announced) and in a note on the grid at the spot the agent tried,
// where their eyes are (the top may be scrolled out of view); neither moves anything on the page. Listeners are on
// the document, so the rows that live.js draws again need nothing bound.
(function () {
  "use strict";
  var form = document.getElementById("calendar-move");
  var message = document.getElementById("calendar-message");
  if (!form || !message) { return; }
  var drag = null;
  var suppressClick = false;
  var refusal = null; // the last refusal's note: {row, col, text}, drawn again when live.js redraws the grid

  function grid() { return document.querySelector(".cal-grid"); }
  function columns() { return Array.prototype.slice.call(document.querySelectorAll(".cal-col")); }
  function column(number) { return document.querySelector(".cal-col[data-column='" + number + "']"); }
  function rows() { return parseInt(grid().dataset.rows, 10); }
  function place(block, row, col) {
    block.className = block.className.replace(/\br-\d+\b/, "r-" + row).replace(/\bc-\d+\b/, "c-" + col);
    block.dataset.atRow = String(row);
    block.dataset.atColumn = String(col);
  }
  function at(block) {
    return {
      row: parseInt(block.dataset.atRow || block.dataset.row, 10),
      col: parseInt(block.dataset.atColumn || block.dataset.column, 10)
    };
  }
  function clock(row) {
    var g = grid();
    var minutes = parseInt(g.dataset.firstHour, 10) * 60 + row * parseInt(g.dataset.slot, 10);
    var pad = function (n) { return (n < 10 ? "0" : "") + n; };
    return pad(Math.floor(minutes / 60)) + ":" + pad(minutes % 60);
  }
  function say(text, kind) {
    message.className = "calendar-message" + (kind ? " " + kind : "");
    message.textContent = text;
    if (kind !== "refused") { unnote(); }
  }
  // The refusal's note: on the grid, in the column the block was taken to, just below the spot it was taken to (above
  // it at the grid's foot) so that what it clashed with stays in sight, or on that spot itself when below would be
  // out of the window. Over the blocks there until the agent moves something again or clicks it. Placed by classes,
  // as blocks are.
  function unnote() {
    refusal = null;
    var old = document.getElementById("calendar-note");
    if (old) { old.remove(); }
  }
  function noteAt(row) {
    var old = document.getElementById("calendar-note");
    if (old) { old.remove(); }
    var note = document.createElement("div");
    note.id = "calendar-note";
    note.className = "cal-note r-" + Math.max(0, Math.min(row, rows() - 3)) + " h-3 c-" + refusal.col;
    note.textContent = refusal.text;
    grid().appendChild(note);
    return note.getBoundingClientRect();
  }
  function drawNote() {
    if (!refusal || !grid()) { return; }
    var below = refusal.row + refusal.span;
    var box = noteAt(below + 3 <= rows() ? below : refusal.row - 3);
    if (box.top < 0 || box.bottom > window.innerHeight) { noteAt(refusal.row); }
  }
  function note(block, spot, text) {
    refusal = { row: spot.row, col: spot.col, span: parseInt(block.dataset.span, 10), text: text };
    drawNote();
  }
  function putBack(block) {
    place(block, parseInt(block.dataset.row, 10), parseInt(block.dataset.column, 10));
    delete block.dataset.atRow;
    delete block.dataset.atColumn;
    block.classList.remove("moving", "dragging", "saving");
  }
  function where(block) {
    var spot = at(block);
    var col = column(spot.col);
    var heading = col ? col.dataset.heading : "";
    // The day's column of no agent is said as what the move does ("… to 11:00, with no agent"), not its heading.
    if (col && grid().dataset.view === "day" && !col.dataset.agent) {
      return block.dataset.reference + " to " + clock(spot.row) + ", with no agent";
    }
    return block.dataset.reference + " to " + heading + " at " + clock(spot.row);
  }

  function submit(block) {
    var spot = at(block);
    if (spot.row === parseInt(block.dataset.row, 10) && spot.col === parseInt(block.dataset.column, 10)) {
      putBack(block);
      return;
    }
    var col = column(spot.col);
    var data = new FormData(form);
    data.append("appointment", block.dataset.id);
    data.append("date", col.dataset.day);
    data.append("time", clock(spot.row));
    if (grid().dataset.view === "day") { data.append("agent", col.dataset.agent); }
    block.classList.remove("moving", "dragging");
    block.classList.add("saving");
    say("Moving " + where(block) + "…", "");
    fetch(form.action, { method: "POST", body: data, credentials: "same-origin", headers: { "Accept": "application/json" } })
      .then(function (response) {
        return response.json().then(function (body) { return { ok: response.ok, body: body }; },
          function () { return { ok: false, body: { errors: ["The move could not be saved (" + response.status + ")."] } }; });
      })
      .then(function (answer) {
        if (answer.ok && !answer.body.errors) { // a refusal the service decided is 200 with its errors
          block.classList.remove("saving");
          block.dataset.row = String(spot.row);
          block.dataset.column = String(spot.col);
          var when = block.querySelector(".cal-when");
          if (when && answer.body.label) { when.textContent = answer.body.label; } // before the rows are drawn again
          say(answer.body.message, "moved");
          document.dispatchEvent(new CustomEvent("live:refresh"));
        } else {
          refuse(block, spot, (answer.body.errors || []).join(" "));
        }
      }, function () {
        refuse(block, spot, "the service could not be reached. Try again.");
      });
  }
  function refuse(block, spot, reason) {
    putBack(block);
    var text = "Not moved: " + reason;
    say(text, "refused");
    note(block, spot, text + " " + block.dataset.reference + " is back at " + clock(parseInt(block.dataset.row, 10)) + ".");
    block.focus({ preventScroll: true }); // the keyboard goes on from the block; the page stays where it is
  }

  // Dragging, with the pointer (mouse, pen or touch): the block follows the pointer by whole quarter hours and
  // columns, and is posted where it is let go.
  document.addEventListener("pointerdown", function (event) {
    if (event.target.closest && event.target.closest("#calendar-note")) { unnote(); return; }
    var block = event.target.closest ? event.target.closest(".cal-block[data-movable]") : null;
    if (!block || event.button !== 0) { return; }
    var box = block.getBoundingClientRect();
    drag = { block: block, x: event.clientX, y: event.clientY, offset: event.clientY - box.top, moved: false };
    block.classList.add("pressed"); // live.js waits: the block is not replaced under the pointer
  });
  document.addEventListener("pointermove", function (event) {
    if (!drag) { return; }
    if (!drag.moved && Math.abs(event.clientX - drag.x) + Math.abs(event.clientY - drag.y) < 6) { return; }
    event.preventDefault();
    if (!drag.moved) { unnote(); }
    drag.moved = true;
    drag.block.classList.add("dragging");
    var target = columns().filter(function (col) {
      var box = col.getBoundingClientRect();
      return event.clientX >= box.left && event.clientX < box.right;
    })[0];
    if (!target) { return; }
    var box = target.getBoundingClientRect();
    var height = box.height / rows();
    var span = parseInt(drag.block.dataset.span, 10);
    var row = Math.round((event.clientY - drag.offset - box.top) / height);
    row = Math.max(0, Math.min(rows() - span, row));
    place(drag.block, row, parseInt(target.dataset.column, 10));
  });
  document.addEventListener("pointerup", function () {
    if (!drag) { return; }
    var current = drag;
    drag = null;
    current.block.classList.remove("pressed");
    if (!current.moved) { return; }
    suppressClick = true;
    window.setTimeout(function () { suppressClick = false; }, 0);
    submit(current.block);
  });
  document.addEventListener("pointercancel", function () {
    if (drag) { drag.block.classList.remove("pressed"); }
    if (drag && drag.moved) { putBack(drag.block); }
    drag = null;
  });
  // A drag ends on the block it started on: its click must not open the appointment.
  document.addEventListener("click", function (event) {
    if (suppressClick && event.target.closest && event.target.closest(".cal-block")) {
      event.preventDefault();
      suppressClick = false;
    }
  }, true);
  // live.js draws the grid again (someone else's change, or once a minute): the refusal's note stays on it.
  document.addEventListener("live:drawn", drawNote);
  document.addEventListener("dragstart", function (event) {
    if (event.target.closest && event.target.closest(".cal-block")) { event.preventDefault(); }
  });

  // The keyboard: arrows move the focused block a quarter hour or a column; Enter confirms, Escape puts it back.
  document.addEventListener("keydown", function (event) {
    var block = event.target.closest ? event.target.closest(".cal-block[data-movable]") : null;
    if (!block) { return; }
    var spot = at(block);
    var span = parseInt(block.dataset.span, 10);
    var last = columns().length;
    var moves = { ArrowUp: [-1, 0], ArrowDown: [1, 0], ArrowLeft: [0, -1], ArrowRight: [0, 1] };
    if (moves[event.key]) {
      event.preventDefault();
      unnote();
      var row = Math.max(0, Math.min(rows() - span, spot.row + moves[event.key][0]));
      var col = Math.max(1, Math.min(last, spot.col + moves[event.key][1]));
      block.classList.add("moving");
      place(block, row, col);
      block.scrollIntoView({ block: "nearest", inline: "nearest" });
      say("Moving " + where(block) + ": press Enter to confirm, Escape to put it back.", "");
    } else if (event.key === "Enter" && block.classList.contains("moving")) {
      event.preventDefault();
      submit(block);
    } else if (event.key === "Escape" && block.classList.contains("moving")) {
      event.preventDefault();
      putBack(block);
      say("Not moved.", "");
    }
  });
}());
