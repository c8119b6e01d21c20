// Step-through visualizer: execution table, variable tracker and step controls over trace events.
import { drawLanes } from "./lanes.js";
import { STATE_LABELS } from "./protocol.js";

// Used live on the playground page (events arrive as "playground:event") and on replay pages.

const TRACKER_WINDOW = 12;  // steps shown up to the current one in the variable tracker
const LANES_WINDOW = 14;  // events drawn up to the current one: the diagram fits its 22rem box, lane names in view
const TABLE_WINDOW = 100;  // execution-table rows kept in the page around the current step
const TABLE_MARGIN = 20;  // the window moves when the current step comes this close to its edge

export class Visualizer {
  constructor(root, { onStep } = {}) {
    this.root = root;
    this.onStep = onStep || (() => {});
    this.events = [];
    this.current = -1;
    this.rendered = [0, 0];  // the events [from, to) that have rows in the table
    this.paintPending = false;  // a paint is queued for the next animation frame
    this.scrolledTo = -1;  // the step the table last scrolled to
    this.follow = true;  // jump to the newest step as events arrive, until the learner steps back
    this.timer = null;
    this.table = root.querySelector(".viz-table tbody");
    this.tracker = root.querySelector(".viz-tracker");
    this.slider = root.querySelector(".viz-slider");
    this.position = root.querySelector(".viz-position");
    this.goto = root.querySelector(".viz-goto");
    this.speed = root.querySelector(".viz-speed");
    this.bind();
    this.render();
    // A box that changes size (a narrower window, a taller row) keeps the current step in view.
    this.keepInView = new ResizeObserver(() => this.revealCurrent());
    this.keepInView.observe(this.table.closest(".viz-table-scroll"));
    this.keepInView.observe(this.tracker);
  }

  revealCurrent() {
    const row = this.table.querySelector("tr.current");
    if (row) this.scrollRowIntoBox(row);
    this.tracker.scrollLeft = this.tracker.scrollWidth;
  }

  bind() {
    const on = (action, handler) => this.root.querySelector(`[data-viz="${action}"]`).addEventListener("click", handler);
    on("first", () => this.show(0));
    on("back", () => this.show(this.current - 1));
    on("forward", () => this.show(this.current + 1));
    on("last", () => { this.follow = true; this.show(this.events.length - 1); });
    on("play", () => this.togglePlay());
    this.slider.addEventListener("input", () => this.show(parseInt(this.slider.value, 10)));
    this.root.querySelector(".viz-goto-form").addEventListener("submit", (event) => {
      event.preventDefault();
      this.goToStep(parseInt(this.goto.value, 10));
    });
    this.root.addEventListener("keydown", (event) => {
      if (event.target.matches("input, select, textarea, [role=region]")) return;  // a focused table scrolls itself
      if (event.key === "ArrowRight") { event.preventDefault(); this.show(this.current + 1); }
      if (event.key === "ArrowLeft") { event.preventDefault(); this.show(this.current - 1); }
      if (event.key === "Home") { event.preventDefault(); this.show(0); }
      if (event.key === "End") { event.preventDefault(); this.show(this.events.length - 1); }
    });
    this.table.addEventListener("click", (event) => {
      const row = event.target.closest("tr[data-index]");
      if (row) this.show(parseInt(row.dataset.index, 10));
    });
  }

  // A step that is not in the trace is refused in words, next to the field, instead of silently ignored.
  goToStep(step) {
    const index = this.events.findIndex((e) => e.step === step);
    const message = this.root.querySelector(".viz-goto-message");
    if (index >= 0) {
      message.textContent = "";
      this.goto.removeAttribute("aria-invalid");
      this.show(index);
      return;
    }
    const total = this.events.length;
    const range = total ? `steps run from ${this.events[0].step} to ${this.events[total - 1].step}` : "there are no steps yet";
    message.textContent = Number.isNaN(step) ? `Type a step number: ${range}.` : `There is no step ${step}: ${range}.`;
    this.goto.setAttribute("aria-invalid", "true");
  }

