/* The session form (templates/sessions/session_form.html): a start time in the past is said at once,
 * beside the field; the server asks for a confirmation when it is saved anyway (sessions/forms.py). */
(function () {
  "use strict";
  var input = document.getElementById("id_starts_at");
  var note = document.getElementById("starts-at-past");
  if (!input || !note) return;
  var initial = input.value;
  function check() {
    var when = Date.parse(input.value); // datetime-local: read in this device's time zone
    var past = input.value !== initial && !isNaN(when) && when < Date.now() - 60000;
    note.hidden = !past;
    note.textContent = past ? note.dataset.msg : "";
  }
  input.addEventListener("input", check);
  input.addEventListener("change", check);
})();
