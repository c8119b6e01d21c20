// The client panel: one card per simulated WebSocket client, with its own message log.
import { CLIENT_CLOSE, CLIENT_CONNECT, CLIENT_SEND, CONSUMER_ACCEPT, CONSUMER_CLOSE, CONSUMER_DROP, CONSUMER_REJECT, CONSUMER_SEND } from "../protocol.js";

// One formatter for every log row: toLocaleTimeString() builds a new one per call, which a flood of frames feels.
const TIME_FORMAT = new Intl.DateTimeFormat(undefined, { timeStyle: "medium" });
const ENCODER = new TextEncoder();
const LOG_ROWS = 100;  // rows a client's log shows; older frames stay in memory for search and filters

function byteSize(text) {
  return ENCODER.encode(text).length;
}

function base64Size(b64) {
  return Math.floor((b64.length * 3) / 4) - (b64.endsWith("==") ? 2 : b64.endsWith("=") ? 1 : 0);
}

function prettyJson(text) {
  try {
    return JSON.stringify(JSON.parse(text), null, 2);
  } catch {
    return text;
  }
}

export class ClientPanel {
  constructor({ container, template, send, onLog }) {
    this.container = container;
    this.template = template;
    this.send = send;
    this.onLog = onLog;
    this.clients = new Map();
    this.counter = 0;
  }

  add(path, query) {
    this.counter += 1;
    const id = `c${this.counter}`;
    const card = this.template.content.firstElementChild.cloneNode(true);
    card.dataset.client = id;
    card.querySelector(".client-name").textContent = id;
    card.querySelector(".client-path").textContent = path + (query ? `?${query}` : "");
    const client = { id, path, query, card, state: "new", entries: [] };
    this.clients.set(id, client);
    card.querySelector('[data-action="connect"]').addEventListener("click", () => this.connect(client));
    card.querySelector('[data-action="close"]').addEventListener("click", () => {
      const code = parseInt(card.querySelector(".close-code").value, 10) || 1000;
      this.send({ type: CLIENT_CLOSE, client: id, code });
    });
    card.querySelector('[data-action="remove"]').addEventListener("click", () => {
      if (client.state === "open" || client.state === "connecting") this.send({ type: CLIENT_CLOSE, client: id, code: 1000 });
      card.remove();
      this.clients.delete(id);
    });
    card.querySelector('[data-action="clear-log"]').addEventListener("click", () => {
      client.entries = [];
      this.render(client);
    });
    for (const selector of [".log-filter", ".log-search", ".log-pretty"]) {
      card.querySelector(selector).addEventListener("input", () => this.render(client));
    }
    card.querySelector(".send-form").addEventListener("submit", (event) => {
      event.preventDefault();
      this.sendFrom(client);
    });
    this.container.append(card);
    this.setState(client, "new");
    return client;
  }

  connect(client) {
    this.setState(client, "connecting");
    this.send({ type: CLIENT_CONNECT, client: client.id, path: client.path, query: client.query });
  }

  sendFrom(client) {
    const card = client.card;
    const kind = card.querySelector(".send-kind").value;
    const text = card.querySelector(".send-text").value;
    if (kind === "binary") {
      try {
        atob(text);
      } catch {
        this.onLog(`${client.id}: binary frames are written as base64; "${text.slice(0, 40)}" is not base64.`, "error");
        return;
      }
      this.send({ type: CLIENT_SEND, client: client.id, bytes: text });
      this.log(client, "sent", "binary", base64Size(text), text);
      return;
    }
    if (kind === "json") {
      try {
        JSON.parse(text);
      } catch (error) {
        this.onLog(`${client.id}: that is not valid JSON (${error.message}).`, "error");
        return;
      }
    }
    this.send({ type: CLIENT_SEND, client: client.id, text });
    this.log(client, "sent", "text", byteSize(text), text);
  }

  setState(client, state) {
    client.state = state;
    const badge = client.card.querySelector(".client-state");
    badge.textContent = state;
    badge.dataset.state = state;
  }

