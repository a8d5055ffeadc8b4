/* The moderator's console (templates/sessions/panels/_moderator.html): keeps the next step current
 * as votes open and close and the agenda moves, says at once that an agenda item was added, shows
 * what the big screen shows, and keeps one message menu open at a time. Rides on live.js
 * (window.AgoraLive); every control is still a form that works without JavaScript. */
(function () {
  "use strict";

  function init() {
    var live = window.AgoraLive;
    var card = document.getElementById("next-step");
    if (!card) return;

    // --- the next step ---------------------------------------------------------------------
    var refreshTimer = null;
    function refresh() {
      clearTimeout(refreshTimer);
      refreshTimer = setTimeout(function () {
        var current = document.getElementById("next-step");
        if (!current || !current.dataset.refresh) return;
        fetch(current.dataset.refresh, { credentials: "same-origin", headers: { "Accept": "text/html" } })
          .then(function (r) { return r.ok ? r.text() : null; })
          .then(function (html) {
            if (!html) return;
            var t = document.createElement("template");
            t.innerHTML = html.trim();
            var el = t.content.firstElementChild;
            var now = document.getElementById("next-step");
            // The same step again: keep the element (focus, and nothing re-read by screen readers).
            if (!el || !now || (el.dataset.action === now.dataset.action && el.textContent.replace(/\s+/g, " ") === now.textContent.replace(/\s+/g, " "))) return;
            now.replaceWith(el);
          })
          .catch(function () { /* offline: the next frame or a reload brings it */ });
      }, 250);
    }

    // --- feedback for the forms the console sends over the live connection ----------------
    var pending = {};
    document.addEventListener("submit", function (ev) {
      var form = ev.target;
      if (!form.classList || !form.classList.contains("meeting-form")) return;
      var action = new URL(form.action, window.location.href).pathname.split("/").filter(Boolean).pop();
      pending[action] = form;
      if (action === "agenda.add") {
        var title = form.querySelector("input[name=title]");
        var fb = document.getElementById("agenda-add-feedback");
        form.dataset.title = title ? title.value : "";
        if (fb) { fb.className = "tool-feedback"; fb.textContent = fb.dataset.msgSending || ""; }
      }
    }, true);

    function screenLabel(form) {
      var button = form ? form.querySelector("button") : null;
      return button ? button.textContent.trim() : "";
    }

    if (!live) return;
    live.on("meeting.ack", function (frame) {
      var form = pending[frame.request_type];
      delete pending[frame.request_type];
      if (frame.request_type === "agenda.add") {
        var fb = document.getElementById("agenda-add-feedback");
        if (fb) { fb.className = "tool-feedback"; fb.textContent = (fb.dataset.msgAdded || "").replace("{title}", form ? form.dataset.title || "" : ""); }
      }
      if (frame.request_type === "projector.show" && form) {
        var chosen = form.querySelector("input[name=screen]").value;
        document.querySelectorAll(".screen-choice").forEach(function (b) { b.setAttribute("aria-pressed", b.dataset.screen === chosen ? "true" : "false"); });
        var now = document.getElementById("screen-now");
        var choice = document.querySelector('.screen-choice[data-screen="' + chosen + '"]');
        if (now) now.textContent = choice ? choice.textContent.trim() : screenLabel(form);
      }
      if (frame.request_type === "projector.sound" && form) {
        var input = form.querySelector("input[name=sound]");
        var on = input.value === "1";
        form.querySelector("button").setAttribute("aria-pressed", on ? "true" : "false");
        input.value = on ? "0" : "1";
      }
      if (/^agenda\./.test(frame.request_type || "")) refresh();
    });
    live.on("error", function (frame) {
      if (frame.request_type !== "agenda.add") return;
      var fb = document.getElementById("agenda-add-feedback");
      if (fb) { fb.className = "tool-feedback error"; fb.textContent = frame.message || ""; }
    });
    ["motion.opened", "motion.closed", "motion.discarded", "agenda", "synced"].forEach(function (type) { live.on(type, refresh); });

    // --- one message menu at a time ---------------------------------------------------------
    document.addEventListener("toggle", function (ev) {
      var menu = ev.target;
      if (!menu.classList || !menu.classList.contains("msg-menu") || !menu.open) return;
      document.querySelectorAll("details.msg-menu[open]").forEach(function (other) { if (other !== menu) other.open = false; });
    }, true);
    document.addEventListener("keydown", function (ev) {
      if (ev.key !== "Escape") return;
      var open = document.activeElement && document.activeElement.closest ? document.activeElement.closest("details.msg-menu[open]") : null;
      if (!open) return;
      open.open = false;
      open.querySelector("summary").focus();
    });
  }

  // Deferred before live.js in the page: start once every deferred script has run.
  if (document.readyState === "complete") init();
  else document.addEventListener("DOMContentLoaded", init);
})();
