// Replay page: the recorded run's code, read-only, and the same step-through viewer as the playground.
import { setUpCopyButtons } from "./copy.js";
import { attachPredict } from "./predict.js";
import { createEditor } from "./playground/editor.js";
import { Visualizer } from "./visualizer.js";
import { followLive } from "./watch.js";

const events = JSON.parse(document.getElementById("run-events").textContent);
const editor = createEditor(document.getElementById("editor"), {
  code: JSON.parse(document.getElementById("run-code").textContent),
  readOnly: true,
  label: "Code of this run (read-only)",
});
const visualizer = new Visualizer(document.querySelector(".visualizer"), {
  onStep: (event) => editor.highlightLine(event.line),
});
visualizer.add(events);
visualizer.show(0);
attachPredict(visualizer);
setUpCopyButtons();
// A run still going: follow it live, read-only.
const watchState = document.getElementById("watch-state");
if (watchState) followLive(watchState, { visualizer, events, log: document.getElementById("watch-log") });
window.replay = { visualizer, editor };
