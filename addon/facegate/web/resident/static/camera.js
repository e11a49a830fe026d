// Face enrolment from the phone's own camera: three frames taken in the page, a moment apart,
// sent once with the form's CSRF token (R10: the engine analyses them in memory and keeps no
// image). Without a camera, or without JavaScript, the file field of the same form works.
(function () {
  "use strict";
  var form = document.getElementById("enrol");
  var panel = document.getElementById("camera");
  if (!form || !panel || !navigator.mediaDevices || !navigator.mediaDevices.getUserMedia) {
    return;
  }
  var video = panel.querySelector("video");
  var button = panel.querySelector("button");
  var status = panel.querySelector("[role=status]");
  var stream = null;
  panel.hidden = false;

  function pause(ms) {
    return new Promise(function (resolve) { setTimeout(resolve, ms); });
  }

  function frame() {
    var canvas = document.createElement("canvas");
    canvas.width = video.videoWidth;
    canvas.height = video.videoHeight;
    canvas.getContext("2d").drawImage(video, 0, 0);
    return new Promise(function (resolve) { canvas.toBlob(resolve, "image/jpeg", 0.92); });
  }

  button.addEventListener("click", async function () {
    button.disabled = true;
    try {
      if (!stream) {
        stream = await navigator.mediaDevices.getUserMedia({
          video: { facingMode: "user", width: 640, height: 480 },
          audio: false,
        });
        video.srcObject = stream;
        await video.play();
      }
      var data = new FormData();
      data.append("csrf", form.querySelector("[name=csrf]").value);
      for (var i = 1; i <= 3; i++) {
        status.textContent = panel.dataset.taking.replace("{n}", String(i));
        await pause(600);
        data.append("image", await frame(), "frame" + i + ".jpg");
      }
      stream.getTracks().forEach(function (track) { track.stop(); });
      stream = null;
      status.textContent = panel.dataset.sending;
      var response = await fetch(form.action, {
        method: "POST", body: data, credentials: "same-origin",
      });
      var page = await response.text();
      document.open();
      document.write(page);
      document.close();
    } catch (error) {
      status.textContent = panel.dataset.failed + " " + error.message;
      button.disabled = false;
    }
  });
})();
