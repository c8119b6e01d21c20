// Replay page: the recorded run's code, read-only, and the same step-through viewer as the playground.
import { setUpCopyButtons } from "./copy.js";
import { BATCH, EVENTS, RUN_STATE, STATUS } from "./protocol.js";
import { Visualizer } from "./visualizer.js";

const code = JSON.parse(document.getElementById("run-code").textContent);
const events = JSON.parse(document.getElementById("run-events").textContent);
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
setUpCopyButtons();
// A run still going: follow it live, read-only.
const watchState = document.getElementById("watch-state");
if (watchState) {
  const scheme = location.protocol === "https:" ? "wss" : "ws";
  const socket = new WebSocket(`${scheme}://${location.host}${watchState.dataset.watchPath}`);
  const seen = new Set(events.map((event) => event.step));
  socket.addEventListener("open", () => { watchState.textContent = "live: the run's events appear as they happen"; });
  socket.addEventListener("close", () => { watchState.textContent = "not live any more (the run ended or you lost access)"; });
  const apply = (update) => {
    if (update.type === BATCH) update.messages.forEach(apply);
    if (update.type === EVENTS) {
      const fresh = update.events.filter((event) => !seen.has(event.step));
      fresh.forEach((event) => seen.add(event.step));
      if (fresh.length) visualizer.add(fresh);
    }
    if (update.type === STATUS && update.state === RUN_STATE.STOPPED) watchState.textContent = `run ended: ${update.reason}`;
  };
  socket.addEventListener("message", (message) => apply(JSON.parse(message.data)));
}
window.replay = { visualizer, editor };
