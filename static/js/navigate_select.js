// A <select data-navigate> whose options are URLs goes to the chosen one (no inline handler: the CSP forbids them).
for (const select of document.querySelectorAll("select[data-navigate]")) {
  select.addEventListener("change", () => {
    location.href = select.value;
  });
}
