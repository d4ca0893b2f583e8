// The participants page: "select every member" ticks (or unticks) the checkbox of every member's row,
// for the bulk check-in and the invitation.
for (const all of document.querySelectorAll("input[data-select-all]")) {
  const boxes = () => document.querySelectorAll(`input[name="${all.dataset.selectAll}"][data-member]`);
  all.addEventListener("change", () => {
    for (const box of boxes()) box.checked = all.checked;
  });
}
