// Lesson pages: keyboard tabs (arrow keys, Home, End), copy buttons on code blocks, focus after a practice check.
// Everything here is an enhancement: tabs are real links and work without it.
import { attachPredict } from "./predict.js";
import { createEditor, loadAce } from "./playground/editor.js";
import { Visualizer } from "./visualizer.js";

function rovingTabindex(root) {
  for (const tab of root.querySelectorAll('[role="tablist"] [role="tab"]')) {
    tab.tabIndex = tab.getAttribute("aria-selected") === "true" ? 0 : -1;
  }
}

// Whether keyboard focus was in the tablist when htmx swapped the region.
let focusWasOnTabs = false;

// Delegated from the document, so a tablist swapped in by htmx works before any other script runs.
document.addEventListener("keydown", (event) => {
  const tab = event.target.closest && event.target.closest('[role="tablist"] [role="tab"]');
  if (!tab) return;
  const tabs = [...tab.closest('[role="tablist"]').querySelectorAll('[role="tab"]')];
  const index = tabs.indexOf(tab);
  const moves = { ArrowRight: index + 1, ArrowLeft: index - 1, Home: 0, End: tabs.length - 1 };
  if (!(event.key in moves)) return;
  event.preventDefault();
  const target = tabs[(moves[event.key] + tabs.length) % tabs.length];
  target.focus();
  target.click();
});

function addCopyButtons(root) {
  for (const block of root.querySelectorAll(".highlight")) {
    if (block.querySelector(".copy-code")) continue;
    const button = document.createElement("button");
    button.type = "button";
    button.className = "copy-code secondary";
    button.textContent = "Copy";
    button.setAttribute("aria-label", "Copy code to clipboard");
    button.addEventListener("click", async () => {
      const code = block.querySelector("pre").innerText;
      try {
        await navigator.clipboard.writeText(code);
        button.textContent = "Copied";
      } catch {
        button.textContent = "Copy failed";
      }
      setTimeout(() => { button.textContent = "Copy"; }, 1500);
    });
    block.prepend(button);
  }
}

// The execution mode's recorded trace, stepped beside its source with the step's line highlighted: the playground's
// editor (read-only) and step-through viewer. The static tables stay for a page without JS or without Ace.
function setUpTraceViewers(root) {
  for (const box of root.querySelectorAll(".execution[data-events-id]")) {
    if (box.dataset.ready) continue;
    box.dataset.ready = "true";
    const events = JSON.parse(document.getElementById(box.dataset.eventsId).textContent);
    const code = JSON.parse(document.getElementById(box.dataset.codeId).textContent);
    loadAce(box.dataset.aceSrc).then(() => {
      box.querySelector(".execution-viewer").hidden = false;
      box.querySelector(".execution-static").hidden = true;
      const editor = createEditor(box.querySelector(".execution-editor"), {
        code,
        readOnly: true,
        label: "The code that ran (read-only)",
      });
      const viewer = new Visualizer(box.querySelector(".visualizer"), {
        onStep: (event) => editor.highlightLine(event.line),
      });
      viewer.add(events);
      viewer.show(0);
      attachPredict(viewer);
      box.dataset.viewer = "ready";
    }, () => {});  // Ace could not load: the static tables and source stay
  }
}

function enhance(root) {
  rovingTabindex(root);
  addCopyButtons(root);
  setUpTraceViewers(root);
}

enhance(document);
document.body.addEventListener("htmx:beforeSwap", () => {
  focusWasOnTabs = Boolean(document.activeElement && document.activeElement.closest('[role="tablist"]'));
});
document.body.addEventListener("htmx:afterSwap", () => {
  const region = document.getElementById("mode-region");
  if (!region) return;
  enhance(region);
  // Keyboard users keep focus on the tablist: the tab now selected takes it after each swap.
  if (focusWasOnTabs) region.querySelector('[role="tab"][aria-selected="true"]').focus();
});

// A checked practice question is swapped in whole; focus moves to its verdict (or error) so it is read out.
document.body.addEventListener("htmx:afterSwap", (event) => {
  const id = event.detail.target && event.detail.target.id;
  if (!id || !id.startsWith("practice-")) return;
  const article = document.getElementById(id);
  const message = article && (article.querySelector(".form-errors") || article.querySelector(".result"));
  if (message) message.focus();
});
