// Instructor dashboard: learner activity arrives over /ws/cohorts/<id>/ and updates the page without a reload.

import { connectWithRetry } from "./reconnect.js";

const root = document.getElementById("dashboard");
const activity = document.getElementById("activity");
const playing = document.getElementById("playing-now");
const liveState = document.getElementById("live-state");

const describe = {
  answer: (e) => `${e.username} answered ${e.question} (${e.correct ? "correct" : "wrong"})`,
  attempt_finished: (e) => `${e.username} finished the ${e.topic} quiz: ${Math.round(e.score)}%${e.passed ? ", passed" : ""}`,
  topic_completed: (e) => `${e.username} completed ${e.topic}`,
  run_started: (e) => `${e.username} started a playground run`,
  run_ended: (e) => `${e.username}'s run ended (${e.reason})`,
  run_error: (e) => `${e.username}'s code raised: ${e.message}`,
};

function cell(event) {
  return document.querySelector(`.matrix tr[data-user="${event.user_id}"] td[data-topic="${event.topic}"]`);
}

function highlight(target) {
  if (!target) return;
  target.classList.add("updated");
  setTimeout(() => target.classList.remove("updated"), 4000);
}

function updatePage(event) {
  if (event.kind === "answer") highlight(cell(event));
  if (event.kind === "attempt_finished") {
    const target = cell(event);
    if (target) {
      const score = target.querySelector("[data-score]");
      const previous = parseFloat(score.textContent) || -1;
      if (event.score > previous) score.textContent = `${Math.round(event.score)}%`;
      highlight(target);
    }
  }
  if (event.kind === "topic_completed") {
    const target = cell(event);
    if (target) target.classList.add("done");
    highlight(target);
  }
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

function logActivity(event) {
  const item = document.createElement("li");
  item.dataset.kind = event.kind;
  const time = new Date().toLocaleTimeString();
  item.textContent = `${time} · ${(describe[event.kind] || ((e) => e.kind))(event)}`;  // text only: usernames are learner input
  activity.prepend(item);
}

connectWithRetry(root.dataset.wsPath, {
  final: [4403],
  onOpen: () => {
    liveState.dataset.state = "live";
    liveState.textContent = "live: updates appear as they happen";
  },
  onMessage: (event) => {
    logActivity(event);
    updatePage(event);
  },
  onClose: (event, retrying) => {
    liveState.dataset.state = retrying ? "reconnecting" : "offline";
    liveState.textContent = retrying
      ? "reconnecting…"
      : "not live: you are not an instructor of this cohort any more";
  },
});