  receive(message) {
    const client = this.clients.get(message.client);
    if (!client) return;
    if (message.type === CONSUMER_ACCEPT) this.setState(client, "open");
    if (message.type === CONSUMER_SEND) {
      if (message.bytes !== undefined) this.log(client, "received", "binary", base64Size(message.bytes), message.bytes);
      else this.log(client, "received", "text", byteSize(message.text), message.text);
    }
    if (message.type === CONSUMER_CLOSE || message.type === CONSUMER_REJECT || message.type === CONSUMER_DROP) {
      this.setState(client, "closed");
      const what = {
        [CONSUMER_CLOSE]: message.by === "client" ? `closed by you (code ${message.code})` : `closed by the server (code ${message.code})`,
        [CONSUMER_REJECT]: `refused (HTTP ${message.status})`,
        [CONSUMER_DROP]: "dropped: no answer to the handshake",
      }[message.type];
      const direction = message.type === CONSUMER_CLOSE && message.by === "client" ? "sent" : "received";
      this.log(client, direction, "close", 0, what, message.explanation);
    }
  }

  // A client of a run the page showed before a reload: its card comes back under its own name, in its state.
  adopt(id, path, state) {
    const number = Number(/^c(\d+)$/.exec(id)?.[1]);
    if (!number || this.clients.has(id)) return;
    const highest = this.counter;
    this.counter = number - 1;
    const client = this.add(path, "");
    this.counter = Math.max(highest, number);
    this.setState(client, state);
  }

  closeAll() {
    for (const client of this.clients.values()) {
      if (client.state === "open" || client.state === "connecting") this.setState(client, "closed");
    }
  }

  // `why` (optional) explains the entry on a full-width line under it: the Data column is too narrow for sentences.
  log(client, direction, frame, size, data, why = "") {
    const entry = { direction, frame, size, data, why, time: new Date() };
    client.entries.push(entry);
    // Append one row instead of redrawing the log: a flood of messages stays linear.
    const row = this.row(client, entry);
    if (!row) return;
    const body = client.card.querySelector(".client-log tbody");
    body.append(row);
    while (body.querySelectorAll("tr:not(.log-why)").length > LOG_ROWS) {
      body.firstElementChild.remove();
      if (body.firstElementChild?.classList.contains("log-why")) body.firstElementChild.remove();
    }
  }

  render(client) {
    const body = client.card.querySelector(".client-log tbody");
    const rows = client.entries.map((entry) => this.row(client, entry)).filter(Boolean);
    body.replaceChildren(...rows.slice(-LOG_ROWS));
  }

  row(client, entry) {
    const card = client.card;
    const filter = card.querySelector(".log-filter").value;
    const search = card.querySelector(".log-search").value.toLowerCase();
    const pretty = card.querySelector(".log-pretty").checked;
    {
      if (filter !== "all" && entry.direction !== filter) return null;
      if (search && !entry.data.toLowerCase().includes(search)) return null;
      const row = document.createElement("tr");
      row.className = `log-${entry.direction}`;
      const data = pretty && entry.frame === "text" ? prettyJson(entry.data) : entry.data;
      for (const value of [entry.direction === "sent" ? "↑ sent" : "↓ received", TIME_FORMAT.format(entry.time), entry.frame, `${entry.size} B`]) {
        const cell = document.createElement("td");
        cell.textContent = value;
        row.append(cell);
      }
      const cell = document.createElement("td");
      const pre = document.createElement("pre");
      pre.textContent = data;  // textContent: whatever the consumer sent is never parsed as HTML
      cell.append(pre);
      row.append(cell);
      if (!entry.why) return row;
      const why = document.createElement("tr");
      why.className = "log-why";
      const text = document.createElement("td");
      text.colSpan = 5;
      text.textContent = entry.why;
      why.append(text);
      const both = document.createDocumentFragment();
      both.append(row, why);
      return both;
    }
  }
}

