// Drafts: the editor's text is saved on the server as the learner types (playground/drafts.py), so it comes back
// after a reload, a starter change, a sign-in and on another device. "Reset to starter" asks first and can be undone.
const SAVE_AFTER_MS = 800;  // a save goes out once typing pauses this long...
const SAVE_AT_LEAST_EVERY_MS = 5000;  // ...or after this long of typing without a pause
const RETRY_MS = [2000, 5000, 15000, 30000];  // after a failure the server or the network may recover from
const KEEPALIVE_MAX_BYTES = 60000;  // browsers send at most 64 KiB from a page that is unloading

// This page load's name, sent with each save and its number: the page's own earlier save, whose answer may still be
// on its way when a reload sends the text, is never taken for one made elsewhere (playground/drafts.py).
const PAGE_ID = Array.from(crypto.getRandomValues(new Uint8Array(16)), (byte) => byte.toString(16).padStart(2, "0")).join("");

function problemOf(status) {
  if (status === 403) return "your session changed (signed out or in elsewhere); reload the page, your text stays here until then.";
  if (status === 413) return "the code is too large to save.";
  return `the server answered ${status}; trying again.`;
}

export function setUpDrafts({ editor, root, starterCode }) {
  const status = document.getElementById("draft-status");
  const resetButton = document.getElementById("reset-button");
  const undoButton = document.getElementById("undo-reset-button");
  const keepButton = document.getElementById("keep-mine-button");
  const reloadButton = document.getElementById("load-theirs-button");
  const draft = JSON.parse(document.getElementById("draft").textContent);
  const csrfToken = root.dataset.csrfToken;
  let savedText = draft ? draft.code : starterCode;  // what the server keeps for this starter
  let base = draft ? draft.saved_at : "";  // when that was saved: a draft saved elsewhere since is not overwritten
  let timer = null;
  let firstUnsaved = 0;  // when the oldest unsaved change was made
  let saving = null;  // the save in flight, one at a time
  let retries = 0;
  let quiet = false;  // the page itself is changing the text: no save
  let beforeReset = null;
  let saves = 0;  // how many saves this page has sent

  // The fields of a save of `text`; `withBase` false when the learner chose to keep this page's text.
  function saveFields(text, withBase = true) {
    saves += 1;
    const fields = { code: text, page: PAGE_ID, page_save: saves };
    return withBase ? { ...fields, base } : fields;
  }

  function show(state, text) {
    status.dataset.state = state;
    status.textContent = text;
  }

  function setText(text) {
    quiet = true;
    editor.setValue(text);
    quiet = false;
  }

  const dirty = () => editor.getValue() !== savedText;

  async function post(url, fields, keepalive = false) {
    try {
      const response = await fetch(url, {
        method: "POST",
        credentials: "same-origin",
        headers: { "X-CSRFToken": csrfToken },
        body: new URLSearchParams(fields),
        keepalive,
      });
      const answer = await response.json().catch(() => ({}));
      if (response.ok) return { ok: true, savedAt: answer.saved_at };
      const retryAfter = Number(response.headers.get("Retry-After")) || 0;
      const retry = response.status === 429 || response.status >= 500;
      return { ok: false, message: answer.error || problemOf(response.status), retry, retryAfter, conflict: Boolean(answer.conflict) };
    } catch {
      return { ok: false, message: "no connection to the server; trying again.", retry: true, retryAfter: 0 };
    }
  }

  function schedule(delay) {
    clearTimeout(timer);
    timer = setTimeout(save, delay);
  }

  // `force`: the learner chose to keep this page's text over a version saved elsewhere.
  async function save({ force = false } = {}) {
    clearTimeout(timer);
    timer = null;
    while (saving) await saving;
    keepButton.hidden = reloadButton.hidden = true;
    if (!dirty() && !force) {
      if (status.dataset.state !== "starter") show("saved", "Saved");
      return true;
    }
    const text = editor.getValue();
    show("saving", "Saving…");
    let done;
    saving = new Promise((resolve) => { done = resolve; });
    const answer = await post(root.dataset.draftUrl, saveFields(text, !force));
    saving = null;
    done();
    if (answer.ok) {
      savedText = text;
      base = answer.savedAt;
      retries = 0;
      firstUnsaved = dirty() ? Date.now() : 0;
      if (dirty()) schedule(SAVE_AFTER_MS);  // typed while the save was on its way
      else show("saved", "Saved");
      return !dirty();
    }
    show("failed", `Not saved: ${answer.message}`);  // the text stays in the editor
    keepButton.hidden = reloadButton.hidden = !answer.conflict;
    if (answer.retry) {
      schedule(answer.retryAfter ? answer.retryAfter * 1000 : RETRY_MS[Math.min(retries, RETRY_MS.length - 1)]);
      retries += 1;
    }
    return false;
  }

  if (draft && draft.code !== editor.getValue()) setText(draft.code);

  editor.onChange(() => {
    if (quiet) return;
    undoButton.hidden = true;  // the undo would now throw away what was typed since the reset
    beforeReset = null;
    if (status.dataset.state !== "failed") show("saving", "Saving…");
    if (!firstUnsaved) firstUnsaved = Date.now();
    const waited = Date.now() - firstUnsaved;
    schedule(Math.max(0, Math.min(SAVE_AFTER_MS, SAVE_AT_LEAST_EVERY_MS - waited)));
  });

  resetButton.addEventListener("click", async () => {
    const question = "Replace your code with the starter's code? Your saved draft of this starter is deleted; you can undo this right after.";
    if (!window.confirm(question)) return;
    clearTimeout(timer);
    while (saving) await saving;
    const previous = editor.getValue();
    const answer = await post(root.dataset.draftResetUrl, {});
    if (!answer.ok) {
      show("failed", `Not reset: ${answer.message}`);
      return;
    }
    beforeReset = previous;
    savedText = starterCode;
    base = "";
    firstUnsaved = 0;
    setText(starterCode);
    show("starter", "Reset to the starter code. Undo reset brings your code back.");
    undoButton.hidden = false;
  });

  keepButton.addEventListener("click", () => save({ force: true }));
  reloadButton.addEventListener("click", () => {
    savedText = editor.getValue();  // given up for the other version: nothing to send on the way out
    window.location.reload();
  });

  undoButton.addEventListener("click", () => {
    undoButton.hidden = true;
    if (beforeReset === null) return;
    setText(beforeReset);
    beforeReset = null;
    save();
  });

  // A reload or a closed tab with a save still to go: send it on the way out, or ask when it is too large to.
  window.addEventListener("beforeunload", (event) => {
    if (!dirty()) return;
    const fields = saveFields(editor.getValue());
    if (new URLSearchParams(fields).toString().length < KEEPALIVE_MAX_BYTES) {
      post(root.dataset.draftUrl, fields, true);
    } else {
      event.preventDefault();
    }
  });

  return { flush: save, dirty };
}
