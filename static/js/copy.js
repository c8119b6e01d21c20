// Copy buttons: <button data-copy="#field"> copies the field's value, falling back to selecting it.
export function setUpCopyButtons(root = document) {
  for (const button of root.querySelectorAll("[data-copy]")) {
    const label = button.textContent;
    button.addEventListener("click", async () => {
      const field = document.querySelector(button.dataset.copy);
      try {
        await navigator.clipboard.writeText(field.value);
        button.textContent = "Copied";
      } catch {
        field.select();
        button.textContent = "Press Ctrl+C";
      }
      setTimeout(() => { button.textContent = label; }, 1500);
    });
  }
}
