/* The progress page of an owners' decision, updated live: the server sends the progress fragment
 * (templates/voting/decisions/progress/_progress.html), rendered for this reader, a few times a
 * second at most; without this script the page is correct on every reload. */
(function () {
  "use strict";
  var root = document.getElementById("decision-progress");
  if (!root || !window.WebSocket) return;
  var statusEl = document.getElementById("progress-live");
  var lastRead = parseFloat(root.dataset.readAt || "0");
  var socket = null, backoff = 1000, pingTimer = null;

  function status(online) {
    if (!statusEl) return;
    statusEl.textContent = online ? statusEl.dataset.online : statusEl.dataset.offline;
    statusEl.className = "live-status " + (online ? "online" : "offline");
  }
  function apply(frame) {
    if (frame.type !== "progress" || !frame.html) return;
    if (frame.read_at < lastRead) return; // an older reading than the one shown
    lastRead = frame.read_at;
    if (frame.state !== root.dataset.state) { window.location.reload(); return; }
    var t = document.createElement("template");
    t.innerHTML = frame.html.trim();
    var fresh = t.content.firstElementChild, current = document.getElementById("progress-body");
    if (fresh && current) current.replaceWith(fresh);
  }
  function connect() {
    var scheme = window.location.protocol === "https:" ? "wss://" : "ws://";
    socket = new WebSocket(scheme + window.location.host + root.dataset.ws);
    socket.onopen = function () {
      backoff = 1000; status(true);
      clearInterval(pingTimer);
      pingTimer = setInterval(function () { if (socket.readyState === 1) socket.send('{"type":"ping"}'); }, 25000);
    };
    socket.onmessage = function (e) { try { apply(JSON.parse(e.data)); } catch (err) { console.error(err); } };
    socket.onclose = function (e) {
      clearInterval(pingTimer); status(false);
      if (e.code === 4403) return; // refused: not a reader of this decision
      setTimeout(connect, backoff); backoff = Math.min(backoff * 2, 30000);
    };
  }
  connect();
})();
