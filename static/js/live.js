/* Agora live session client (protocol: docs/protocol.md).
 * Reconnects by itself and asks for everything after the last sequence it saw, so
 * nothing is missed and nothing shows twice. Other scripts subscribe to frame types
 * through window.AgoraLive.on(type, fn) and send through window.AgoraLive.send(obj). */
(function () {
  "use strict";
  var root = document.getElementById("session");
  if (!root) return;
  var sessionId = root.dataset.sessionId;
  var lastSeq = parseInt(root.dataset.lastSeq || "0", 10);
  var list = document.getElementById("messages");
  var statusEl = document.getElementById("live-status");
  var announcer = document.getElementById("announcer");
  var composer = document.getElementById("composer");
  var textarea = document.getElementById("id_text");
  var errorEl = document.getElementById("composer-error");
  var sendBtn = document.getElementById("send");
  var draftKey = "agora-draft-" + sessionId;
  var socket = null, backoff = 500, pingTimer = null, retryTimer = null, closedForGood = false, lastFrameAt = 0;
  // Refused (4429: too many windows; handshakes turned down, seen as 1006 before open, three in a
  // row so a server restart still reconnects quickly) is retried slowly, with a sentence: 5 s
  // doubling to a minute, until a connection syncs again (docs/protocol.md).
  var refusedBackoff = 5000, failedOpens = 0;
  var replyTo = null, pendingClientId = null, pendingPost = null, counter = 0, everSynced = false;
  var listeners = {};

  function setStatus(text, cls) {
    if (!statusEl) return;
    statusEl.textContent = text;
    statusEl.className = "live-status " + (cls || "");
  }
  function announce(text) { if (announcer) { announcer.textContent = ""; setTimeout(function () { announcer.textContent = text; }, 50); } }
  function fragment(html) { var t = document.createElement("template"); t.innerHTML = html.trim(); return t.content.firstElementChild; }

  function emit(frame) {
    (listeners[frame.type] || []).forEach(function (fn) { try { fn(frame); } catch (e) { console.error(e); } });
  }
  window.AgoraLive = {
    on: function (type, fn) { (listeners[type] = listeners[type] || []).push(fn); },
    send: function (obj) { if (socket && socket.readyState === 1) { socket.send(JSON.stringify(obj)); return true; } return false; },
    sessionId: sessionId
  };

  function showMessage(frame) {
    if (frame.seq <= lastSeq && document.getElementById("msg-" + frame.seq)) return;
    lastSeq = Math.max(lastSeq, frame.seq);
    var empty = document.getElementById("no-messages");
    if (empty) empty.remove();
    if (!frame.html) return;
    var el = fragment(frame.html);
    if (!el) return;
    var existing = document.getElementById(el.id);
    if (existing) { simplify(el, existing); existing.replaceWith(el); return; }
    // Showing earlier messages (?before=): new ones are behind the "latest messages" link.
    if (list.dataset.window === "earlier") return;
    var nearBottom = window.innerHeight + window.scrollY >= document.body.scrollHeight - 200;
    simplify(el);
    list.appendChild(el);
    if (!frame.replayed) {
      var author = el.querySelector(".author");
      var text = el.querySelector(".message-text");
      announce((root.dataset.msgNew || "") + " " + (author ? author.textContent : "") + ": " + (text ? text.textContent.slice(0, 140) : ""));
      if (nearBottom && el.dataset.author !== root.dataset.userId) el.scrollIntoView({ block: "nearest" });
    }
  }

  var connectionError = false;
  function clearConnectionError() {
    if (!connectionError) return;
    connectionError = false;
    if (errorEl) errorEl.hidden = true;
    else setStatus(root.dataset.msgOnline, "online");
  }

  var handlers = {
    message: showMessage,
    synced: function () {
      refusedBackoff = 5000;
      clearConnectionError();
      setStatus(root.dataset.msgOnline, "online");
      everSynced = true;
      // A post whose ack the dropped connection never brought: send it again with the same
      // idempotency key; if it was stored, the server answers with the same ack, not a copy.
      if (pendingPost) window.AgoraLive.send(pendingPost);
      else offlineBanner(false);
    },
    "message.ack": function (frame) {
      if (frame.client_id !== pendingClientId) return;
      pendingClientId = null;
      pendingPost = null;
      offlineBanner(false);
      textarea.value = "";
      sessionStorage.removeItem(draftKey);
      clearReply();
      sendBtn.disabled = false;
      errorEl.hidden = true;
      textarea.focus();
    },
    error: function (frame) {
      // Refusals of votes and meeting actions are shown next to those controls by voting.js and
      // meeting.js; this handler owns the composer's requests and errors that answer no request.
      if (frame.request_type && !/^(message\.post|reaction\.set|hello|ping)$/.test(frame.request_type)) return;
      if (frame.client_id && frame.client_id === pendingClientId) { pendingClientId = null; pendingPost = null; sendBtn.disabled = false; }
      if (errorEl) { errorEl.textContent = frame.message; errorEl.hidden = false; }
      else { setStatus(frame.message, "error"); }
      // A keep-alive or a resync that failed (the server's database was away) says nothing about
      // the composer: the next one that succeeds takes the sentence away again.
      connectionError = frame.request_type === "ping" || frame.request_type === "hello";
    },
    pong: function () { clearConnectionError(); },
    reaction: function (frame) {
      var el = list.querySelector('[data-id="' + frame.message_id + '"]');
      if (!el) return;
      var a = el.querySelector(".count-agree"), d = el.querySelector(".count-disagree");
      if (a) a.textContent = frame.agree;
      if (d) d.textContent = frame.disagree;
    },
    // The author's own copy of a message a moderator hid: what was hidden and why (the others'
    // copy just goes, meeting.js). A moderator's page shows every hidden message anyway.
    "message.hidden_own": function (frame) {
      if (String(frame.session_id) !== sessionId || !frame.html) return;
      var existing = document.getElementById("msg-" + frame.seq);
      if (existing && existing.classList.contains("is-hidden")) return;
      var el = fragment(frame.html);
      if (!el) return;
      if (existing) { existing.replaceWith(el); }
      else {
        var after = Array.prototype.find.call(list.querySelectorAll(".message"), function (m) { return Number(m.dataset.seq) > frame.seq; });
        list.insertBefore(el, after || null);
      }
      announce(el.querySelector(".own-hidden-note").textContent);
    },
    presence: function (frame) { var p = document.getElementById("presence"); if (p && frame.html) p.innerHTML = frame.html; },
    "session.state": function (frame) {
      if (frame.state === root.dataset.state) return;
      if (textarea && textarea.value) sessionStorage.setItem(draftKey, textarea.value);
      window.location.reload();
    },
    closed: function (frame) { closedForGood = true; setStatus(frame.message, "error"); }
  };

  function connect() {
    var proto = window.location.protocol === "https:" ? "wss://" : "ws://";
    var opened = false;
    socket = new WebSocket(proto + window.location.host + "/ws/sessions/" + sessionId + "/");
    socket.onopen = function () {
      opened = true;
      failedOpens = 0;
      backoff = 500;
      socket.send(JSON.stringify({ type: "hello", last_seq: lastSeq }));
      clearInterval(pingTimer);
      lastFrameAt = Date.now();
      pingTimer = setInterval(function () {
        // A phone that changed networks may keep a dead socket open: no answer for 60 s means gone.
        if (Date.now() - lastFrameAt > 60000) { socket.close(); return; }
        window.AgoraLive.send({ type: "ping" });
      }, 25000);
    };
    socket.onmessage = function (ev) {
      var frame;
      lastFrameAt = Date.now();
      try { frame = JSON.parse(ev.data); } catch (e) { return; }
      if (handlers[frame.type]) handlers[frame.type](frame);
      emit(frame);
      setTimeout(keepFocus, 0);
      setTimeout(keepFocus, 120); // again after the browser has moved the focus off a control it hid
    };
    socket.onclose = function (ev) {
      clearInterval(pingTimer);
      // A post on its way stays pending (sent again after the reconnect), unless we stop here.
      if (ev.code === 4403 || closedForGood) {
        closedForGood = true;
        if (pendingClientId) { pendingClientId = null; pendingPost = null; sendBtn.disabled = false; }
        return;
      }
      clearTimeout(retryTimer);
      if (!opened) failedOpens += 1;
      if (ev.code === 4429 || failedOpens >= 3) {
        // Too many windows, or the server turned the handshake down (seen as 1006 before open).
        setStatus(ev.code === 4429 ? root.dataset.msgTooMany : root.dataset.msgRefused, "error");
        retryTimer = setTimeout(connect, refusedBackoff);
        refusedBackoff = Math.min(refusedBackoff * 2, 60000);
        return;
      }
      setStatus(root.dataset.msgOffline, "offline");
      retryTimer = setTimeout(connect, backoff);
      backoff = Math.min(backoff * 2, 5000);
    };
  }

  // Offline (docs/live-page.md): a banner that stays in view says so; a message sent meanwhile
  // waits in the composer, its text kept, and goes once the connection is back, with its
  // idempotency key (stored once even if it was sent twice).
  var offlineBox = document.getElementById("room-offline");
  var offlineText = document.getElementById("room-offline-text");
  function offlineBanner(on, text) {
    if (!offlineBox || !offlineText) return;
    offlineText.hidden = !on;
    offlineBox.classList.toggle("shown", !!on);
    if (on && text) offlineText.textContent = text;
  }
  var offlineSentence = offlineText ? offlineText.textContent : "";
  // The browser knows when the network goes and comes back: don't wait for timeouts.
  window.addEventListener("offline", function () {
    offlineBanner(true, offlineSentence);
    if (socket && socket.readyState <= 1) socket.close();
  });
  window.addEventListener("online", function () {
    if (pendingPost) offlineBanner(true, root.dataset.msgBackOnline);
    else offlineBanner(false);
    if (closedForGood || (socket && socket.readyState <= 1)) return;
    clearTimeout(retryTimer);
    backoff = 500;
    connect();
  });

  // Live updates disable, hide and replace controls (a raised hand swaps its button, a ballot
  // button waits for its receipt). A keyboard user whose control vanished must not be dropped at
  // the top of the page: put the focus back on that control, or the nearest one still there.
  // Only when the page itself lost the focus: after a pointer press the user decides.
  var FOCUSABLE = "a[href], button, input:not([type=hidden]), select, textarea, summary, [tabindex]:not([tabindex='-1'])";
  var focusMemory = null;
  document.addEventListener("focusin", function (ev) {
    var el = ev.target;
    if (!el || !el.matches || !el.matches(FOCUSABLE)) return;
    var boxes = [];  // ids of the regions around it, innermost first: a live update may replace them
    for (var p = el.parentElement; p && p !== document.body; p = p.parentElement) if (p.id) boxes.push(p.id);
    focusMemory = { el: el, id: el.id, boxes: boxes };
  });
  document.addEventListener("pointerdown", function () { focusMemory = null; }, true);
  // Chromium moves the focus off a control it hides or disables during a later frame, sometimes
  // with a focusout and sometimes silently: check after a focusout, and now and then.
  document.addEventListener("focusout", function (ev) { if (!ev.relatedTarget) setTimeout(keepFocus, 50); });
  setInterval(keepFocus, 1000);
  function usable(el) {
    return !!el && document.contains(el) && !el.disabled && !el.closest("[hidden]") && el.getClientRects().length > 0;
  }
  function keepFocus() {
    var active = document.activeElement;
    // A hidden or disabled element may still be document.activeElement until the next frame.
    if (!focusMemory || (active && active !== document.body && usable(active)) || !document.hasFocus()) return;
    var m = focusMemory, target = null;
    // Disabled while its request is on the way: it comes back, so wait for it rather than move on.
    if (m.el.disabled && document.contains(m.el) && !m.el.closest("[hidden]")) return;
    if (usable(m.el)) target = m.el;
    else if (m.id && usable(document.getElementById(m.id))) target = document.getElementById(m.id);
    else {
      var node = document.contains(m.el) ? m.el.parentElement : null;
      for (var i = 0; !node && i < m.boxes.length; i++) node = document.getElementById(m.boxes[i]);
      for (; node && node !== document.body; node = node.parentElement) {
        target = Array.prototype.find.call(node.querySelectorAll(FOCUSABLE), usable);
        if (target) break;
      }
    }
    if (target) target.focus();
  }

  // Elder mode shows fewer controls at once: each message has one button that opens its
  // agree / disagree / reply buttons, instead of all three on every message.
  var elder = document.documentElement.classList.contains("elder");
  function simplify(item, previous) {
    var actions = item && item.querySelector(".message-actions");
    if (!elder || !actions || item.querySelector(".respond-toggle")) return;
    var open = !!(previous && previous.querySelector(".respond-toggle[aria-expanded=true]"));
    actions.id = "actions-" + item.dataset.seq;
    actions.hidden = !open;
    var toggle = document.createElement("button");
    toggle.type = "button";
    toggle.className = "respond-toggle";
    toggle.setAttribute("aria-expanded", open ? "true" : "false");
    toggle.setAttribute("aria-controls", actions.id);
    toggle.textContent = root.dataset.msgRespond || "…";
    actions.before(toggle);
  }
  if (elder) list.querySelectorAll(".message").forEach(function (item) { simplify(item); });

  // One idempotency key per composed message (docs/protocol.md, message.post).
  function newKey() {
    var bytes = new Uint8Array(16);
    (window.crypto || window.msCrypto).getRandomValues(bytes);
    return "m" + Array.prototype.map.call(bytes, function (b) { return ("0" + b.toString(16)).slice(-2); }).join("");
  }

  function clearReply() {
    replyTo = null;
    var r = document.getElementById("replying");
    if (r) r.hidden = true;
  }

  if (composer) {
    var saved = sessionStorage.getItem(draftKey);
    if (saved && !textarea.value) textarea.value = saved;
    textarea.addEventListener("input", function () { sessionStorage.setItem(draftKey, textarea.value); });
    textarea.addEventListener("keydown", function (ev) {
      if (ev.key === "Enter" && (ev.ctrlKey || ev.metaKey)) { ev.preventDefault(); composer.requestSubmit(); }
    });
    composer.addEventListener("submit", function (ev) {
      var offline = navigator.onLine === false;
      var connected = socket && socket.readyState === 1;
      // Never connected and online (no WebSockets here): the form posts normally. Offline, or
      // between two connections: the post waits and goes after the next sync.
      if (!connected && !offline && !everSynced) return;
      ev.preventDefault();
      var text = textarea.value.trim();
      if (!text || pendingClientId) return;
      pendingClientId = "c" + Date.now() + "-" + (++counter);
      sendBtn.disabled = true;
      errorEl.hidden = true;
      pendingPost = { type: "message.post", text: text, reply_to: replyTo, client_id: pendingClientId, idempotency_key: newKey() };
      sessionStorage.setItem(draftKey, textarea.value);
      if (connected && !offline) window.AgoraLive.send(pendingPost);
      else offlineBanner(true, offlineSentence);
    });
    var cancel = document.getElementById("cancel-reply");
    if (cancel) cancel.addEventListener("click", clearReply);
  }

  list.addEventListener("click", function (ev) {
    var btn = ev.target.closest("button");
    if (!btn) return;
    var item = btn.closest(".message");
    if (btn.classList.contains("respond-toggle")) {
      var opened = btn.getAttribute("aria-expanded") !== "true";
      btn.setAttribute("aria-expanded", opened ? "true" : "false");
      document.getElementById(btn.getAttribute("aria-controls")).hidden = !opened;
      return;
    }
    if (btn.classList.contains("react") && item) {
      window.AgoraLive.send({ type: "reaction.set", message_id: parseInt(item.dataset.id, 10), kind: btn.dataset.kind });
    } else if (btn.classList.contains("reply") && composer) {
      replyTo = parseInt(btn.dataset.replyTo, 10);
      document.getElementById("replying-label").textContent = "↩ " + btn.dataset.replyName;
      document.getElementById("replying").hidden = false;
      textarea.focus();
    }
  });

  // Elder mode (适老化): a ballot is final only after the voter has seen their choice in words and
  // confirmed it. Runs in the capture phase, before the voting script's own submit handler.
  if (document.documentElement.classList.contains("elder")) {
    document.addEventListener("submit", function (ev) {
      var form = ev.target;
      if (!form.classList || !form.classList.contains("ballot-form")) return;
      if (form.dataset.confirmed === "1") { delete form.dataset.confirmed; return; }
      var chosen = [];
      form.querySelectorAll("select[name=rank]").forEach(function (s, i) {
        if (s.value) chosen.push((i + 1) + ". " + s.options[s.selectedIndex].text);
      });
      form.querySelectorAll("input[name=choice]:checked").forEach(function (input) {
        var label = input.closest("label");
        chosen.push((label ? label.textContent : input.value).trim());
      });
      var ranks = Array.prototype.map.call(form.querySelectorAll("select[name=rank]"), function (s) { return s.value; })
        .filter(function (v) { return v; });
      if (ranks.some(function (v, i) { return ranks.indexOf(v) !== i; })) return; // the voting script refuses it
      if (!chosen.length && form.dataset.kind === "approval") chosen.push(form.dataset.msgBlank || "—");
      if (!chosen.length) return; // nothing chosen: the voting script says so
      ev.preventDefault();
      ev.stopImmediatePropagation();
      var old = form.querySelector(".ballot-confirm");
      if (old) old.remove();
      var box = document.createElement("div");
      box.className = "ballot-confirm";
      box.setAttribute("role", "group");
      var question = document.createElement("p");
      question.id = "ballot-confirm-" + (form.dataset.motionId || "x");
      question.tabIndex = -1;
      question.textContent = (root.dataset.msgConfirm || "") + " " + chosen.join(root.dataset.listSeparator || ", ");
      box.setAttribute("aria-labelledby", question.id);
      var yes = document.createElement("button");
      yes.type = "button";
      yes.className = "button primary confirm-yes";
      yes.textContent = root.dataset.msgConfirmYes || "OK";
      var change = document.createElement("button");
      change.type = "button";
      change.className = "button confirm-change";
      change.textContent = root.dataset.msgConfirmChange || "Change";
      var cast = form.querySelector("button.cast");
      box.appendChild(question);
      box.appendChild(yes);
      box.appendChild(change);
      if (cast) { cast.hidden = true; cast.after(box); } else { form.appendChild(box); }
      yes.addEventListener("click", function () {
        box.remove();
        if (cast) cast.hidden = false;
        form.dataset.confirmed = "1";
        // Posted without a live connection, the form tells the server it was confirmed here
        // (voting.views.ballot_cast asks again otherwise).
        var confirmed = form.querySelector("input[name=confirmed]");
        if (confirmed) confirmed.value = "1";
        form.requestSubmit(cast || undefined);
        if (cast) cast.focus();
      });
      change.addEventListener("click", function () {
        box.remove();
        if (cast) cast.hidden = false;
        var first = form.querySelector("input[name=choice]:checked, input[name=choice], select[name=rank]");
        if (first) first.focus();
      });
      question.focus();
    }, true);
  }

  // --- the room on a phone (docs/live-page.md) ------------------------------------------------
  // A bottom bar jumps to the parts of the page (讨论 / 表决 / 发言 / 议程) and shows where the
  // reader is; a banner at the top says at once that a vote opened or that the floor is theirs.
  var tabs = document.getElementById("room-tabs");
  var PRIMARY = { discussion: "#send", votes: ".motion[data-state=open] button.cast, .motion[data-state=open] .ballot", floor: "#hand-raise, #hand-lower", agenda: null };
  function barHeight() { return tabs ? tabs.getBoundingClientRect().height : 0; }
  function alertHeight() { var a = document.getElementById("room-alert"); return a && !a.hidden ? a.getBoundingClientRect().height : 0; }
  // Scroll so that ``target`` starts at the top (below a shown banner) and ``action`` is on screen.
  function bringIntoView(target, action) {
    var top = target.getBoundingClientRect().top + window.scrollY - alertHeight() - 8;
    window.scrollTo({ top: Math.max(0, top), behavior: "instant" });
    if (action && action.getClientRects().length) {
      var r = action.getBoundingClientRect(), bottom = window.innerHeight - barHeight() - 8;
      if (r.bottom > bottom) window.scrollBy({ top: r.bottom - bottom, behavior: "instant" });
    }
  }
  function focusPart(target) {
    var heading = target.matches("[tabindex='-1']") ? target : target.querySelector("h2[tabindex='-1'], h2, h3");
    if (!heading) return;
    if (!heading.hasAttribute("tabindex")) heading.tabIndex = -1;
    heading.focus({ preventScroll: true });
  }
  function goTo(key, target) {
    var selector = PRIMARY[key];
    var action = selector ? Array.prototype.find.call(target.querySelectorAll(selector), function (el) { return el.getClientRects().length; }) : null;
    var first = key === "votes" ? target.querySelector(".motion[data-state=open]") : null;
    bringIntoView(first || target, action);
    // The discussion opens at its latest messages, just above the docked composer.
    var latest = key === "discussion" && list.dataset.window !== "earlier" ? list.lastElementChild : null;
    if (latest) latest.scrollIntoView({ block: "end", behavior: "instant" });
    focusPart(first || target);
    markCurrent(key);
    tapped = { key: key, el: first || target };
  }
  // The part last tapped stays marked while its start is on screen (a short last part cannot be
  // scrolled to the top); once the reader scrolls it away, the position decides.
  var tapped = null;
  function markCurrent(key) {
    if (!tabs) return;
    tabs.querySelectorAll(".room-tab").forEach(function (a) {
      if (a.dataset.tab === key) a.setAttribute("aria-current", "location"); else a.removeAttribute("aria-current");
    });
  }
  if (tabs) {
    document.documentElement.classList.add("has-room-tabs");
    tabs.addEventListener("click", function (ev) {
      var a = ev.target.closest(".room-tab");
      var target = a && document.getElementById(a.getAttribute("href").slice(1));
      if (!target) return;
      ev.preventDefault();
      goTo(a.dataset.tab, target);
    });
    // Where the reader is: the last part whose top has passed the upper third of the screen.
    var parts = Array.prototype.map.call(tabs.querySelectorAll(".room-tab"), function (a) {
      return { key: a.dataset.tab, el: document.getElementById(a.getAttribute("href").slice(1)) };
    }).filter(function (p) { return p.el; });
    var spyQueued = false;
    var spy = function () {
      spyQueued = false;
      if (tapped) {
        var top = tapped.el.getBoundingClientRect().top;
        if (top >= -4 && top < window.innerHeight - barHeight()) { markCurrent(tapped.key); return; }
        tapped = null;
      }
      var line = window.innerHeight / 3, current = null;
      parts.slice().sort(function (a, b) { return a.el.getBoundingClientRect().top - b.el.getBoundingClientRect().top; })
        .forEach(function (p) { if (p.el.getBoundingClientRect().top <= line) current = p.key; });
      markCurrent(current);
    };
    window.addEventListener("scroll", function () { if (!spyQueued) { spyQueued = true; requestAnimationFrame(spy); } }, { passive: true });
    spy();
  }
  function countOpenVotes() {
    var badge = document.getElementById("tab-votes-badge");
    if (!badge) return;
    var n = document.querySelectorAll(".motion[data-state=open]").length;
    badge.textContent = n ? String(n) : "";
    badge.hidden = !n;
  }
  countOpenVotes();

  var roomAlert = document.getElementById("room-alert");
  function showAlert(text, goText, target, key) {
    if (!roomAlert) return;
    document.getElementById("room-alert-text").textContent = text;
    var go = document.getElementById("room-alert-go");
    go.textContent = goText;
    go.setAttribute("href", "#" + target.id);
    go.onclick = function (ev) { ev.preventDefault(); roomAlert.hidden = true; goTo(key, target); };
    roomAlert.hidden = false;
  }
  var dismiss = document.getElementById("room-alert-dismiss");
  if (dismiss) dismiss.addEventListener("click", function () { roomAlert.hidden = true; });
  window.AgoraLive.on("motion.opened", function (frame) {
    // After voting.js has put the motion on the page (it listens to the same frame).
    setTimeout(function () {
      countOpenVotes();
      var el = document.getElementById("motion-" + frame.motion_id);
      if (!el || el.dataset.state !== "open") return;
      var title = el.querySelector("h3");
      showAlert((root.dataset.msgVoteOpen || "") + " " + (title ? title.textContent : ""), root.dataset.msgGoVote, el, "votes");
    }, 0);
  });
  window.AgoraLive.on("motion.closed", function (frame) {
    setTimeout(countOpenVotes, 0);
    var go = document.getElementById("room-alert-go");
    if (roomAlert && go && go.getAttribute("href") === "#motion-" + frame.motion_id) roomAlert.hidden = true;
  });
  var floorMine = null;
  window.AgoraLive.on("floor", function (frame) {
    var mine = !!(frame.speaker && String(frame.speaker.user_id) === root.dataset.userId);
    var meeting = document.getElementById("meeting");
    if (mine && floorMine !== frame.speaker.id && meeting) {
      showAlert(root.dataset.msgFloorYours || "", root.dataset.msgGoFloor, meeting, "floor");
      announce(root.dataset.msgFloorYours || "");
    }
    floorMine = mine ? frame.speaker.id : null;
  });

  // Earlier messages, a page at a time: the same link a page without JavaScript follows,
  // fetched and put above the messages already shown (the reading position stays).
  var earlier = document.getElementById("load-earlier");
  if (earlier) earlier.addEventListener("click", function (ev) {
    ev.preventDefault();
    if (earlier.getAttribute("aria-busy") === "true") return;
    earlier.setAttribute("aria-busy", "true");
    var label = earlier.textContent;
    earlier.textContent = earlier.dataset.msgLoading;
    fetch(earlier.href, { credentials: "same-origin" }).then(function (r) {
      if (!r.ok) throw new Error(r.status);
      return r.text();
    }).then(function (html) {
      var doc = new DOMParser().parseFromString(html, "text/html");
      var anchor = list.querySelector(".message");
      var before = anchor ? anchor.getBoundingClientRect().top : 0;
      var added = document.createDocumentFragment();
      doc.querySelectorAll("#messages > .message").forEach(function (item) {
        if (document.getElementById(item.id)) return;
        var el = document.importNode(item, true);
        simplify(el);
        added.appendChild(el);
      });
      list.insertBefore(added, list.firstChild);
      if (anchor) window.scrollBy({ top: anchor.getBoundingClientRect().top - before, behavior: "instant" });
      var next = doc.getElementById("load-earlier");
      earlier.textContent = label;
      earlier.removeAttribute("aria-busy");
      if (next) earlier.setAttribute("href", next.getAttribute("href"));
      else earlier.closest(".history-earlier").remove();
      var first = list.querySelector(".message");
      if (first) { first.tabIndex = -1; first.focus({ preventScroll: true }); }
    }).catch(function () {
      earlier.removeAttribute("aria-busy");
      earlier.textContent = label;
      if (errorEl) { errorEl.textContent = earlier.dataset.msgFailed; errorEl.hidden = false; }
    });
  });

  connect();
})();
