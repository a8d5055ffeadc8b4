// The decision reminder banner: "Hide" takes it off this page only; it comes back on the next
// page until the household has voted (voting/decisions/pages/context_processors.py).
(function () {
  "use strict";
  var banner = document.getElementById("decision-reminder");
  if (!banner) return;
  var hide = banner.querySelector(".reminder-dismiss");
  if (!hide) return;
  hide.hidden = false;
  hide.addEventListener("click", function () {
    banner.remove();
    var main = document.getElementById("main");
    if (main) main.focus();
  });
})();
