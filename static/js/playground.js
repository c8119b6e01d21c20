// The playground page: editor, run/stop over /ws/playground/, output console, client panel, live URL.
import { ClientPanel } from "./playground/clients.js";
import { setUpDrafts } from "./playground/drafts.js";
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

function setUpEditor() {
  const code = JSON.parse(document.getElementById("starter-code").textContent);
  const fallback = document.getElementById("code-fallback");
  if (!window.ace) {
    fallback.hidden = false;
    fallback.value = code;
    return {
      getValue: () => fallback.value,
      setValue: (text) => { fallback.value = text; },
      onChange: (handler) => fallback.addEventListener("input", () => handler(fallback.value)),
      gotoLine: () => fallback.focus(),
    };
  }
  window.ace.config.set("useStrictCSP", true);  // its CSS is linked by the page (playground/_ace_styles.html)
  const instance = window.ace.edit("editor");
  instance.session.setMode("ace/mode/python");
  const dark = window.matchMedia("(prefers-color-scheme: dark)").matches;
  instance.setTheme(dark ? "ace/theme/tomorrow_night" : "ace/theme/chrome");
  instance.setOptions({ fontSize: "14px", tabSize: 4, useSoftTabs: true, showPrintMargin: false });
  instance.setValue(code, -1);
  instance.textInput.getElement().setAttribute("aria-label", "Consumer code editor");
  return {
    getValue: () => instance.getValue(),
    setValue: (text) => instance.setValue(text, -1),
    onChange: (handler) => instance.session.on("change", () => handler(instance.getValue())),
    gotoLine: (line) => {
      instance.gotoLine(line, 0, true);
      instance.focus();
    },
    raw: instance,
  };
}

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
    jump.addEventListener("click", () => editor.gotoLine(line));
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
  [protocol.ERROR]: (m) => sayError(m.message, m.line),
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

editor = setUpEditor();
let lineMarker = null;
const visualizer = new Visualizer(document.querySelector(".visualizer"), {
  onStep: (event) => {
    // Highlight the learner's line of the current step in the editor.
    if (!editor.raw || !event.line) return;
    const session = editor.raw.session;
    if (lineMarker !== null) session.removeMarker(lineMarker);
    const Range = window.ace.require("ace/range").Range;
    lineMarker = session.addMarker(new Range(event.line - 1, 0, event.line - 1, 1), "viz-current-line", "fullLine");
  },
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
window.playground = { editor, panel, send, visualizer, drafts };
