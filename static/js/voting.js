/* Agora votes in the live session (protocol: docs/protocol.md, "Votes").
 * Frames come through window.AgoraLive (static/js/live.js). A ballot is sent with an
 * idempotency key kept in localStorage until its receipt arrives, so a retry after a
 * dropped connection is counted once. Receipts stay on this device: they are needed to
 * change a ballot and to check it in the published list. Without WebSockets the forms
 * post normally. */
(function () {
  "use strict";
  var section = document.getElementById("motions");
  if (!section || !window.AgoraLive) return;
  var live = window.AgoraLive;
  var list = document.getElementById("motion-list");
  var announcer = document.getElementById("announcer");
  var msg = section.dataset;
  var counter = 0;

  function store(id) { try { return JSON.parse(localStorage.getItem("agora-vote-" + id) || "{}"); } catch (e) { return {}; } }
  function save(id, data) { try { localStorage.setItem("agora-vote-" + id, JSON.stringify(data)); } catch (e) { /* private mode */ } }
  function say(text) { if (announcer) { announcer.textContent = ""; setTimeout(function () { announcer.textContent = text; }, 50); } }
  function fragment(html) { var t = document.createElement("template"); t.innerHTML = html.trim(); return t.content.firstElementChild; }
  function motionEl(id) { return document.getElementById("motion-" + id); }
  function newKey() {
    var bytes = new Uint8Array(16);
    window.crypto.getRandomValues(bytes);
    return Array.prototype.map.call(bytes, function (b) { return ("0" + b.toString(16)).slice(-2); }).join("");
  }
  function csrf() { var i = document.querySelector("input[name=csrfmiddlewaretoken][value]:not([value=''])"); return i ? i.value : ""; }

  function status(id, text, cls) {
    var el = motionEl(id);
    var box = el && el.querySelector(".ballot-status");
    if (!box) return;
    box.textContent = "";
    var p = document.createElement("p");
    p.className = cls || "";
    p.textContent = text;
    box.appendChild(p);
  }

  function showReceipt(id, receipt, changed) {
    var el = motionEl(id);
    var box = el && el.querySelector(".ballot-status");
    if (!box) return;
    box.textContent = "";
    var p = document.createElement("p");
    p.className = "ok receipt-line";
    p.appendChild(document.createTextNode((changed ? msg.msgChanged : msg.msgReceipt) + " "));
    var code = document.createElement("code");
    code.className = "receipt";
    code.textContent = receipt;
    p.appendChild(code);
    var help = document.createElement("p");
    help.className = "help";
    help.textContent = msg.msgKeep;
    box.appendChild(p);
    box.appendChild(help);
  }

  function choiceOf(form) {
    if (form.dataset.kind === "ranked") {
      // Exactly what the voter set (no silent de-duplication): a repeated option is refused.
      return Array.prototype.map.call(form.querySelectorAll("select[name=rank]"), function (s) { return s.value; })
        .filter(function (v) { return v; }).map(Number);
    }
    return Array.prototype.filter.call(form.querySelectorAll("input[name=choice]"), function (i) { return i.checked; })
      .map(function (i) { return parseInt(i.value, 10); });
  }

  function send(id, form) {
    var mine = store(id);
    var choice = choiceOf(form);
    if (!mine.pending || JSON.stringify(mine.pending.choice) !== JSON.stringify(choice)) {
      mine.pending = { key: newKey(), choice: choice };
      save(id, mine);
    }
    var payload = { type: "ballot.cast", motion_id: id, choice: choice, idempotency_key: mine.pending.key, client_id: "b" + id + "-" + (++counter) };
    if (mine.receipt) payload.receipt = mine.receipt;
    return live.send(payload);
  }

  function setUp(el) {
    if (!el || el.dataset.ready) return;
    el.dataset.ready = "1";
    var id = parseInt(el.dataset.motionId, 10);
    var form = el.querySelector(".ballot-form");
    if (form) {
      form.addEventListener("submit", function (ev) {
        var mine = store(id);
        form.querySelector("input[name=receipt]").value = mine.receipt || "";
        if (!form.querySelector("input[name=idempotency_key]").value) form.querySelector("input[name=idempotency_key]").value = newKey();
        var token = form.querySelector("input[name=csrfmiddlewaretoken]");
        if (!token) { token = document.createElement("input"); token.type = "hidden"; token.name = "csrfmiddlewaretoken"; form.appendChild(token); }
        if (!token.value) token.value = csrf();
        ev.preventDefault();
        var err = form.querySelector(".ballot-error");
        err.hidden = true;
        var choice = choiceOf(form);
        if (choice.some(function (v, i) { return choice.indexOf(v) !== i; })) {
          err.textContent = form.dataset.msgDuplicate || "";
          err.hidden = false;
          return;
        }
        if (!choice.length && form.dataset.kind !== "approval") { form.reportValidity(); return; }
        if (!send(id, form)) { form.submit(); return; } // no live connection: post the form
        form.querySelector("button.cast").disabled = true;
        status(id, msg.msgSending, "muted");
      });
    }
    var mine = store(id);
    if (mine.receipt && el.dataset.state === "open") showReceipt(id, mine.receipt, false);
    el.querySelectorAll(".open-form, .close-form").forEach(function (f) {
      f.addEventListener("submit", function (ev) {
        var type = f.classList.contains("open-form") ? "motion.open" : "motion.close";
        if (live.send({ type: type, motion_id: id, client_id: "m" + id + "-" + (++counter) })) {
          ev.preventDefault();
          f.querySelector("button").disabled = true;
        }
      });
    });
    if (el.dataset.closesAt && el.dataset.state === "open") {
      var wait = Date.parse(el.dataset.closesAt) - Date.now() + 1000;
      if (wait > 0 && wait < 2147483647) setTimeout(function () { live.send({ type: "motion.status", motion_id: id }); }, wait);
    }
    checkReceipt(el);
  }

  function checkReceipt(el) {
    var box = el.querySelector(".receipts");
    var out = el.querySelector(".receipt-check");
    var mine = store(el.dataset.motionId);
    if (!box || !out || !mine.receipt || !window.crypto.subtle) return;
    window.crypto.subtle.digest("SHA-256", new TextEncoder().encode(mine.receipt)).then(function (buf) {
      var hex = Array.prototype.map.call(new Uint8Array(buf), function (b) { return ("0" + b.toString(16)).slice(-2); }).join("");
      var found = false;
      box.querySelectorAll("code").forEach(function (c) { if (c.textContent === hex) { found = true; c.classList.add("mine"); } });
      out.textContent = found ? msg.msgFound : msg.msgNotFound;
      out.className = "receipt-check " + (found ? "ok" : "error");
      out.hidden = false;
    });
  }

  function place(html, id) {
    var el = fragment(html);
    if (!el) return null;
    var old = motionEl(id);
    if (old) old.replaceWith(el); else { var none = document.getElementById("no-motions"); if (none) none.remove(); list.appendChild(el); }
    order();
    setUp(el);
    return el;
  }

  // Open votes first (newest first), then the rest as the page rendered them (docs/live-page.md).
  function order() {
    var open = Array.prototype.filter.call(list.children, function (m) { return m.dataset.state === "open"; });
    open.sort(function (a, b) { return Number(b.dataset.motionId) - Number(a.dataset.motionId); });
    var inOrder = open.every(function (m, i) { return list.children[i] === m; });
    if (inOrder) return;
    for (var i = open.length - 1; i >= 0; i--) list.insertBefore(open[i], list.firstElementChild);
  }
  function counted(el) { var t = el.querySelector(".tally-ballots"); return t ? " " + t.textContent.trim() : ""; }

  // After a reconnect, motion events sent while this phone was away are not replayed:
  // take the motions from a fresh page render (it has this user's own state too).
  function refreshList() {
    return fetch(window.location.pathname, { credentials: "same-origin" }).then(function (r) { return r.ok ? r.text() : ""; }).then(function (html) {
      var fresh = new DOMParser().parseFromString(html, "text/html").getElementById("motion-list");
      if (!fresh) return;
      list.replaceChildren.apply(list, Array.prototype.slice.call(fresh.children));
      list.querySelectorAll(".motion").forEach(setUp);
    }).catch(function () { /* the next reconnect tries again */ });
  }

  var syncedOnce = false;
  live.on("synced", function () {
    var again = syncedOnce;
    syncedOnce = true;
    (again ? refreshList() : Promise.resolve()).then(resync);
  });

  function resync() {
    document.querySelectorAll(".motion[data-state=open]").forEach(function (el) {
      var id = parseInt(el.dataset.motionId, 10);
      live.send({ type: "motion.status", motion_id: id });
      var mine = store(id);
      var form = el.querySelector(".ballot-form");
      if (mine.pending && form) send(id, form); // resend after a drop: same key, counted once
    });
  }
  live.on("motion.drafted", function (f) { if (f.html) place(f.html, f.motion_id); });
  live.on("motion.discarded", function (f) { var el = motionEl(f.motion_id); if (el) el.remove(); });
  live.on("motion.opened", function (f) {
    var el = f.html && place(f.html, f.motion_id);
    if (!el) return;
    live.send({ type: "motion.status", motion_id: f.motion_id });
    say(msg.msgOpened + " " + (el.querySelector("h3") || {}).textContent + counted(el));
  });
  live.on("tally", function (f) {
    var el = motionEl(f.motion_id);
    var old = el && el.dataset.state === "open" && el.querySelector(".tally");
    if (old && f.html) old.replaceWith(fragment(f.html));
  });
  live.on("motion.closed", function (f) {
    var el = f.html && place(f.html, f.motion_id);
    if (el) say(msg.msgClosed + " " + (el.querySelector("h3") || {}).textContent + " " + ((el.querySelector(".outcome") || {}).textContent || "").trim() + counted(el));
  });
  live.on("motion.status", function (f) {
    var el = motionEl(f.motion_id);
    if (!el) return;
    if (f.state !== el.dataset.state && f.state === "closed") { refreshList(); return; }
    var pending = el.querySelector(".ballot-pending");
    var note = el.querySelector(".ballot-note");
    var mine = store(f.motion_id);
    var canChange = f.voted && el.dataset.allowChange === "1" && mine.receipt;
    var showForm = f.can_vote && !f.voted_in_person && !f.voted_by_other && (!f.voted || canChange);
    if (pending) pending.hidden = !showForm;
    var form = el.querySelector(".ballot-form");
    if (form && !pending) form.hidden = !showForm;
    var moderatorView = !!el.querySelector(".motion-actions");
    if (note && !moderatorView) note.textContent = !f.eligible ? f.reason : (f.voted && !mine.receipt ? msg.msgVoted : "");
    if (f.voted && mine.receipt) showReceipt(f.motion_id, mine.receipt, false);
  });
  // Household mode: another member of the household voted; this member's ballot form goes.
  live.on("ballot.household", function (f) {
    var el = motionEl(f.motion_id);
    var ballot = el && el.querySelector(".ballot");
    if (!ballot || el.dataset.state !== "open") return;
    ballot.querySelectorAll(".ballot-form, .ballot-pending").forEach(function (form) { form.hidden = true; });
    var note = ballot.querySelector(".household-voted");
    if (!note) {
      note = document.createElement("p");
      note.className = "ok household-voted";
      ballot.insertBefore(note, ballot.firstChild);
    }
    note.textContent = (msg.msgHouseholdVoted || "").replace("{name}", f.by);
    say(note.textContent);
  });
  live.on("ballot.receipt", function (f) {
    var mine = store(f.motion_id);
    mine.receipt = f.receipt;
    delete mine.pending;
    save(f.motion_id, mine);
    var el = motionEl(f.motion_id);
    var form = el && el.querySelector(".ballot-form");
    if (form) {
      var button = form.querySelector("button.cast");
      button.disabled = false;
      button.textContent = msg.msgChange;
      if (el.dataset.allowChange !== "1") form.hidden = true;
    }
    showReceipt(f.motion_id, f.receipt, f.changed);
    say(f.changed ? msg.msgChanged : msg.msgReceipt);
  });
  live.on("error", function (f) {
    if (f.request_type === "ballot.cast" && typeof f.client_id === "string") {
      var id = parseInt(f.client_id.slice(1), 10);
      var el = motionEl(id);
      var mine = store(id);
      delete mine.pending;
      save(id, mine);
      var form = el && el.querySelector(".ballot-form");
      if (!form) return;
      form.querySelector("button.cast").disabled = false;
      var err = form.querySelector(".ballot-error");
      err.textContent = f.message;
      err.hidden = false;
      var box = el.querySelector(".ballot-status");
      if (box) box.textContent = "";
    } else if ((f.request_type === "motion.open" || f.request_type === "motion.close") && typeof f.client_id === "string") {
      var m = motionEl(parseInt(f.client_id.slice(1), 10));
      if (!m) return;
      m.querySelectorAll(".motion-actions button").forEach(function (b) { b.disabled = false; });
      var p = document.createElement("p");
      p.className = "error";
      p.setAttribute("role", "alert");
      p.textContent = f.message;
      m.querySelector(".motion-actions").appendChild(p);
    }
  });

  document.querySelectorAll(".motion").forEach(setUp);
})();
