// A challenge page: the editor over the form's text box, and "Run tests" graded without leaving the page, with
// progress while the sandboxes work and a refusal that counts down to when the learner may try again.
import { createEditor } from "./playground/editor.js";

const form = document.getElementById("grade-form");
const textBox = document.getElementById("code");
const results = document.getElementById("results");
const runButton = document.getElementById("run-tests");
const resetButton = document.getElementById("reset-code");
const grading = document.getElementById("grading");
const gradingText = document.getElementById("grading-text");
const gradingElapsed = document.getElementById("grading-elapsed");
const testCount = parseInt(form.dataset.tests, 10);
let editor = null;

function setUpEditor() {
  const holder = document.getElementById("editor");
  if (!window.ace) return;  // the form's plain text box stays, and is what gets posted
  holder.hidden = false;
  textBox.hidden = true;
  editor = createEditor(holder, { code: textBox.value, label: "Consumer code editor" });
  editor.onChange((code) => { textBox.value = code; });
}

function setCode(code) {
  textBox.value = code;
  if (editor) editor.setValue(code);
}

// The sentence is announced once; the seconds counting up beside it are for the eye only.
function showProgress() {
  const started = Date.now();
  grading.hidden = false;
  gradingText.textContent = `Running ${testCount} tests, each in its own sandbox; this takes a few seconds…`;
  const tick = () => { gradingElapsed.textContent = `${Math.round((Date.now() - started) / 1000)} s`; };
  tick();
  const timer = setInterval(tick, 1000);
  return () => { clearInterval(timer); grading.hidden = true; };
}

// After a refusal with a retry time, the button says when it works again and comes back by itself.
function waitBeforeRetry(seconds) {
  let left = seconds;
  runButton.disabled = true;
  const tick = () => {
    if (left <= 0) {
      clearInterval(timer);
      runButton.disabled = false;
      runButton.textContent = "Run tests";
      return;
    }
    runButton.textContent = `Run tests (in ${left} s)`;
    left -= 1;
  };
  const timer = setInterval(tick, 1000);
  tick();
}

function sayProblem(text) {
  const problem = document.createElement("p");
  problem.className = "form-errors";
  problem.setAttribute("role", "alert");
  problem.textContent = text;
  results.querySelector(".form-errors")?.remove();
  results.querySelector("h2").after(problem);
}

async function runTests(event) {
  event.preventDefault();
  if (editor) textBox.value = editor.getValue();
  runButton.disabled = true;
  const done = showProgress();
  let retryAfter = 0;
  try {
    const response = await fetch(form.action, {
      method: "POST",
      body: new FormData(form),
      headers: { "X-Challenge-Fragment": "1" },
      credentials: "same-origin",
    });
    const body = await response.text();
    if (response.ok) {
      results.innerHTML = body;  // rendered and escaped by the server (challenges/_results.html)
      results.focus();
    } else if (response.status === 429 || response.status === 409) {
      results.querySelector(".grading-refused")?.remove();
      results.querySelector("h2").insertAdjacentHTML("afterend", body);  // challenges/_refused.html
      retryAfter = parseInt(response.headers.get("Retry-After") || "0", 10);
    } else if (response.status === 401) {
      sayProblem("You are signed out: log in again to run the tests (your code is still in the editor).");
    } else {
      sayProblem(`The server could not grade this (${response.status}); try again in a moment.`);
    }
  } catch {
    sayProblem("The server could not be reached; check your connection and try again.");
  } finally {
    done();
    runButton.disabled = false;
  }
  if (retryAfter > 0) waitBeforeRetry(retryAfter);
}

setUpEditor();
if (runButton) {
  form.addEventListener("submit", runTests);
  resetButton.hidden = false;
  resetButton.addEventListener("click", () => {
    if (window.confirm("Replace your code with the starter?")) {
      setCode(JSON.parse(document.getElementById("starter-code").textContent));
    }
  });
}
window.challenge = { setCode, getCode: () => (editor ? editor.getValue() : textBox.value) };
