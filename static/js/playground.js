// The playground page: editor, run/stop over /ws/playground/, output console, client panel, live URL.
import { ClientPanel } from "./playground/clients.js";
import { setUpDrafts } from "./playground/drafts.js";
import { createEditor } from "./playground/editor.js";
import { setUpCopyButtons } from "./copy.js";
import { connectWithRetry } from "./reconnect.js";
import * as protocol from "./protocol.js";
import { Visualizer } from "./visualizer.js";

const CLOSE_TOO_MANY_SOCKETS = 4013;  // config/socket_caps.py: this user or address holds too many sockets
const root = document.getElementById("playground");
const statusBadge = document.getElementById("run-status");
const runButton = document.getElementById("run-button");
const stopButton = document.getElementById("stop-button");
const consoleBox = document.getElementById("console");
const liveInput = document.getElementById("live-url");
const pauseToggle = document.getElementById("pause-toggle");
const stepButton = document.getElementById("step-button");
const connectionState = document.getElementById("connection-state");
const canRun = root.dataset.canRun === "true";
const runNotice = document.getElementById("run-notice");
// The run this tab shows, kept across a reload (sessionStorage is per tab) so the reloaded page can attach to it.
const SHOWN_RUN_KEY = "playground.run";
const CLIENT_STATES = { connecting: "connecting", accepted: "open", open: "open" };  // trace state -> panel state
let adoptClients = false;  // the next trace rows are a re-attached run's so far: its clients get cards again
let connection = null;  // the page's socket, replaced on each reconnect
let running = false;
let editor = null;

function say(text, kind = "output") {
  const line = document.createElement("div");
  line.className = `console-line console-${kind}`;
  line.textContent = text;
  consoleBox.append(line);
  consoleBox.scrollTop = consoleBox.scrollHeight;
  return line;
}

const LEARNER_FRAME = /File "([^"/]+\.py)", line (\d+)/g;  // a frame of the learner's module (a bare file name)

function lineButton(line, text = `Go to line ${line}`) {
  const jump = document.createElement("button");
  jump.type = "button";
  jump.className = "link-button";
  jump.textContent = text;
  jump.addEventListener("click", () => editor.goToLine(line));
  return jump;
}

// A traceback in Output, each line of the learner's file a link into the editor.
function sayError(message, line) {
  const entry = say("", "error");
  let from = 0;
  for (const match of message.matchAll(LEARNER_FRAME)) {
    entry.append(message.slice(from, match.index), `File "${match[1]}", `, lineButton(Number(match[2]), `line ${match[2]}`));
    from = match.index + match[0].length;
  }
  entry.append(message.slice(from));
  if (line && from === 0) entry.append(" ", lineButton(line));  // no frame of the learner's file to click
}

// Errors where the eye is: a mark in the editor's gutter and the last line of the error beside Run.
function showProblem(message, line) {
  const last = message.split("\n").map((text) => text.trim()).filter(Boolean).pop() || message;
  if (line) editor.markError(line, last);
  const problem = document.getElementById("run-problem");
  const text = document.createElement("span");
  text.textContent = line ? `Line ${line}: ${last}` : last;  // learner-chosen text, shown as text
  const more = document.createElement("a");
  more.href = "#console-heading";
  more.textContent = "Full text in Output";
  problem.replaceChildren(text, " ", ...(line ? [lineButton(line), " "] : []), more);
  problem.hidden = false;
}

function clearProblems() {
  editor.clearMarks();
  document.getElementById("run-problem").hidden = true;
  document.getElementById("run-problem").replaceChildren();
}

function setStatus(state, reason) {
  statusBadge.dataset.state = state;
  statusBadge.textContent = reason ? `${state}: ${reason}` : state;
  running = state === protocol.RUN_STATE.RUNNING || state === protocol.RUN_STATE.STARTING;
  runButton.disabled = !canRun;
  runButton.textContent = running ? "Run again" : "Run";
  stopButton.disabled = !running;
  pauseToggle.disabled = !running;
  stepButton.disabled = !running || !pauseToggle.checked;
  if (!running) {
    pauseToggle.checked = false;
    document.getElementById("pending-list").replaceChildren();
    document.getElementById("pending").hidden = true;
  }
  if (state === protocol.RUN_STATE.STOPPED) {
    panel.closeAll();
    setLiveUrl("");
  }
}

