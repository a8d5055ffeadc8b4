// Paper ballots: scanning a code with the phone's camera where the browser has BarcodeDetector
// (progressive: without it, the field takes what a USB scanner or the clerk types), and the
// register's print button. The pages work without this script.
(function () {
  "use strict";
  var printButton = document.querySelector("[data-print]");
  if (printButton) printButton.addEventListener("click", function () { window.print(); });

  var form = document.getElementById("paper-code-form");
  if (!form || !("BarcodeDetector" in window) || !navigator.mediaDevices || !navigator.mediaDevices.getUserMedia) return;
  var input = document.getElementById("paper-code");
  var box = form.querySelector(".paper-camera");
  var video = box.querySelector("video");
  var button = document.createElement("button");
  button.type = "button";
  button.className = "button";
  button.textContent = form.dataset.cameraLabel;
  form.querySelector(".paper-code-row").appendChild(button);
  var stream = null;
  var detector = null;

  function stop() {
    if (stream) stream.getTracks().forEach(function (t) { t.stop(); });
    stream = null;
    box.hidden = true;
    button.textContent = form.dataset.cameraLabel;
  }

  function scan() {
    if (!stream) return;
    detector.detect(video).then(function (codes) {
      if (codes.length && codes[0].rawValue) {
        input.value = codes[0].rawValue;
        stop();
        form.submit();
        return;
      }
      window.setTimeout(scan, 200);
    }).catch(function () { window.setTimeout(scan, 400); });
  }

  button.addEventListener("click", function () {
    if (stream) { stop(); return; }
    window.BarcodeDetector.getSupportedFormats().then(function (formats) {
      if (formats.indexOf("qr_code") < 0) { button.remove(); return null; }
      detector = new window.BarcodeDetector({ formats: ["qr_code"] });
      return navigator.mediaDevices.getUserMedia({ video: { facingMode: "environment" }, audio: false });
    }).then(function (s) {
      if (!s) return;
      stream = s;
      video.srcObject = s;
      box.hidden = false;
      button.textContent = form.dataset.cameraStop;
      video.play().then(scan);
    }).catch(function () { stop(); });
  });
})();
