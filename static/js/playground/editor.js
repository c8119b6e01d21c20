// The code editor every page shares: Ace in the shipped monospace font, error marks, the current step's line.
// Playground (editable), replay, lesson step-through and challenge pages (read-only or not) all build it here.

export const CODE_FONT = "JetBrains Mono";  // static/fonts/jetbrains-mono/, linked by base.html (--mono in site.css)
const FONT_SIZE_PX = 14;

// Ace is a classic script; pages that show code only after a swap (lesson modes) load it on demand, once.
let aceLoading = null;
export function loadAce(src) {
  if (window.ace) return Promise.resolve(window.ace);
  if (!aceLoading) {
    aceLoading = new Promise((resolve, reject) => {
      const script = document.createElement("script");
      script.src = src;
      script.addEventListener("load", () => resolve(window.ace));
      script.addEventListener("error", () => reject(new Error(`could not load ${src}`)));
      document.head.append(script);
    });
  }
  return aceLoading;
}

// A line of the code, or null: a trace row can name a line of Channels' own code, which this code does not have.
function lineOf(lines, line) {
  const n = Number(line);
  return Number.isInteger(n) && n >= 1 && n <= lines ? n : null;
}

// Without Ace (it failed to load) the fallback textarea gets the same interface, so pages need no second path.
function textareaEditor(fallback, { code, readOnly }) {
  fallback.hidden = false;
  fallback.value = code;
  fallback.readOnly = readOnly;
  const lineStart = (line) => fallback.value.split("\n").slice(0, line - 1).reduce((sum, text) => sum + text.length + 1, 0);
  return {
    raw: null,
    getValue: () => fallback.value,
    lineCount: () => fallback.value.split("\n").length,
    setValue: (text) => { fallback.value = text; },
    onChange: (handler) => fallback.addEventListener("input", () => handler(fallback.value)),
    markError: () => {},
    clearMarks: () => {},
    highlightLine: () => {},
    goToLine: (line) => {
      const row = lineOf(fallback.value.split("\n").length, line);
      if (row === null) return;
      fallback.focus();
      fallback.setSelectionRange(lineStart(row), lineStart(row));
    },
  };
}

/**
 * An Ace editor in `element` holding `code`; returns { raw, getValue, setValue, lineCount, onChange, markError,
 * clearMarks, goToLine, highlightLine }. Lines are numbered from 1, as tracebacks and trace rows number them.
 */
export function createEditor(element, { code = "", readOnly = false, label = "Code", fallback = null, maxLines = null } = {}) {
  if (!window.ace) return fallback ? textareaEditor(fallback, { code, readOnly }) : null;
  const ace = window.ace;
  ace.config.set("useStrictCSP", true);  // no <style> of its own: its CSS is linked by playground/_ace_styles.html
  const instance = ace.edit(element);
  instance.session.setMode("ace/mode/python");
  const dark = window.matchMedia("(prefers-color-scheme: dark)").matches;
  instance.setTheme(dark ? "ace/theme/tomorrow_night" : "ace/theme/chrome");
  instance.setOptions({
    fontFamily: `"${CODE_FONT}", monospace`,
    fontSize: `${FONT_SIZE_PX}px`,
    tabSize: 4,
    useSoftTabs: true,
    showPrintMargin: false,
    readOnly,
    highlightActiveLine: !readOnly,
    ...(maxLines ? { maxLines, minLines: Math.min(8, maxLines) } : {}),
  });
  instance.setValue(code, -1);
  element.classList.toggle("editor-readonly", readOnly);  // playground.css hides the cursor of a read-only view
  instance.textInput.getElement().setAttribute("aria-label", label);
  // Ace measures its character cell once; measure again when the shipped font has arrived.
  document.fonts.load(`${FONT_SIZE_PX}px "${CODE_FONT}"`).then(() => instance.renderer.updateFontSize(), () => {});

  const Range = ace.require("ace/range").Range;
  const errors = [];  // {row, text} of the marks shown, so a second mark on a line adds to it
  let errorMarkers = [];
  let stepMarker = null;
  const lineCount = () => instance.session.getLength();
  // With a line of margin: the renderer's idea of what is visible can lag a scroll by a line.
  const rowVisible = (row) => row > instance.renderer.getFirstFullyVisibleRow() && row < instance.renderer.getLastFullyVisibleRow();

  return {
    raw: instance,
    getValue: () => instance.getValue(),
    lineCount,
    setValue: (text) => instance.setValue(text, -1),
    onChange: (handler) => instance.session.on("change", () => handler(instance.getValue())),

    // A gutter mark (Ace annotation, its text read on hover) and a tinted line where the error is.
    markError(line, message) {
      const row = lineOf(lineCount(), line);
      if (row === null) return;
      const marked = errors.some((error) => error.row === row - 1);
      if (errors.some((error) => error.row === row - 1 && error.text === message)) return;  // a handler failing again
      errors.push({ row: row - 1, column: 0, text: message, type: "error" });
      instance.session.setAnnotations(errors);
      if (!marked) errorMarkers.push(instance.session.addMarker(new Range(row - 1, 0, row - 1, 1), "editor-error-line", "fullLine"));
    },

    clearMarks() {
      errors.length = 0;
      instance.session.clearAnnotations();
      errorMarkers.forEach((id) => instance.session.removeMarker(id));
      errorMarkers = [];
    },

    // Put the cursor on the line, bring the editor onto the screen and give it the keyboard.
    goToLine(line) {
      const row = lineOf(lineCount(), line);
      if (row === null) return;
      element.scrollIntoView({ block: "nearest" });
      instance.gotoLine(row, 0, true);
      instance.scrollToLine(row - 1, true, false, () => {});
      instance.focus();
    },

    // The current step's line, tinted; the editor scrolls only when the line is out of its view.
    highlightLine(line) {
      if (stepMarker !== null) instance.session.removeMarker(stepMarker);
      stepMarker = null;
      const row = lineOf(lineCount(), line);
      if (row === null) return;
      stepMarker = instance.session.addMarker(new Range(row - 1, 0, row - 1, 1), "viz-current-line", "fullLine");
      if (!rowVisible(row - 1)) instance.scrollToLine(row - 1, true, false, () => {});
    },
  };
}