function setLiveUrl(url) {
  liveInput.value = url;
  const path = root.dataset.defaultPath.replace(/^\//, "");
  document.getElementById("snippet-js").textContent = url
    ? `const ws = new WebSocket("${url}${path}");\nws.onmessage = (e) => console.log(e.data);\nws.onopen = () => ws.send("hello");`
    : "// run your code first";
  document.getElementById("snippet-websocat").textContent = url ? `websocat ${url}${path}` : "websocat ws://…";
}

function send(message) {
  const socket = connection?.socket;
  if (!socket || socket.readyState !== WebSocket.OPEN) {
    say("Not connected to the playground server yet.", "error");
    return;
  }
  socket.send(JSON.stringify(message));
}

const panel = new ClientPanel({
  container: document.getElementById("clients"),
  template: document.getElementById("client-template"),
  send,
  onLog: (text, kind) => say(text, kind),
});

function replayLink(href) {
  const link = document.createElement("a");
  link.href = href;
  link.textContent = "Replay this run";
  return link;
}

function shownRun() {
  try {
    const shown = JSON.parse(sessionStorage.getItem(SHOWN_RUN_KEY));
    return shown && shown.starter === root.dataset.starter ? shown.run : null;
  } catch {
    return null;  // storage refused (a privacy setting): no re-attaching, nothing else changes
  }
}

function rememberShownRun(run) {
  try {
    if (run) sessionStorage.setItem(SHOWN_RUN_KEY, JSON.stringify({ run, starter: root.dataset.starter }));
    else sessionStorage.removeItem(SHOWN_RUN_KEY);
  } catch {
    // as above
  }
}

function tell(text, replay) {
  runNotice.replaceChildren(text);
  if (replay) runNotice.append(" ", replayLink(replay));
  runNotice.hidden = false;
}

// The panel cards of a re-attached run's clients, from the trace so far: each client's last row says its state.
function adoptClientsOf(events) {
  const latest = new Map();
  for (const row of events) {
    if (row.client && /^c\d+$/.test(row.client)) latest.set(row.client, row);
  }
  for (const [client, row] of latest) {
    const state = CLIENT_STATES[row.state];
    const path = String(row.vars?.path ?? root.dataset.defaultPath).replace(/^'(.*)'$/, "$1");
    if (state) panel.adopt(client, path, state);
  }
}

const handlers = {
  [protocol.STATUS]: (m) => {
    setStatus(m.state, m.reason);
    if (m.state === protocol.RUN_STATE.STOPPED) {
      rememberShownRun(null);
      if (m.reason) {
        say(`Run ended: ${m.reason}`, "status");
        tell(`Run ended: ${m.reason}.`, m.replay);  // the replay link beside the Run button, where the eye is
      }
    } else if (m.state === protocol.RUN_STATE.STARTING) {
      runNotice.hidden = true;
    }
  },
  [protocol.LIVE]: (m) => {
    setLiveUrl(m.url);
    if (m.run) rememberShownRun(m.run);
  },
  [protocol.ATTACHED]: (m) => {
    visualizer.reset();
    adoptClients = true;
    pauseToggle.checked = Boolean(m.paused);  // the calls still held follow as `paused` messages
    tell("Your run went on while the page reloaded; it is shown here again.");
  },
  [protocol.OUTPUT]: (m) => say(m.text, "output"),
  [protocol.ERROR]: (m) => {
    sayError(m.message, m.line);
    showProblem(m.message, m.line);
  },
  [protocol.CONSUMER_ACCEPT]: (m) => panel.receive(m),
  [protocol.CONSUMER_SEND]: (m) => panel.receive(m),
  [protocol.CONSUMER_CLOSE]: (m) => panel.receive(m),
  [protocol.CONSUMER_REJECT]: (m) => panel.receive(m),
  [protocol.CONSUMER_DROP]: (m) => panel.receive(m),
  [protocol.EVENTS]: (m) => {
    visualizer.add(m.events);
    if (adoptClients) adoptClientsOf(m.events);
    adoptClients = false;
  },
  [protocol.BATCH]: (m) => m.messages.forEach(dispatch),  // what the server queued while the page was busy, in order
  [protocol.PAUSED]: (m) => {
    const item = document.createElement("li");
    item.dataset.id = m.id;
    item.textContent = `${m.client || "layer"}: ${m.action}`;  // learner-chosen text, shown as text
    document.getElementById("pending-list").append(item);
    document.getElementById("pending").hidden = false;
  },
  [protocol.RESUMED]: (m) => {
    document.querySelector(`#pending-list li[data-id="${m.id}"]`)?.remove();
    if (!document.querySelector("#pending-list li")) document.getElementById("pending").hidden = true;
  },
};

function dispatch(message) {
  const handler = handlers[message.type];
  if (handler) handler(message);
}

// The page's socket; while it is down the page says so and comes back by itself.
function connect() {
  connection = connectWithRetry(root.dataset.wsPath, {
    final: [4401],
    onOpen: () => {
      root.dataset.connected = "true";
      connectionState.hidden = true;
      const run = shownRun();  // after a reload or a lost connection, the run this tab showed may still be going
      if (run !== null) send({ type: protocol.ATTACH, run });
    },
    onMessage: dispatch,
    onClose: (event, retrying) => {
      root.dataset.connected = "false";
      if (running) setStatus(protocol.RUN_STATE.STOPPED, "connection to the server lost; your run is shown again once it is back");
      connectionState.hidden = false;
      connectionState.textContent = !retrying
        ? "Not connected: sign in again to run code."
        : event.code === CLOSE_TOO_MANY_SOCKETS
          ? "Too many open pages: close some of your other tabs; trying again…"
          : "Connection lost: reconnecting…";
    },
  });
}

editor = createEditor(document.getElementById("editor"), {
  code: JSON.parse(document.getElementById("starter-code").textContent),
  label: "Consumer code editor",
  fallback: document.getElementById("code-fallback"),
});
const visualizer = new Visualizer(document.querySelector(".visualizer"), {
  onStep: (event) => editor.highlightLine(event.line),  // the learner's line of the current step
});
const drafts = setUpDrafts({
  editor,
  root,
  starterCode: JSON.parse(document.getElementById("starter-code").textContent),
});
const starterSelect = document.getElementById("starter-select");
const thisStarter = starterSelect.value;
starterSelect.addEventListener("change", async (event) => {
  // The draft is saved before the page changes; when it cannot be, the learner decides.
  const saved = await drafts.flush();
  if (!saved && !window.confirm("Your latest changes could not be saved. Change starter anyway?")) {
    event.target.value = thisStarter;
    return;
  }
  window.location.href = event.target.value;
});
runButton.addEventListener("click", () => {
  setStatus(protocol.RUN_STATE.STARTING);
  clearProblems();
  visualizer.reset();
  send({ type: protocol.RUN, code: editor.getValue(), starter: root.dataset.starter });
});
stopButton.addEventListener("click", () => send({ type: protocol.STOP }));
pauseToggle.addEventListener("change", () => {
  send({ type: protocol.PAUSE, on: pauseToggle.checked });
  stepButton.disabled = !pauseToggle.checked;
});
stepButton.addEventListener("click", () => send({ type: protocol.STEP }));
document.getElementById("goto-line-form").addEventListener("submit", (event) => {
  event.preventDefault();
  const field = document.getElementById("goto-line");
  const line = parseInt(field.value, 10);
  const lines = editor.lineCount();
  const wrong = !(line >= 1 && line <= lines);
  document.getElementById("goto-line-message").textContent = wrong ? `The code has lines 1 to ${lines}.` : "";
  if (wrong) field.setAttribute("aria-invalid", "true");
  else field.removeAttribute("aria-invalid");
  if (!wrong) editor.goToLine(line);
});
document.getElementById("clear-console").addEventListener("click", () => consoleBox.replaceChildren());
document.getElementById("add-client-form").addEventListener("submit", (event) => {
  event.preventDefault();
  const path = document.getElementById("client-path").value.trim() || "/";
  const query = document.getElementById("client-query").value.trim();
  panel.add(path.startsWith("/") ? path : `/${path}`, query);
});
setUpCopyButtons();
if (canRun) connect();
setStatus(protocol.RUN_STATE.STOPPED);
window.playground = { editor, panel, send, visualizer, drafts };
