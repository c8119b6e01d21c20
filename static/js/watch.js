// Following a running run live on its replay page, read-only, over /ws/runs/<id>/watch/.
// The run's owner answers the greeting with the trace so far; then every page message of the run arrives here too.
import * as protocol from "./protocol.js";
import { connectWithRetry } from "./reconnect.js";

const LOG_LINES = 500;  // latest lines of output and client traffic kept in the page
const CLOSE_FORBIDDEN = 4403;

export function followLive(state, { visualizer, events, log }) {
  const known = new Map(events.map((event) => [event.step, event]));
  let lastStep = events.length ? events[events.length - 1].step : -Infinity;
  let ended = false;
  let connection = null;
  const setState = (name, text) => {
    state.dataset.state = name;
    state.textContent = text;
  };
  const say = (text, kind = "output") => {
    const line = document.createElement("div");
    line.className = `console-line console-${kind}`;
    line.textContent = text;  // learner-controlled text is never parsed as HTML
    log.append(line);
    while (log.childElementCount > LOG_LINES) log.firstElementChild.remove();
    log.scrollTop = log.scrollHeight;
  };
  // The snapshot and the live stream overlap and may cross: each step is shown once, in step order.
  const addEvents = (incoming) => {
    const fresh = incoming.filter((event) => !known.has(event.step));
    if (!fresh.length) return;
    fresh.sort((a, b) => a.step - b.step).forEach((event) => known.set(event.step, event));
    if (fresh[0].step > lastStep) {
      visualizer.add(fresh);
    } else {
      visualizer.reset();
      visualizer.add([...known.values()].sort((a, b) => a.step - b.step));
    }
    lastStep = Math.max(lastStep, fresh[fresh.length - 1].step);
  };
  const end = (reason) => {
    ended = true;
    setState("ended", `The run has ended${reason ? `: ${reason}` : ""}. Everything it did stays here to step through.`);
    document.getElementById("replay-heading").textContent = `Replay of run ${state.dataset.run}`;
    say(`Run ended${reason ? `: ${reason}` : ""}`, "status");
    connection.socket.close();
  };
  const handlers = {
    [protocol.BATCH]: (m) => m.messages.forEach(apply),
    [protocol.EVENTS]: (m) => addEvents(m.events),
    [protocol.OUTPUT]: (m) => say(m.text),
    [protocol.ERROR]: (m) => say(m.line ? `${m.message} (line ${m.line})` : m.message, "error"),
    [protocol.CONSUMER_ACCEPT]: (m) => say(`${m.client} connected${m.subprotocol ? ` (subprotocol ${m.subprotocol})` : ""}`, "status"),
    [protocol.CONSUMER_SEND]: (m) => say(m.bytes !== undefined ? `sent to ${m.client}: binary frame (base64 ${m.bytes})` : `sent to ${m.client}: ${m.text}`),
    [protocol.CONSUMER_CLOSE]: (m) => say(`${m.client} closed with ${m.code}${m.explanation ? ` (${m.explanation})` : ""}`, "status"),
    [protocol.CONSUMER_REJECT]: (m) => say(`${m.client} refused (HTTP ${m.status})${m.explanation ? ` (${m.explanation})` : ""}`, "status"),
    [protocol.CONSUMER_DROP]: (m) => say(`${m.client} dropped: no answer to the handshake (${m.explanation})`, "status"),
    [protocol.PAUSED]: (m) => say(`paused before ${m.client || "layer"}: ${m.action}`, "status"),
    [protocol.STATUS]: (m) => { if (m.state === protocol.RUN_STATE.STOPPED) end(m.reason); },
  };
  function apply(message) {
    if (!ended) handlers[message.type]?.(message);
  }
  connection = connectWithRetry(state.dataset.watchPath, {
    final: [1000, CLOSE_FORBIDDEN],  // 1000: the run is over (the server or this page closed the socket)
    onOpen: () => setState("live", "Live: the run's events appear here as the consumer handles them."),
    onMessage: apply,
    onClose: (event, retrying) => {
      if (ended) return;
      if (retrying) setState("reconnecting", "Connection lost: reconnecting…");
      else setState("refused", "Not live: you may not watch this run (any more).");
    },
  });
}
