// The playground page: editor, run/stop over /ws/playground/, output console, client panel, live URL.
import { ClientPanel } from "./playground/clients.js";
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

function sayError(message, line) {
  const entry = say(message, "error");
  if (line) {
    const jump = document.createElement("button");
    jump.type = "button";
    jump.className = "link-button";
    jump.textContent = `Go to line ${line}`;
    jump.addEventListener("click", () => editor.goToLine(line));
    entry.append(" ", jump);
  }
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

const handlers = {
  [protocol.STATUS]: (m) => {
    setStatus(m.state, m.reason);
    if (m.state === protocol.RUN_STATE.STOPPED && m.reason) {
      const line = say(`Run ended: ${m.reason}`, "status");
      if (m.replay) {
        const link = document.createElement("a");
        link.href = m.replay;
        link.textContent = "Replay this run";
        line.append(" ", link);
      }
    }
  },
  [protocol.LIVE]: (m) => setLiveUrl(m.url),
  [protocol.OUTPUT]: (m) => say(m.text, "output"),
  [protocol.ERROR]: (m) => sayError(m.message, m.line),
  [protocol.CONSUMER_ACCEPT]: (m) => panel.receive(m),
  [protocol.CONSUMER_SEND]: (m) => panel.receive(m),
  [protocol.CONSUMER_CLOSE]: (m) => panel.receive(m),
  [protocol.CONSUMER_REJECT]: (m) => panel.receive(m),
  [protocol.EVENTS]: (m) => visualizer.add(m.events),
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
    },
    onMessage: dispatch,
    onClose: (event, retrying) => {
      root.dataset.connected = "false";
      if (running) setStatus(protocol.RUN_STATE.STOPPED, "connection to the server lost");
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
document.getElementById("starter-select").addEventListener("change", (event) => {
  window.location.href = event.target.value;
});
runButton.addEventListener("click", () => {
  setStatus(protocol.RUN_STATE.STARTING);
  visualizer.reset();
  send({ type: protocol.RUN, code: editor.getValue(), starter: root.dataset.starter });
});
stopButton.addEventListener("click", () => send({ type: protocol.STOP }));
pauseToggle.addEventListener("change", () => {
  send({ type: protocol.PAUSE, on: pauseToggle.checked });
  stepButton.disabled = !pauseToggle.checked;
});
stepButton.addEventListener("click", () => send({ type: protocol.STEP }));
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
window.playground = { editor, panel, send, visualizer };
