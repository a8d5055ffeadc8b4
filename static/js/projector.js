/* The room's big screen (大屏), sessions/meeting/projector.py: a receive-only connection admitted by
 * the secret in the page's link. The moderator chooses what it shows (data-screen: auto, vote,
 * floor, agenda, join, result) and switches it live with a "screen" frame; the page is rendered in
 * the same state, so a reload shows what the room sees. Frames of the kinds in data-screen-kinds
 * (SCREEN_KINDS) are acted on, nothing else. Timers tick in meeting.js; here the warning before a
 * speaker's time runs out (a colour, and a short tone when the moderator turned sound on). */
(function () {
  "use strict";
  var root = document.getElementById("screen");
  if (!root) return;
  var statusEl = document.getElementById("projector-status");
  var voteRegion = document.getElementById("projector-vote");
  var socket = null, backoff = 500, pingTimer = null, closedForGood = false;
  var screenKinds = {};
  try { screenKinds = JSON.parse(root.dataset.screenKinds || "{}"); } catch (e) { screenKinds = {}; }

  function status(text) { if (statusEl) statusEl.textContent = text; }

  function fragment(html) {
    var t = document.createElement("template");
    t.innerHTML = (html || "").trim();
    return t.content.firstElementChild;
  }

  // --- which pane is on the screen ---------------------------------------------------------
  function hasVote() { return !!(voteRegion && voteRegion.querySelector(".motion")); }
  function pane() {
    var chosen = root.dataset.screen || "auto";
    if (chosen !== "auto") return chosen;
    return hasVote() ? "vote" : "floor";
  }
  function layout() {
    var shown = pane();
    root.dataset.pane = shown;
    document.querySelectorAll(".screen-pane").forEach(function (p) { p.hidden = p.dataset.pane !== shown; });
    var empty = document.getElementById("screen-no-vote");
    if (empty) empty.hidden = hasVote();
    fit();
  }
  // Whatever is shown fits the screen: scale the pane's content down until nothing overflows.
  function fit() {
    document.querySelectorAll(".screen-pane:not([hidden])").forEach(function (p) {
      var inner = p.firstElementChild;
      if (!inner) return;
      inner.style.removeProperty("--fit");
      var scale = 1;
      for (var i = 0; i < 8 && (inner.scrollHeight > p.clientHeight + 1 || inner.scrollWidth > p.clientWidth + 1); i++) {
        scale = scale * Math.max(0.5, Math.min(0.95, p.clientHeight / inner.scrollHeight));
        inner.style.setProperty("--fit", String(scale));
      }
    });
  }
  window.addEventListener("resize", fit);

  // --- frames ------------------------------------------------------------------------------
  var newest = {};
  function isNewest(kind, frame) {
    if (!frame.at) return true;
    var t = Date.parse(frame.at);
    if (newest[kind] && t < newest[kind]) return false;
    newest[kind] = t;
    return true;
  }
  function setInner(id, html) {
    var el = document.getElementById(id);
    if (el && typeof html === "string") el.innerHTML = html;
  }
  function showVote(frame) {
    if (!voteRegion || !frame.html) return;
    var el = fragment(frame.html);
    if (!el) return;
    if (frame.type === "tally") {
      // A tally replaces its motion's count only; the question and options stay.
      var count = el.id ? voteRegion.querySelector("#" + el.id) : null;
      if (count) count.replaceWith(el);
      return;
    }
    var current = voteRegion.querySelector("#motion-" + frame.motion_id);
    if (frame.type === "motion.opened") {
      // A new vote: results of closed ones leave the screen.
      voteRegion.querySelectorAll(".motion:not([data-state=open])").forEach(function (m) { m.remove(); });
      if (current) current.replaceWith(el); else voteRegion.appendChild(el);
      return;
    }
    if (current) current.replaceWith(el); else voteRegion.appendChild(el); // closed: the result stays
  }
  var actions = {
    floor: function (f) {
      if (!isNewest("floor", f)) return;
      var had = document.querySelector("#projector-floor .speaker-name[data-request-id]");
      setInner("projector-floor", f.html);
      // Automatic screen: a new speaker takes the screen back from a closed vote's result.
      var speaker = f.speaker ? String(f.speaker.id) : null;
      if (speaker && (!had || had.dataset.requestId !== speaker) && voteRegion) {
        voteRegion.querySelectorAll(".motion:not([data-state=open])").forEach(function (m) { m.remove(); });
      }
    },
    agenda: function (f) {
      if (!isNewest("agenda", f)) return;
      setInner("projector-agenda", f.html);
      var now = document.getElementById("screen-now-item");
      var title = document.querySelector("#projector-agenda .agenda-now > .agenda-title:not(.agenda-none)");
      if (now) now.textContent = title ? title.textContent : "";
    },
    vote: showVote,
    screen: function (f) {
      root.dataset.sound = f.sound ? "1" : "0";
      if (f.sound_only) return;
      root.dataset.screen = f.screen || "auto";
      if (f.screen === "result") setInner("screen-result", f.html || "");
    },
    reload: function () { window.location.reload(); }
  };

  // --- the speaking-time warning -----------------------------------------------------------
  var audio = null, warnedFor = null;
  function unlockAudio() {
    var Ctx = window.AudioContext || window.webkitAudioContext;
    if (!Ctx) return;
    if (!audio) { try { audio = new Ctx(); } catch (e) { audio = null; } }
    if (audio && audio.state === "suspended") audio.resume();
  }
  // Browsers start sound only after a touch or a key on the page: the first one on the screen's computer.
  document.addEventListener("pointerdown", unlockAudio);
  document.addEventListener("keydown", unlockAudio);
  function tone() {
    root.dataset.tones = String(parseInt(root.dataset.tones || "0", 10) + 1);
    if (!audio || audio.state !== "running") return;
    var osc = audio.createOscillator(), gain = audio.createGain();
    osc.frequency.value = 880;
    gain.gain.value = 0.2;
    osc.connect(gain);
    gain.connect(audio.destination);
    osc.start();
    osc.stop(audio.currentTime + 0.4);
  }
  // The warning starts a quarter of the limit before the end, at most 30 s and at least 10 s before.
  function warnSeconds(limit) { return Math.max(10, Math.min(30, Math.round(limit / 4))); }
  function checkTimer() {
    var timer = document.querySelector("#projector-floor .floor-timer[data-started-at]");
    if (!timer) return;
    var limit = parseInt(timer.dataset.limit || "0", 10);
    if (!limit) return;
    var offset = parseInt(timer.dataset.offset || "0", 10);
    var elapsed = Math.floor((Date.now() + offset - Date.parse(timer.dataset.startedAt)) / 1000);
    var remaining = limit - elapsed;
    var warn = remaining >= 0 && remaining <= warnSeconds(limit);
    timer.classList.toggle("warn", warn);
    timer.classList.toggle("overtime", remaining < 0);
    var key = timer.dataset.startedAt;
    if (warn && warnedFor !== key) {
      warnedFor = key;
      if (root.dataset.sound === "1") tone();
    }
  }
  setInterval(checkTimer, 500);

  // --- the connection ----------------------------------------------------------------------
  function connect() {
    var proto = window.location.protocol === "https:" ? "wss://" : "ws://";
    socket = new WebSocket(proto + window.location.host + root.dataset.wsPath);
    socket.onopen = function () {
      backoff = 500;
      status("");
      clearInterval(pingTimer);
      pingTimer = setInterval(function () { if (socket.readyState === 1) socket.send('{"type":"ping"}'); }, 25000);
    };
    socket.onmessage = function (ev) {
      var frame;
      try { frame = JSON.parse(ev.data); } catch (e) { return; }
      // "closed" is the connection's own frame (the link was replaced), not a room event.
      if (frame.type === "closed") { closedForGood = true; status(root.dataset.msgEnded); return; }
      var kind = Object.prototype.hasOwnProperty.call(screenKinds, frame.type) ? screenKinds[frame.type] : null;
      var action = kind ? actions[kind] : null;
      if (!action) return;
      action(frame);
      layout();
      checkTimer();
    };
    socket.onclose = function (ev) {
      clearInterval(pingTimer);
      if (ev.code === 4403 || closedForGood) { closedForGood = true; status(root.dataset.msgEnded); return; }
      status(root.dataset.msgOffline);
      setTimeout(connect, backoff);
      backoff = Math.min(backoff * 2, 5000);
    };
  }
  window.addEventListener("online", function () { if (!closedForGood && socket && socket.readyState > 1) connect(); });
  layout();
  checkTimer();
  connect();
})();