  reset() {
    this.events = [];
    this.current = -1;
    this.rendered = [0, 0];
    this.follow = true;
    this.table.replaceChildren();
    this.render();
  }

  add(events) {
    const [from, to] = this.rendered;
    const total = this.events.length;
    this.events.push(...events);
    if (this.follow) {
      this.current = this.events.length - 1;
      if (to === total && to - from + events.length <= TABLE_WINDOW + TABLE_MARGIN) {
        // Following the newest step at a calm pace: its rows go in at once (a flood waits for the next paint).
        const fragment = document.createDocumentFragment();
        events.forEach((event, offset) => fragment.append(this.row(event, total + offset)));
        this.table.append(fragment);
        this.rendered = [from, this.events.length];
      }
    }
    this.paintSoon();
  }

  // Only a window of rows lives in the page, so a run of thousands of steps lays out like one of hundreds;
  // the slider, "go to step" and the keys reach every step, and the window follows.
  syncRows() {
    const total = this.events.length;
    const [from, to] = this.rendered;
    const inside = this.current >= from && this.current < to;
    const nearEdge = (this.current < from + TABLE_MARGIN && from > 0) || (this.current >= to - TABLE_MARGIN && to < total);
    const tooLong = to - from > TABLE_WINDOW;  // calm appends since the last paint
    const tooShort = to - from < TABLE_WINDOW && to < total;  // steps arrived that the window has room for
    if (inside && !nearEdge && !tooLong && !tooShort) return;
    const start = Math.max(0, Math.min(this.current - TABLE_WINDOW / 2, total - TABLE_WINDOW));
    const end = Math.min(total, start + TABLE_WINDOW);
    const rowsFor = (a, b) => {
      const fragment = document.createDocumentFragment();
      for (let i = a; i < b; i += 1) fragment.append(this.row(this.events[i], i));
      return fragment;
    };
    if (start >= to || end <= from) {
      this.table.replaceChildren(rowsFor(start, end));
    } else {
      for (let i = from; i < start; i += 1) this.table.firstElementChild.remove();
      for (let i = end; i < to; i += 1) this.table.lastElementChild.remove();
      if (start < from) this.table.prepend(rowsFor(start, from));
      if (end > to) this.table.append(rowsFor(Math.max(to, start), end));
    }
    this.rendered = [start, end];
  }

  // Streamed events repaint at most once per frame, however many batches arrive in between.
  paintSoon() {
    if (this.paintPending) return;
    this.paintPending = true;
    requestAnimationFrame(() => {
      this.paintPending = false;
      this.paint();
    });
  }

  row(event, index) {
    const tr = document.createElement("tr");
    tr.dataset.index = index;
    tr.dataset.kind = event.kind;
    if (event.line) tr.dataset.line = event.line;  // the learner's line, highlighted in the code beside
    for (const value of [event.step, event.client || "–", event.action, event.evaluation, event.result]) {
      const cell = document.createElement("td");
      cell.textContent = value;  // learner-controlled text is never parsed as HTML
      tr.append(cell);
    }
    return tr;
  }

  show(index) {
    if (!this.events.length) return;
    const to = Math.max(0, Math.min(this.events.length - 1, index));
    // Another module may hold the step-through before a step (predict.js asks what happens next): it cancels this.
    const detail = { from: this.current, to };
    if (!this.root.dispatchEvent(new CustomEvent("beforestep", { cancelable: true, detail }))) return;
    this.current = to;
    this.follow = this.current === this.events.length - 1;
    this.paint();
  }

  paint() {
    if (this.current < 0) return;
    this.syncRows();
    const previous = this.table.querySelector("tr.current");
    if (previous) previous.classList.remove("current");
    const row = this.table.children[this.current - this.rendered[0]];
    if (row) {
      row.classList.add("current");
      row.setAttribute("aria-current", "step");
      if (previous && previous !== row) previous.removeAttribute("aria-current");
      // Scroll only when the step changed: new events must not pull the table away from where the learner reads.
      if (this.scrolledTo !== this.current) this.scrollRowIntoBox(row);
      this.scrolledTo = this.current;
    }
    this.render();
    this.onStep(this.events[this.current]);
    this.root.dispatchEvent(new CustomEvent("stepshown", { detail: { index: this.current } }));
  }

