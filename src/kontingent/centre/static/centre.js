/* The centre console's day page, progressively enhanced (the page works without this file):
   - the counters refresh every few seconds from the page itself, without a reload;
   - a QR code is read from the tablet's camera or a photo with jsQR (VENDORED.md) and its
     text goes into the check-in field, which is then sent as if typed.
   Nothing here talks to any other site; the Content-Security-Policy allows only this site's
   scripts. */
(function () {
  "use strict";

  function refreshCounters() {
    var box = document.getElementById("counters");
    if (!box || !window.fetch || !window.DOMParser) { return; }
    var seconds = parseInt(box.getAttribute("data-refresh"), 10) || 20;
    var link = document.getElementById("counters-reload");
    window.setInterval(function () {
      if (document.hidden) { return; }
      fetch(link ? link.href : window.location.href, { credentials: "same-origin" })
        .then(function (r) { return r.ok ? r.text() : null; })
        .then(function (html) {
          if (!html) { return; }
          var fresh = new DOMParser().parseFromString(html, "text/html").querySelector("#counters dl");
          var old = box.querySelector("dl");
          if (fresh && old) { old.replaceWith(fresh); }
        })
        .catch(function () { /* the reload link stays */ });
    }, seconds * 1000);
  }

  function setUpScanner() {
    var scan = document.getElementById("scan");
    var form = document.getElementById("checkin-form");
    var field = document.getElementById("code");
    if (!scan || !form || !field || typeof window.jsQR !== "function") { return; }
    var status = document.getElementById("scan-status");
    var video = document.getElementById("scan-video");
    var start = document.getElementById("scan-camera");
    var stop = document.getElementById("scan-stop");
    var file = document.getElementById("scan-file");
    var canvas = document.createElement("canvas");
    var stream = null;
    scan.hidden = false;

    function say(name) { status.textContent = status.getAttribute("data-" + name) || ""; }

    function decode(source, width, height) {
      if (!width || !height) { return null; }
      var scale = Math.min(1, 1024 / Math.max(width, height));
      canvas.width = Math.round(width * scale);
      canvas.height = Math.round(height * scale);
      var context = canvas.getContext("2d", { willReadFrequently: true });
      context.drawImage(source, 0, 0, canvas.width, canvas.height);
      var pixels = context.getImageData(0, 0, canvas.width, canvas.height);
      var found = window.jsQR(pixels.data, pixels.width, pixels.height);
      return found && found.data ? found.data : null;
    }

    function send(text) {
      halt();
      field.value = text.trim();
      say("found");
      form.submit();
    }

    function halt() {
      if (stream) { stream.getTracks().forEach(function (t) { t.stop(); }); }
      stream = null;
      video.hidden = true;
      stop.hidden = true;
      start.hidden = false;
    }

    function frame() {
      if (!stream) { return; }
      var text = video.readyState >= 2 ? decode(video, video.videoWidth, video.videoHeight) : null;
      if (text) { send(text); } else { window.requestAnimationFrame(frame); }
    }

    start.addEventListener("click", function () {
      if (!navigator.mediaDevices || !navigator.mediaDevices.getUserMedia) { say("nocamera"); return; }
      navigator.mediaDevices.getUserMedia({ video: { facingMode: "environment" }, audio: false })
        .then(function (s) {
          stream = s;
          video.srcObject = s;
          video.hidden = false;
          stop.hidden = false;
          start.hidden = true;
          status.textContent = "";
          return video.play();
        })
        .then(function () { window.requestAnimationFrame(frame); })
        .catch(function () { halt(); say("nocamera"); });
    });
    stop.addEventListener("click", function () { halt(); start.focus(); });

    file.addEventListener("change", function () {
      var picked = file.files && file.files[0];
      if (!picked || !window.createImageBitmap) { return; }
      createImageBitmap(picked)
        .then(function (image) {
          var text = decode(image, image.width, image.height);
          if (text) { send(text); } else { say("none"); }
        })
        .catch(function () { say("none"); });
      file.value = "";
    });
  }

  refreshCounters();
  setUpScanner();
})();
