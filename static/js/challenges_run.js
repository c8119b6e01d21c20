// A failed challenge test's run: the graded code, read-only, and the step-through opened where the run went wrong.
import { createEditor } from "./playground/editor.js";
import { Visualizer } from "./visualizer.js";

const events = JSON.parse(document.getElementById("run-events").textContent);
const start = parseInt(document.getElementById("run-start").dataset.step, 10);
const editor = createEditor(document.getElementById("editor"), {
  code: JSON.parse(document.getElementById("run-code").textContent),
  readOnly: true,
  label: "Code of this grading (read-only)",
});
const visualizer = new Visualizer(document.querySelector(".visualizer"), {
  onStep: (event) => editor.highlightLine(event.line),
});
visualizer.add(events);
visualizer.follow = false;
visualizer.show(Math.min(start, events.length - 1));
window.replay = { visualizer, editor };
