// Predict mode: the step-through stops before chosen steps and asks what happens next; the server grades the answer,
// records it for a signed-in learner, and only then is the real step shown.
// The visualizer knows nothing of this: it announces "beforestep" (cancellable) and "stepshown" on its root.

const ASKING = "predict-asking";  // class on the visualizer while a question waits

function text(tag, className, content) {
  const element = document.createElement(tag);
  if (className) element.className = className;
  element.textContent = content;  // every text here comes from a trace or a learner: never parsed as HTML
  return element;
}

function capitalised(words) {
  return words ? words[0].toUpperCase() + words.slice(1) : "";
}

function scoreText(score, every) {
  if (!score) return "";
  const of = every ? `${score.stops} steps` : `${score.stops} stop${score.stops === 1 ? "" : "s"}`;
  return `Your recorded predictions here: ${score.right} right of ${score.answered} answered (${of}).`;
}

class PredictMode {
  constructor(visualizer, panel) {
    this.viz = visualizer;
    this.panel = panel;
    this.on = false;
    this.loaded = null;  // {stops: Set of steps, every: bool, recording: bool}
    this.revealed = new Set();  // event indexes answered or skipped since predict mode was turned on
    this.asking = null;  // the index of the step being asked about
    this.toggle = panel.querySelector(".predict-toggle");
    this.status = panel.querySelector(".predict-status");
    this.score = panel.querySelector(".predict-score");
    this.form = panel.querySelector(".predict-question");
    this.prompt = panel.querySelector(".predict-prompt");
    this.choices = panel.querySelector(".predict-choices");
    this.short = panel.querySelector(".predict-short");
    this.input = this.short.querySelector("input");
    this.error = panel.querySelector(".predict-error");
    this.result = panel.querySelector(".predict-result");
    this.resume = panel.querySelector(".predict-continue");
    this.share = panel.dataset.share || "";
    // The question sits under the step controls, where the learner's eyes and focus are when a step is held.
    const controls = visualizer.root.querySelector(".viz-controls");
    if (controls) controls.after(panel);
    panel.hidden = false;
    this.bind();
  }

  bind() {
    this.toggle.addEventListener("click", () => (this.on ? this.stop() : this.start()));
    this.viz.root.addEventListener("beforestep", (event) => this.beforeStep(event));
    this.viz.root.addEventListener("stepshown", () => this.hideFuture());
    this.form.addEventListener("submit", (event) => { event.preventDefault(); this.answer(); });
    this.panel.querySelector(".predict-skip").addEventListener("click", () => this.reveal(this.asking));
    this.resume.addEventListener("click", () => {
      this.resume.hidden = true;
      this.viz.root.querySelector('[data-viz="forward"]').focus();
    });
  }

  url(path, withShare) {
    const url = new URL(this.panel.dataset.url + path, window.location.href);
    if (withShare && this.share) url.searchParams.set("share", this.share);
    return url;
  }

  async load() {
    if (this.loaded) return this.loaded;
    const response = await fetch(this.url("", true), { headers: { Accept: "application/json" } });
    const body = await response.json().catch(() => ({}));  // a proxy's error page is not JSON
    if (!response.ok) throw new Error(body.error || "Predict mode could not start; try again in a moment.");
    this.loaded = { stops: new Set(body.stops), every: body.every_step, recording: body.recording };
    this.score.textContent = scoreText(body.score, body.every_step);
    return this.loaded;
  }

  async start() {
    this.toggle.disabled = true;
    try {
      await this.load();
    } catch (error) {
      this.status.textContent = error instanceof TypeError ? "The server could not be reached; try again." : error.message;
      this.toggle.disabled = false;
      return;
    }
    this.toggle.disabled = false;
    this.on = true;
    this.panel.classList.add("is-on");  // a visitor is told now that nothing is recorded
    this.revealed.clear();
    this.toggle.setAttribute("aria-pressed", "true");
    this.toggle.textContent = "Stop predicting";
    const count = this.loaded.every ? "every step" : `${this.loaded.stops.size} step${this.loaded.stops.size === 1 ? "" : "s"}`;
    this.status.textContent = `Predict mode is on: back at the first step. Step forward; the step-through stops before ${count} and asks what happens next.`;
    if (this.viz.timer) this.viz.togglePlay();
    this.viz.show(0);
    this.hideFuture();
  }

  stop() {
    this.on = false;
    this.panel.classList.remove("is-on");
    this.asking = null;
    this.form.hidden = true;
    this.resume.hidden = true;
    this.viz.root.classList.remove(ASKING);
    this.toggle.setAttribute("aria-pressed", "false");
    this.toggle.textContent = "Predict the next steps";
    this.status.textContent = "Predict mode is off: every step is shown.";
    this.hideFuture();
  }

  isStop(index) {
    if (index <= 0 || this.revealed.has(index)) return false;
    return this.loaded.every || this.loaded.stops.has(this.viz.events[index].step);
  }

