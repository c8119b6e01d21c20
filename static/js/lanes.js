// Lanes: a sequence diagram of clients, their consumer instances and groups, drawn from trace events.
import { KIND } from "./protocol.js";

const NS = "http://www.w3.org/2000/svg";
const ROW = 22;
const LANE = 120;

function arrow(kind, client, groups) {
  // [from lane, to lane, label] for one event; lanes are "client:c1", "consumer:c1", "group:name".
  const c = `client:${client}`;
  const k = `consumer:${client}`;
  const group = groups && groups.length ? `group:${groups[groups.length - 1]}` : null;
  switch (kind) {
    case KIND.CONNECT: return [c, k, KIND.CONNECT];
    case KIND.RECEIVE: return [c, k, KIND.RECEIVE];
    case KIND.DISCONNECT: return [c, k, KIND.DISCONNECT];
    case KIND.ACCEPT: return [k, c, KIND.ACCEPT];
    case KIND.SEND: return [k, c, KIND.SEND];
    case KIND.CLOSE: return [k, c, KIND.CLOSE];
    case KIND.REJECT: return [k, c, KIND.REJECT];
    case KIND.GROUP_ADD: return group ? [k, group, KIND.GROUP_ADD] : null;
    case KIND.GROUP_DISCARD: return group ? [k, group, KIND.GROUP_DISCARD] : null;
    case KIND.GROUP_SEND: return group ? [k, group, KIND.GROUP_SEND] : null;
    case KIND.HANDLER: return group ? [group, k, KIND.HANDLER] : null;
    default: return null;
  }
}

export function drawLanes(container, events) {
  const lanes = [];
  const rows = [];
  const lastGroups = new Map();  // a group_discard row no longer lists the group it left
  for (const event of events) {
    const client = event.client || "-";
    const groups = event.groups && event.groups.length ? event.groups : lastGroups.get(client) || [];
    if (event.groups && event.groups.length) lastGroups.set(client, event.groups);
    const line = arrow(event.kind, client, groups);
    if (!line) continue;
    for (const lane of line.slice(0, 2)) if (!lanes.includes(lane)) lanes.push(lane);
    rows.push({ step: event.step, line });
  }
  const svg = document.createElementNS(NS, "svg");
  const width = Math.max(1, lanes.length) * LANE;
  const height = (rows.length + 2) * ROW;
  svg.setAttribute("viewBox", `0 0 ${width} ${height}`);
  svg.setAttribute("width", width);
  svg.setAttribute("height", height);
  svg.setAttribute("role", "img");
  svg.setAttribute("aria-label", `Sequence diagram: ${rows.length} messages between ${lanes.length} lanes`);
  const x = (lane) => lanes.indexOf(lane) * LANE + LANE / 2;
  lanes.forEach((lane) => {
    const label = document.createElementNS(NS, "text");
    label.setAttribute("x", x(lane));
    label.setAttribute("y", 14);
    label.setAttribute("text-anchor", "middle");
    label.setAttribute("class", "lane-label");
    label.textContent = lane.replace("consumer:", "consumer ").replace("client:", "client ").replace("group:", "group ");
    svg.append(label);
    const rule = document.createElementNS(NS, "line");
    rule.setAttribute("x1", x(lane)); rule.setAttribute("x2", x(lane));
    rule.setAttribute("y1", ROW); rule.setAttribute("y2", height);
    rule.setAttribute("class", "lane-rule");
    svg.append(rule);
  });
  rows.forEach((row, i) => {
    const y = (i + 1.5) * ROW;
    const [from, to, text] = row.line;
    const path = document.createElementNS(NS, "line");
    path.setAttribute("x1", x(from)); path.setAttribute("x2", x(to));
    path.setAttribute("y1", y); path.setAttribute("y2", y);
    path.setAttribute("class", `lane-arrow lane-${text}`);
    path.setAttribute("marker-end", "url(#lane-head)");
    svg.append(path);
    const label = document.createElementNS(NS, "text");
    label.setAttribute("x", (x(from) + x(to)) / 2);
    label.setAttribute("y", y - 3);
    label.setAttribute("text-anchor", "middle");
    label.setAttribute("class", "lane-text");
    label.textContent = `${row.step} ${text}`;
    svg.append(label);
  });
  const defs = document.createElementNS(NS, "defs");
  defs.innerHTML = '<marker id="lane-head" viewBox="0 0 10 10" refX="10" refY="5" markerWidth="6" markerHeight="6" orient="auto-start-reverse"><path d="M 0 0 L 10 5 L 0 10 z"></path></marker>';
  svg.prepend(defs);
  container.replaceChildren(svg);
}
