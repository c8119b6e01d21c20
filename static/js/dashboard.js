// Instructor dashboard: learner activity arrives over /ws/cohorts/<id>/ and updates the page without a reload.
// Every event carries its stored feed items (with ids, so an item already on the page is not added twice), the
// learner's matrix cells as escaped HTML built by the server, their stuck flags and the cohort's learner count.

import { connectWithRetry } from "./reconnect.js";

const root = document.getElementById("dashboard");
const activity = document.getElementById("activity");
const playing = document.getElementById("playing-now");
const liveState = document.getElementById("live-state");
const matrixBody = document.querySelector(".matrix tbody");
const shown = document.getElementById("learners-shown");
const total = document.getElementById("learners-total");
const noun = document.getElementById("learners-noun");
const filterForm = document.querySelector('form[role="search"]');

const clock = new Intl.DateTimeFormat(undefined, { hour: "2-digit", minute: "2-digit", second: "2-digit" });

function localTime(element) {
  element.textContent = clock.format(new Date(element.dateTime));
}

function highlight(target) {
  if (!target) return;
  target.classList.add("updated");
  setTimeout(() => target.classList.remove("updated"), 4000);
}

function rowOf(userId) {
  return matrixBody?.querySelector(`tr[data-user="${userId}"]`) ?? null;
}

function setFlags(row, flags) {
  const heading = row.querySelector("th");
  heading.querySelectorAll(".flag").forEach((flag) => flag.remove());
  let after = heading.querySelector("a");
  for (const text of flags) {
    const flag = document.createElement("span");
    flag.className = "flag";
    flag.title = text;
    flag.textContent = `⚑ ${text}`;  // text only: flags name topics and counts, never markup
    after.after(flag);
    after = flag;
  }
}

function setCells(row, cellsHtml) {
  row.querySelectorAll("td").forEach((cell) => cell.remove());
  row.insertAdjacentHTML("beforeend", cellsHtml);  // built and escaped by the server (progress_matrix.cell_html)
}

function passesFilter(username, flags) {
  if (!filterForm) return true;
  const query = (filterForm.elements.q?.value || "").toLowerCase();
  const stuckOnly = filterForm.elements.stuck?.checked;
  return username.toLowerCase().includes(query) && (!stuckOnly || flags.length > 0);
}

function setCount(element, value) {
  if (element) element.textContent = String(value);
}

function addRow(event) {
  if (!matrixBody || rowOf(event.user_id) || !event.row || !passesFilter(event.username, event.row.flags)) return;
  matrixBody.querySelectorAll("tr:not([data-user])").forEach((placeholder) => placeholder.remove());
  const row = document.createElement("tr");
  row.dataset.user = event.user_id;
  const heading = document.createElement("th");
  heading.scope = "row";
  const link = document.createElement("a");
  link.href = `${root.dataset.learnerBase}${event.user_id}/`;
  link.textContent = event.username;  // learner input: text only
  const remove = document.createElement("a");
  remove.href = `${root.dataset.memberBase}${event.user_id}/remove/`;
  remove.className = "remove-link";
  remove.textContent = "remove";
  remove.setAttribute("aria-label", `Remove ${event.username}`);
  heading.append(link, " ", remove);
  row.append(heading);
  matrixBody.append(row);
  setCells(row, event.row.cells_html);
  setFlags(row, event.row.flags);
  setCount(shown, matrixBody.querySelectorAll("tr[data-user]").length);
  highlight(heading);
}

function updateMatrix(event) {
  if (typeof event.learners === "number") {
    setCount(total, event.learners);
    if (noun) noun.textContent = event.learners === 1 ? "learner" : "learners";
  }
  if (event.kind === "joined") return addRow(event);
  const row = rowOf(event.user_id);
  if (!row) return;
  if (event.kind === "left") {
    row.remove();
    setCount(shown, matrixBody.querySelectorAll("tr[data-user]").length);
    return;
  }
  if (event.row) {
    setCells(row, event.row.cells_html);
    setFlags(row, event.row.flags);
  }
  if (event.topic) highlight(row.querySelector(`td[data-topic="${CSS.escape(event.topic)}"]`));
}

function updatePlaying(event) {
  if (event.kind === "run_started") {
    playing.querySelector("[data-empty]")?.remove();
    const item = document.createElement("li");
    item.dataset.run = event.run_id;
    const link = document.createElement("a");
    link.href = `/playground/runs/${event.run_id}/`;
    link.textContent = `${event.username} (${event.starter || "own code"})`;
    item.append(link);
    playing.append(item);
  }
  if (event.kind === "run_ended") playing.querySelector(`[data-run="${event.run_id}"]`)?.remove();
}

function logActivity(items) {
  for (const entry of items || []) {
    if (activity.querySelector(`[data-item="${entry.id}"]`)) continue;  // already shown by the page or a retry
    activity.querySelector("[data-empty]")?.remove();
    const item = document.createElement("li");
    item.dataset.item = entry.id;
    item.dataset.kind = entry.kind;
    const time = document.createElement("time");
    time.dateTime = entry.at;
    localTime(time);
    item.append(time, ` · ${entry.text}`);  // text only: usernames and error messages are learner input
    activity.prepend(item);
  }
}

// Items stored while the socket was not open (before it first opened, or while it reconnected), oldest first.
async function catchUp() {
  const ids = [...activity.querySelectorAll("[data-item]")].map((item) => Number(item.dataset.item));
  const after = ids.length ? Math.max(...ids) : 0;
  try {
    const response = await fetch(`${root.dataset.feedUrl}?after=${after}`, { credentials: "same-origin" });
    if (response.ok) logActivity((await response.json()).items.reverse());
  } catch {
    // the next (re)connection tries again
  }
}

activity.querySelectorAll("time").forEach(localTime);

connectWithRetry(root.dataset.wsPath, {
  final: [4403],
  onOpen: () => {
    liveState.dataset.state = "live";
    liveState.textContent = "live: updates appear as they happen";
    catchUp();
  },
  onMessage: (event) => {
    logActivity(event.items);
    updateMatrix(event);
    updatePlaying(event);
  },
  onClose: (event, retrying) => {
    liveState.dataset.state = retrying ? "reconnecting" : "offline";
    liveState.textContent = retrying
      ? "reconnecting…"
      : "not live: you are not an instructor of this cohort any more";
  },
});
