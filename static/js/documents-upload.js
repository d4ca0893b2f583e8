// Uploading briefing PDFs: drag and drop or the file picker, several at once, one request per file,
// a progress bar per file (XMLHttpRequest upload progress), the CSRF token in a header.
const token = document.querySelector('meta[name="csrf-token"]').content;

function row(list, name) {
  const li = document.createElement("li");
  li.className = "upload-row";
  const label = document.createElement("span");
  label.className = "upload-name";
  label.textContent = name;
  const bar = document.createElement("progress");
  bar.max = 100;
  bar.value = 0;
  bar.setAttribute("aria-label", name);
  const status = document.createElement("span");
  status.className = "upload-status";
  li.append(label, bar, status);
  list.append(li);
  return { li, bar, status };
}

function send(zone, file, title) {
  const list = zone.querySelector(".upload-list");
  const ui = row(list, file.name);
  return new Promise((resolve) => {
    const xhr = new XMLHttpRequest();
    xhr.open("POST", zone.dataset.uploadUrl);
    xhr.setRequestHeader("X-CSRFToken", token);
    xhr.setRequestHeader("Accept", "application/json");
    xhr.upload.addEventListener("progress", (event) => {
      if (event.lengthComputable) ui.bar.value = Math.round((event.loaded / event.total) * 100);
    });
    xhr.addEventListener("load", () => {
      let body = {};
      try { body = JSON.parse(xhr.responseText); } catch (_) { body = {}; }
      if (xhr.status >= 200 && xhr.status < 300) {
        ui.bar.value = 100;
        ui.li.classList.add("upload-done");
        ui.status.textContent = "✓";
        resolve(true);
      } else {
        ui.li.classList.add("upload-error");
        ui.status.textContent = body.error || xhr.statusText || String(xhr.status);
        ui.status.setAttribute("role", "alert");
        resolve(false);
      }
    });
    xhr.addEventListener("error", () => {
      ui.li.classList.add("upload-error");
      ui.status.textContent = "×";
      resolve(false);
    });
    const form = new FormData();
    form.append("file", file, file.name);
    if (title) form.append("title", title);
    xhr.send(form);
  });
}

// The title typed above the drop zone names a single file; several files each take their own title
// (the PDF's /Title, else the file name), which the secretariat may change afterwards.
function typedTitle(zone, count) {
  const input = zone.querySelector(".upload-title");
  const title = input ? input.value.trim() : "";
  return count === 1 ? title : "";
}

async function sendAll(zone, files) {
  const title = typedTitle(zone, files.length);
  const results = await Promise.all(Array.from(files).map((file) => send(zone, file, title)));
  if (results.some(Boolean)) {
    // Show the new documents (or the new version) once every file has finished.
    setTimeout(() => window.location.reload(), results.every(Boolean) ? 300 : 2500);
  }
}

for (const zone of document.querySelectorAll(".dropzone[data-upload-url]")) {
  const input = zone.querySelector('input[type="file"]');
  input.addEventListener("change", () => { if (input.files.length) sendAll(zone, input.files); });
  zone.addEventListener("dragover", (event) => { event.preventDefault(); zone.classList.add("dragging"); });
  zone.addEventListener("dragleave", () => zone.classList.remove("dragging"));
  zone.addEventListener("drop", (event) => {
    event.preventDefault();
    zone.classList.remove("dragging");
    if (event.dataTransfer && event.dataTransfer.files.length) sendAll(zone, event.dataTransfer.files);
  });
}
