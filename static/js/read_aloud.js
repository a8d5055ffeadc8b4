/* Read aloud (语音阅读, MIIT's web guidance for elder users): a button reads a message, a motion or
   a ballot's choices with the browser's speech synthesis. Each part is spoken in its own language
   (the lang of the text: a Chinese message in the English page is read with a Chinese voice).
   Without a voice the button says so. Buttons are found by delegation: live messages have them too. */
(function () {
  "use strict";
  var body = document.body;
  var status = document.getElementById("read-aloud-status");
  var speaking = null;

  function say(text) {
    if (!status) return;
    status.hidden = false;
    status.textContent = text;
  }
  function langOf(el) {
    var holder = el.closest("[lang]");
    return (holder && holder.getAttribute("lang")) || document.documentElement.lang || "zh-Hans";
  }
  function part(el) {
    if (!el) return null;
    var text = (el.innerText || el.textContent || "").replace(/\s+/g, " ").trim();
    return text ? { text: text, lang: langOf(el) } : null;
  }
  function partsFor(button) {
    var kind = button.dataset.read, parts = [];
    var add = function (el) { var p = part(el); if (p) parts.push(p); };
    if (kind === "message") {
      var m = button.closest(".message");
      if (m) { add(m.querySelector(".author")); add(m.querySelector(".message-text")); }
    } else if (kind === "motion") {
      var motion = button.closest(".motion");
      if (motion) { add(motion.querySelector(".motion-head h3")); add(motion.querySelector(".motion-description")); }
    } else if (kind === "choices") {
      var form = button.closest(".ballot-form");
      var motionOf = button.closest(".motion");
      if (motionOf) add(motionOf.querySelector(".motion-head h3"));
      if (form) {
        add(form.querySelector(".choices legend"));
        form.querySelectorAll(".choices .choice span, .choices .rank select option:checked").forEach(add);
      }
    }
    return parts;
  }
  function voiceFor(voices, lang) {
    var want = lang.toLowerCase(), primary = want.split("-")[0];
    var exact = voices.filter(function (v) { return v.lang && v.lang.toLowerCase().replace("_", "-").indexOf(primary) === 0; });
    if (primary === "zh") {
      var mainland = exact.filter(function (v) { return /cn|hans/i.test(v.lang); });
      if (mainland.length) return mainland[0];
    }
    return exact[0] || null;
  }
  function withVoices(done) {
    var synth = window.speechSynthesis;
    var voices = synth.getVoices();
    if (voices.length) return done(voices);
    var finished = false;
    var finish = function () {
      if (finished) return;
      finished = true;
      synth.removeEventListener("voiceschanged", finish);
      done(synth.getVoices());
    };
    synth.addEventListener("voiceschanged", finish);
    setTimeout(finish, 1500);
  }
  function reset(button) {
    if (!button) return;
    button.classList.remove("is-reading");
    var label = button.querySelector(".read-aloud-label");
    if (label && button.dataset.label) label.textContent = button.dataset.label;
  }
  function keepLabel(button) {
    var label = button.querySelector(".read-aloud-label");
    if (label && !button.dataset.label) button.dataset.label = label.textContent;
    return label;
  }
  function noVoice(button) {
    var text = body.dataset.msgNoVoice || "";
    var label = keepLabel(button);
    if (label) label.textContent = text;
    button.classList.add("no-voice");
    button.setAttribute("aria-disabled", "true");
    say(text);
  }
  function read(button) {
    if (button.getAttribute("aria-disabled") === "true") { say(body.dataset.msgNoVoice || ""); return; }
    var synth = window.speechSynthesis;
    if (!synth || typeof window.SpeechSynthesisUtterance !== "function") { noVoice(button); return; }
    if (speaking === button) { synth.cancel(); reset(button); speaking = null; return; }
    if (speaking) { synth.cancel(); reset(speaking); }
    var parts = partsFor(button);
    if (!parts.length) return;
    withVoices(function (voices) {
      var chosen = parts.map(function (p) { return voiceFor(voices, p.lang); });
      if (!voices.length || chosen.every(function (v) { return !v; })) { noVoice(button); return; }
      speaking = button;
      button.classList.add("is-reading");
      var label = keepLabel(button);
      if (label) label.textContent = body.dataset.msgStopReading || label.textContent;
      parts.forEach(function (p, i) {
        var u = new window.SpeechSynthesisUtterance(p.text);
        u.lang = p.lang;
        if (chosen[i]) u.voice = chosen[i];
        u.rate = document.documentElement.classList.contains("elder") ? 0.85 : 1;
        if (i === parts.length - 1) {
          u.onend = u.onerror = function () { if (speaking === button) { reset(button); speaking = null; } };
        }
        synth.speak(u);
      });
    });
  }
  document.addEventListener("click", function (event) {
    var button = event.target.closest && event.target.closest("button.read-aloud");
    if (!button) return;
    event.preventDefault();
    read(button);
  });
})();
