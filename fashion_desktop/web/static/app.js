// Fashion Lens in a browser: send a picture to /api/classify and show what the desktop window shows.
"use strict";

const $ = (id) => document.getElementById(id);
let classes = ["T-shirt/top", "Trouser", "Pullover", "Dress", "Coat", "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot"];
let images = null; // the last answer's pictures: picture, overlay, model_input
let latest = 0; // only the newest request's answer is shown
let stream = null;

function setStatus(text) { $("status").textContent = text; }

async function waitForModel() {
  for (;;) {
    try {
      const r = await fetch("/api/model", { cache: "no-store" });
      if (r.ok) {
        const info = await r.json();
        classes = info.classes;
        setStatus(`Ready · model ${info.version}`);
        return;
      }
      const body = await r.json().catch(() => ({}));
      if (body.status === undefined && r.status !== 503) { setStatus(body.error || `Server error ${r.status}`); return; }
      setStatus(body.error && !/loading/.test(body.error) ? body.error : "Loading the model…");
    } catch (e) {
      setStatus("The server cannot be reached; retrying…");
    }
    await new Promise((ok) => setTimeout(ok, 1000));
  }
}

function showError(message) {
  $("result").hidden = false;
  $("error").textContent = message;
  $("error").hidden = false;
  $("answer").hidden = true;
}

async function classify(blob, name, started) {
  const id = ++latest;
  const form = new FormData();
  form.append("file", blob, name || "picture");
  document.body.classList.add("busy");
  setStatus("Analysing…");
  let response, body;
  try {
    response = await fetch("/api/classify?images=1&top_k=10", { method: "POST", body: form });
    body = await response.json();
  } catch (e) {
    if (id === latest) { showError("The server could not be reached, or it did not answer with a result."); setStatus("Error"); }
    return;
  } finally {
    if (id === latest) document.body.classList.remove("busy");
  }
  if (id !== latest) return;
  if (!response.ok) { showError(body.error || `The server answered ${response.status}.`); setStatus("Ready"); return; }
  await render(body);
  const ms = performance.now() - started;
  document.body.dataset.resultMs = ms.toFixed(1);
  $("timing").textContent = `Shown ${Math.round(ms)} ms after the picture was given.`;
  setStatus("Ready");
  // On a phone the result is under the picture: bring it into view.
  if (window.matchMedia("(max-width: 760px)").matches) $("result").scrollIntoView({ block: "start" });
}

async function render(row) {
  images = row.images || null;
  $("error").hidden = true;
  $("answer").hidden = false;
  $("result").hidden = false;
  $("label").textContent = row.known ? row.label : `${row.label}?`;
  $("confidence").textContent = `${(100 * row.confidence).toFixed(1)}%`;
  const known = $("known");
  known.textContent = row.known
    ? "A fashion item of one of the ten categories."
    : `Not a fashion item I know: "${row.label}" is only a best guess.`;
  known.classList.toggle("unknown", !row.known);
  const blur = $("blur");
  blur.textContent = row.blur.blurry
    ? `Blurry (score ${row.blur.score.toFixed(2)}, sharp from ${row.blur.threshold.toFixed(2)})`
    : `Sharp (score ${row.blur.score.toFixed(2)})`;
  blur.className = `badge ${row.blur.blurry ? "blurry" : "sharp"}`;

  const bars = $("bars");
  bars.replaceChildren();
  row.probabilities.forEach((p, i) => {
    const li = document.createElement("li");
    li.className = i === row.index ? "top" : "";
    const name = document.createElement("span");
    name.className = "name";
    name.textContent = classes[i];
    const track = document.createElement("span");
    track.className = "track";
    track.setAttribute("aria-hidden", "true");
    const fill = document.createElement("span");
    fill.className = "fill";
    fill.style.width = `${(100 * p).toFixed(1)}%`;
    track.append(fill);
    const pct = document.createElement("span");
    pct.className = "pct";
    pct.textContent = `${(100 * p).toFixed(1)}%`;
    li.append(name, track, pct);
    bars.append(li);
  });

  const items = row.items || [];
  $("items-box").hidden = items.length === 0;
  $("items").replaceChildren(...items.map((it) => {
    const li = document.createElement("li");
    const where = it.region ? `, ${it.region}` : "";
    li.textContent = it.confidence === undefined ? it.label : `${it.label} (${(100 * it.confidence).toFixed(0)}%${where})`;
    return li;
  }));

  const shown = [];
  if (images) {
    $("model-input").src = images.model_input;
    shown.push($("model-input").decode().catch(() => {}));
    shown.push(showPicture());
  }
  await Promise.all(shown);
}

function showPicture() {
  if (!images) return Promise.resolve();
  const img = $("picture");
  img.src = $("edges").checked ? images.overlay : images.picture;
  $("view").hidden = false;
  return img.decode().catch(() => {});
}

function take(file, started) {
  if (!file) return;
  if (file.type && !file.type.startsWith("image/")) {
    showError(`${file.name || "That file"} is not a picture (${file.type}).`);
    return;
  }
  classify(file, file.name, started);
}

function setUpDrop() {
  const drop = $("drop");
  $("file").addEventListener("change", (e) => { take(e.target.files[0], performance.now()); e.target.value = ""; });
  for (const type of ["dragenter", "dragover"]) {
    document.addEventListener(type, (e) => { e.preventDefault(); drop.classList.add("over"); });
  }
  document.addEventListener("dragleave", (e) => { if (!e.relatedTarget) drop.classList.remove("over"); });
  document.addEventListener("drop", (e) => {
    e.preventDefault();
    drop.classList.remove("over");
    take(e.dataTransfer.files[0], performance.now());
  });
  document.addEventListener("paste", (e) => {
    const item = [...(e.clipboardData?.items || [])].find((it) => it.kind === "file" && it.type.startsWith("image/"));
    if (item) { e.preventDefault(); take(item.getAsFile(), performance.now()); }
  });
  $("edges").addEventListener("change", showPicture);
  document.addEventListener("keydown", (e) => {
    if (e.key.toLowerCase() === "e" && !e.ctrlKey && !e.metaKey && !e.altKey && e.target.tagName !== "INPUT") {
      $("edges").checked = !$("edges").checked;
      showPicture();
    }
  });
}

function setUpCamera() {
  const note = $("camera-note");
  if (!navigator.mediaDevices?.getUserMedia) {
    $("camera-start").disabled = true;
    note.hidden = false;
    note.textContent = "The camera needs a secure page: open this server as https://… or on localhost.";
    return;
  }
  $("camera-start").addEventListener("click", async () => {
    try {
      stream = await navigator.mediaDevices.getUserMedia({ video: { facingMode: "environment" }, audio: false });
    } catch (e) {
      note.hidden = false;
      note.textContent = `The camera could not be opened (${e.name}).`;
      return;
    }
    $("video").srcObject = stream;
    await $("video").play().catch(() => {});
    $("camera").hidden = false;
    $("camera-shoot").focus();
  });
  $("camera-shoot").addEventListener("click", () => {
    const started = performance.now();
    const video = $("video");
    const canvas = document.createElement("canvas");
    canvas.width = video.videoWidth;
    canvas.height = video.videoHeight;
    canvas.getContext("2d").drawImage(video, 0, 0);
    canvas.toBlob((blob) => blob && classify(blob, "camera.jpg", started), "image/jpeg", 0.9);
  });
  $("camera-stop").addEventListener("click", () => {
    stream?.getTracks().forEach((t) => t.stop());
    stream = null;
    $("camera").hidden = true;
    $("camera-start").focus();
  });
}

setUpDrop();
setUpCamera();
waitForModel();