  // The table's own box scrolls, never the page, and the row ends up below the sticky header, not under it.
  scrollRowIntoBox(row) {
    const box = this.table.closest(".viz-table-scroll");
    const header = box.querySelector("thead").getBoundingClientRect().height;
    const boxRect = box.getBoundingClientRect();
    const rowRect = row.getBoundingClientRect();
    if (rowRect.top < boxRect.top + header) box.scrollTop -= boxRect.top + header - rowRect.top;
    else if (rowRect.bottom > boxRect.bottom) box.scrollTop += rowRect.bottom - boxRect.bottom;
  }

  togglePlay() {
    const button = this.root.querySelector('[data-viz="play"]');
    if (this.timer) {
      clearInterval(this.timer);
      this.timer = null;
      button.textContent = "Play";
      return;
    }
    if (this.current >= this.events.length - 1) this.show(0);
    button.textContent = "Pause";
    this.timer = setInterval(() => {
      if (this.current >= this.events.length - 1) return this.togglePlay();
      this.show(this.current + 1);
    }, parseInt(this.speed.value, 10));
  }

  renderControls() {
    const total = this.events.length;
    this.slider.max = Math.max(0, total - 1);
    this.slider.value = Math.max(0, this.current);
    this.slider.disabled = total === 0;
    const step = total ? this.events[this.current].step : 0;
    this.position.textContent = total ? `Step ${step} of ${this.events[total - 1].step}` : "No steps yet";
  }

  // Rows: each client's connection state, then its variables in first-seen order; columns: a window of steps.
  render() {
    this.renderControls();
    const keys = new Map();  // "client\0name" -> [client, name], in first-seen order
    const updatesOf = (event) => ({ connection_state: STATE_LABELS[event.state] || event.state, ...(event.vars || {}) });
    for (const event of this.events) {
      for (const name of Object.keys(updatesOf(event))) {
        const client = event.client || "–";
        keys.set(`${client}\u0000${name}`, [client, name]);
      }
    }
    const from = Math.max(0, this.current - TRACKER_WINDOW + 1);
    const carry = new Map();
    const columns = [];
    for (let i = 0; i <= this.current; i += 1) {
      const event = this.events[i];
      const changed = new Set();
      for (const [name, value] of Object.entries(updatesOf(event))) {
        const key = `${event.client || "–"}\u0000${name}`;
        if (carry.has(key) && carry.get(key) !== value) changed.add(key);
        carry.set(key, value);
      }
      if (i >= from) columns.push({ step: event.step, values: new Map(carry), changed });
    }
    const table = document.createElement("table");
    const head = table.createTHead().insertRow();
    const corner = document.createElement("th");
    corner.textContent = "Variable";
    head.append(corner);
    for (const column of columns) {
      const th = document.createElement("th");
      th.scope = "col";
      th.textContent = `Step ${column.step}`;
      head.append(th);
    }
    if (columns.length) head.lastElementChild.classList.add("current-step");  // the current step: the last column
    const body = table.createTBody();
    for (const [key, [client, name]] of keys) {
      const tr = body.insertRow();
      tr.dataset.variable = `${client}.${name}`;
      const th = document.createElement("th");
      th.scope = "row";
      th.textContent = `${client} · ${name}`;
      tr.append(th);
      for (const column of columns) {
        const td = tr.insertCell();
        td.textContent = column.values.get(key) ?? "";
        if (column.changed.has(key)) td.className = "changed";
      }
      if (columns.length) tr.lastElementChild.classList.add("current-step");
    }
    this.tracker.replaceChildren(table);
    this.tracker.scrollLeft = this.tracker.scrollWidth;  // the current step's column in view, at the right edge
    const lanes = this.root.querySelector(".viz-lanes");
    if (lanes) {
      drawLanes(lanes, this.events.slice(Math.max(0, this.current - LANES_WINDOW + 1), this.current + 1));
      lanes.scrollTop = lanes.scrollHeight;
    }
  }
}
