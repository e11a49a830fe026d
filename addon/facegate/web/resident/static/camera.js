// Face enrolment from the phone's own camera. With the camera on, one frame a moment goes to
// /face/check and the engine's verdict shows under the picture (no face, turned away, too dark
// or blurry, too far, a photo or a screen); then three frames are taken a moment apart and sent
// once with the form's CSRF token. R10: the engine analyses every frame in memory and keeps no
// image. Without a camera, or without JavaScript, the file field of the same form works.
(function () {
  "use strict";
  var form = document.getElementById("enrol");
  var panel = document.getElementById("camera");
  if (!form || !panel || !navigator.mediaDevices || !navigator.mediaDevices.getUserMedia) {
    return;
  }
  var video = panel.querySelector("video");
  var turnOn = document.getElementById("camera-on");
  var take = document.getElementById("camera-take");
  var feedback = document.getElementById("feedback");
  var status = document.getElementById("camera-status");
  var csrf = form.querySelector("[name=csrf]").value;
  var stream = null;
  var checking = false;
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

  async function check() {
    // One request at a time, a moment apart, while the camera is on and nothing is being sent.
    while (checking && stream) {
      try {
        var data = new FormData();
        data.append("csrf", csrf);
        data.append("image", await frame(), "check.jpg");
        var response = await fetch("/face/check", {
          method: "POST", body: data, credentials: "same-origin",
        });
        var verdict = await response.json();
        if (!checking) { break; }
        feedback.textContent = verdict.says || verdict.error || "";
        feedback.className = "feedback " + (verdict.ready ? "ready" : "not-ready");
      } catch (error) {
        feedback.textContent = "";
      }
      await pause(800);
    }
  }

  turnOn.addEventListener("click", async function () {
    turnOn.disabled = true;
    try {
      stream = await navigator.mediaDevices.getUserMedia({
        video: { facingMode: "user", width: 640, height: 480 },
        audio: false,
      });
      video.srcObject = stream;
      await video.play();
      turnOn.hidden = true;
      take.hidden = false;
      feedback.textContent = panel.dataset.checking;
      checking = true;
      check();
    } catch (error) {
      status.textContent = panel.dataset.failed + " " + error.message;
      turnOn.disabled = false;
    }
  });

  take.addEventListener("click", async function () {
    take.disabled = true;
    checking = false;
    try {
      var data = new FormData();
      data.append("csrf", csrf);
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
      take.disabled = false;
    }
  });
})();