  // Moving forward past a stop is held before it; moving back is always allowed.
  beforeStep(event) {
    if (!this.on) return;
    const { from, to } = event.detail;
    if (this.asking !== null) {
      if (to >= this.asking) {
        event.preventDefault();
        this.viz.renderControls();  // the slider goes back to the held step
        this.prompt.focus();
      }
      return;
    }
    for (let index = Math.max(from + 1, 1); index <= to; index += 1) {
      if (this.isStop(index)) {
        event.preventDefault();
        this.ask(index);
        return;
      }
    }
  }

  // In predict mode the execution table shows no row past the current step (the tracker and lanes never do).
  hideFuture() {
    for (const row of this.viz.root.querySelectorAll(".viz-table tbody tr[data-index]")) {
      row.hidden = this.on && parseInt(row.dataset.index, 10) > this.viz.current;
    }
  }

  async ask(index) {
    this.asking = index;
    if (this.viz.timer) this.viz.togglePlay();
    if (this.viz.current !== index - 1) this.viz.show(index - 1);
    this.viz.root.classList.add(ASKING);
    this.result.replaceChildren();
    this.error.textContent = "";
    this.resume.hidden = true;
    const step = this.viz.events[index].step;
    let question;
    try {
      const response = await fetch(this.url(`steps/${step}/`, true), { headers: { Accept: "application/json" } });
      question = await response.json().catch(() => ({}));
      if (!response.ok) throw new Error(question.error || "This question could not be loaded.");
    } catch (error) {
      this.status.textContent = `${error.message} The step is shown without a question.`;
      this.reveal(index);
      return;
    }
    if (this.asking !== index) return;  // predict mode was turned off meanwhile
    this.prompt.textContent = `Before step ${step}: ${question.prompt}`;
    this.choices.replaceChildren();
    this.short.hidden = question.choices.length > 0;
    this.input.value = "";
    this.input.disabled = question.choices.length > 0;  // one "answer" field is sent: the radio or the text
    question.choices.forEach((choice, offset) => {
      const label = document.createElement("label");
      label.className = "predict-choice";
      const radio = document.createElement("input");
      radio.type = "radio";
      radio.name = "answer";
      radio.value = choice;
      radio.required = true;
      radio.id = `predict-choice-${offset}`;
      label.append(radio, text("span", "", choice));
      this.choices.append(label);
    });
    this.form.hidden = false;
    this.form.dataset.step = step;
    this.status.textContent = "";
    this.prompt.focus();
  }

  async answer() {
    const index = this.asking;
    if (index === null) return;
    const data = new FormData(this.form);
    if (this.share) data.set("share", this.share);
    const submit = this.form.querySelector('button[type="submit"]');
    submit.disabled = true;
    this.error.textContent = "";
    this.status.textContent = "Checking your prediction…";
    let body;
    let response;
    try {
      response = await fetch(this.url(`steps/${this.form.dataset.step}/`, false), {
        method: "POST",
        body: data,
        headers: { Accept: "application/json" },
      });
      body = await response.json().catch(() => ({}));
    } catch {
      body = { error: "The server could not be reached; try again." };
    } finally {
      submit.disabled = false;
    }
    if (!response || !response.ok) {
      this.status.textContent = "";
      this.error.textContent = body.error || "That answer could not be checked.";
      this.error.focus();
      return;
    }
    this.status.textContent = "";
    this.showResult(data.get("answer"), body);
    this.reveal(index);
    this.result.focus();
    this.resume.hidden = false;
  }

  showResult(given, body) {
    const lines = [
      text("p", body.correct ? "predict-verdict verdict-correct" : "predict-verdict verdict-wrong",
        body.correct ? "Right." : "Not this time."),
      text("p", "", `You said: ${given}. The trace says: ${body.expected}.`),
      text("p", "", `Step ${body.step.step}: ${body.step.action}. ${capitalised(body.step.evaluation)}; ${body.step.result}.`),
    ];
    if (body.first) {
      lines.push(text("p", "muted", `Your first prediction here (${body.first.answer}, ${body.first.correct ? "right" : "wrong"}) is the one scored.`));
    } else if (body.recorded) {
      lines.push(text("p", "muted", "Recorded in your progress."));
    } else {
      lines.push(text("p", "muted", "Not recorded: you are not logged in."));
    }
    this.result.replaceChildren(...lines);
    if (body.score) this.score.textContent = scoreText(body.score, this.loaded.every);
  }

  // The held step is shown; the next stop ahead will hold the step-through again.
  reveal(index) {
    if (index === null) return;
    this.revealed.add(index);
    this.asking = null;
    this.form.hidden = true;
    this.viz.root.classList.remove(ASKING);
    this.viz.show(index);
  }
}

// Called by the page that built the visualizer; a page without a predict panel is left alone.
export function attachPredict(visualizer) {
  const panel = visualizer.root.parentElement.querySelector(".predict-panel") || document.querySelector(".predict-panel[data-url]");
  if (!panel || !panel.dataset.url || panel.dataset.ready) return null;
  panel.dataset.ready = "true";
  return new PredictMode(visualizer, panel);
}
