/* Agora hybrid meeting client: agenda, the floor (speakers' queue and timer) and moderation
 * (protocol: docs/protocol.md). On the session page it rides on live.js (window.AgoraLive.on /
 * .send); every control is a normal form that also works without JavaScript. On the big screen
 * (templates/sessions/projector.html) only its timers run: static/js/projector.js holds the
 * screen's own receive-only connection. */
(function () {
  "use strict";

  // --- timers (both pages) ---------------------------------------------------------------
  function clock(seconds) {
    seconds = Math.abs(Math.trunc(seconds));
    var s = seconds % 60;
    return Math.floor(seconds / 60) + ":" + (s < 10 ? "0" : "") + s;
  }
  function tickTimers() {
    var now = Date.now();
    document.querySelectorAll(".floor-timer[data-started-at]").forEach(function (el) {
      if (el.dataset.offset === undefined) {
        // The server's clock decides: remember how far this device's clock is from it.
        el.dataset.offset = String(Date.parse(el.dataset.serverNow) - now);
      }
      var serverNow = now + parseInt(el.dataset.offset, 10);
      var elapsed = Math.max(0, Math.floor((serverNow - Date.parse(el.dataset.startedAt)) / 1000));
      var elapsedEl = el.querySelector(".timer-elapsed");
      if (elapsedEl) elapsedEl.textContent = clock(elapsed);
      var limit = parseInt(el.dataset.limit || "0", 10);
      var remainingEl = el.querySelector(".timer-remaining");
      if (limit && remainingEl) {
        var remaining = limit - elapsed;
        remainingEl.textContent = (remaining >= 0 ? el.dataset.left : el.dataset.over).replace("{time}", clock(remaining));
        remainingEl.classList.toggle("over", remaining < 0);
        remainingEl.classList.toggle("soon", remaining >= 0 && remaining <= 15);
      }
    });
  }
  setInterval(tickTimers, 1000);

  function replaceInner(el, html) {
    if (!el || typeof html !== "string") return;
    el.innerHTML = html;
    tickTimers();
  }

  // Frames of one kind can cross on the way (two processes, a reconnect): keep the newest.
  var newest = {};
  function isNewest(kind, frame) {
    if (!frame.at) return true;
    var t = Date.parse(frame.at);
    if (newest[kind] && t < newest[kind]) return false;
    newest[kind] = t;
    return true;
  }

  var live = window.AgoraLive;
  var panel = document.getElementById("meeting");
  if (!live) return;
  var userId = panel ? parseInt(panel.dataset.userId, 10) : 0;
  var notice = document.getElementById("meeting-notice");
  var announcer = document.getElementById("floor-announcer");
  var pending = {}, counter = 0, lastSpeaker = null;

  function say(text, cls) {
    if (!notice) return;
    notice.textContent = text;
    notice.className = "meeting-notice " + (cls || "");
  }

  function actionOf(form) {
    var parts = new URL(form.action, window.location.href).pathname.split("/").filter(Boolean);
    return parts[parts.length - 1];
  }

  // Every meeting control is a form: send it over the live connection when there is one.
  document.addEventListener("submit", function (ev) {
    var form = ev.target;
    if (!form.classList || !form.classList.contains("meeting-form")) return;
    var request = { type: actionOf(form) };
    new FormData(form).forEach(function (value, key) {
      if (key === "csrfmiddlewaretoken" || key === "next") return;
      if (key === "user_ids") { (request.user_ids = request.user_ids || []).push(value); return; }
      request[key] = value;
    });
    request.client_id = "m" + Date.now() + "-" + (++counter);
    if (!live.send(request)) return; // no live connection: the form posts normally
    ev.preventDefault();
    pending[request.client_id] = form;
    form.querySelectorAll("button").forEach(function (b) { b.disabled = true; });
  });

  function release(clientId) {
    var form = pending[clientId];
    delete pending[clientId];
    if (!form) return null;
    form.querySelectorAll("button").forEach(function (b) { b.disabled = false; });
    return form;
  }

  live.on("meeting.ack", function (frame) {
    var form = release(frame.client_id);
    if (!form) return;
    form.querySelectorAll("input[type=text]").forEach(function (i) { i.value = ""; });
    var details = form.closest("details");
    if (details) details.open = false;
    say("", "");
  });

  live.on("error", function (frame) {
    var form = release(frame.client_id);
    if (!form && !(frame.request_type || "").match(/^(hand|floor|agenda|message\.(pin|unpin|hide|unhide)|participant|slow_mode|guests|checkin|projector)\b/)) return;
    say(frame.message, "error");
    if (form) {
      var field = form.querySelector("input[type=text], input[type=number], select");
      if (field) field.focus();
    }
  });

  live.on("synced", function () { live.send({ type: "meeting.sync" }); });

  function setHand(raised) {
    var up = document.getElementById("hand-raise-form"), down = document.getElementById("hand-lower-form");
    if (!up || !down) return;
    up.hidden = raised;
    down.hidden = !raised;
  }

  live.on("floor", function (frame) {
    if (!isNewest("floor", frame)) return;
    replaceInner(document.getElementById("meeting-floor"), frame.html);
    setHand((frame.queue_user_ids || []).indexOf(userId) !== -1);
    var speaker = frame.speaker ? frame.speaker.id : null;
    if (speaker !== lastSpeaker && announcer && frame.speaker) {
      announcer.textContent = (panel.dataset.msgNowSpeaking || "") + " " + frame.speaker.name;
    }
    lastSpeaker = speaker;
  });

  live.on("agenda", function (frame) {
    if (!isNewest("agenda", frame)) return;
    replaceInner(document.getElementById("meeting-agenda"), frame.html);
  });

  live.on("attendance", function (frame) { replaceInner(document.getElementById("meeting-attendance"), frame.html); });

  // Moderators: people joining online change attendance; ask for it once the room settles.
  var attendanceTimer = null;
  live.on("presence", function () {
    if (!document.getElementById("meeting-attendance")) return;
    clearTimeout(attendanceTimer);
    attendanceTimer = setTimeout(function () { live.send({ type: "attendance.sync" }); }, 1000);
  });

  live.on("slow_mode", function (frame) {
    var note = document.getElementById("slow-mode-note");
    if (!note || !panel) return;
    note.hidden = !frame.seconds;
    if (frame.seconds) note.textContent = panel.dataset.msgSlow.replace("{seconds}", frame.seconds);
    say(frame.seconds ? note.textContent : panel.dataset.msgSlowOff, "");
  });

  live.on("participant.status", function (frame) {
    if (!panel || String(frame.session_id) !== panel.dataset.sessionId) return;
    say(frame.muted ? panel.dataset.msgMuted : panel.dataset.msgUnmuted, frame.muted ? "error" : "ok");
    var hands = document.getElementById("hand-controls");
    if (hands) hands.hidden = !!frame.muted;
  });

  // A moderator pinned, hid or showed a message: re-render it (a hidden one vanishes for residents).
  live.on("message.updated", function (frame) {
    var list = document.getElementById("messages");
    var existing = document.getElementById("msg-" + frame.seq);
    var tpl = document.createElement("template");
    tpl.innerHTML = (frame.html || "").trim();
    var el = tpl.content.firstElementChild;
    // The author's own note of a hidden message (live.js, "message.hidden_own") stays.
    if (!el) { if (existing && !(frame.hidden && existing.classList.contains("own-hidden"))) existing.remove(); return; }
    if (existing) { existing.replaceWith(el); return; }
    if (!list) return;
    var after = null;
    list.querySelectorAll(".message").forEach(function (m) { if (Number(m.dataset.seq) > frame.seq && !after) after = m; });
    list.insertBefore(el, after);
  });
})();
