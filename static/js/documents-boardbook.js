// The board book page: start the background build, poll the small status endpoint, offer the download.
const token = document.querySelector('meta[name="csrf-token"]').content;
const box = document.querySelector(".board-book");

if (box) {
  const bar = box.querySelector("progress");
  const text = box.querySelector(".book-status");
  const link = box.querySelector('[data-role="download"]');
  const button = box.querySelector('[data-action="build"]');

  const show = (state) => {
    bar.max = state.total || 1;
    bar.value = state.done || 0;
    link.hidden = state.status !== "ready";
    if (state.status === "ready") text.textContent = box.dataset.textReady + (state.pages ? ` (${state.pages})` : "");
    else if (state.status === "failed") text.textContent = box.dataset.textFailed;
    else if (state.status === "queued" || state.status === "building") text.textContent = box.dataset.textBuilding;
    else text.textContent = "";
    return state.status === "queued" || state.status === "building";
  };

  const poll = async () => {
    const response = await fetch(box.dataset.statusUrl, { headers: { Accept: "application/json" } });
    if (response.ok && show(await response.json())) setTimeout(poll, 1000);
  };

  button.addEventListener("click", async () => {
    const response = await fetch(box.dataset.startUrl, {
      method: "POST", headers: { "X-CSRFToken": token, Accept: "application/json" },
    });
    if (response.ok && show(await response.json())) setTimeout(poll, 700);
  });
  if (box.dataset.status === "queued" || box.dataset.status === "building") poll();
  else show({ status: box.dataset.status, done: bar.value, total: bar.max });
}
