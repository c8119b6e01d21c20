// Replay page: the recorded run's code, read-only, and the same step-through viewer as the playground.
import { setUpCopyButtons } from "./copy.js";
import { attachPredict } from "./predict.js";
import { Visualizer } from "./visualizer.js";
import { followLive } from "./watch.js";

const code = JSON.parse(document.getElementById("run-code").textContent);
const events = JSON.parse(document.getElementById("run-events").textContent);
window.ace.config.set("useStrictCSP", true);  // its CSS is linked by the page (playground/_ace_styles.html)
const editor = window.ace.edit("editor");
editor.session.setMode("ace/mode/python");
editor.setTheme(window.matchMedia("(prefers-color-scheme: dark)").matches ? "ace/theme/tomorrow_night" : "ace/theme/chrome");
editor.setReadOnly(true);
editor.setValue(code, -1);
let marker = null;
const Range = window.ace.require("ace/range").Range;
const visualizer = new Visualizer(document.querySelector(".visualizer"), {
  onStep: (event) => {
    if (marker !== null) editor.session.removeMarker(marker);
    marker = event.line ? editor.session.addMarker(new Range(event.line - 1, 0, event.line - 1, 1), "viz-current-line", "fullLine") : null;
    if (event.line) editor.scrollToLine(event.line - 1, true, false, () => {});
  },
});
visualizer.add(events);
visualizer.show(0);
attachPredict(visualizer);
setUpCopyButtons();
// A run still going: follow it live, read-only.
const watchState = document.getElementById("watch-state");
if (watchState) followLive(watchState, { visualizer, events, log: document.getElementById("watch-log") });
window.replay = { visualizer, editor };
