// Small enhancements for pages that work fully without JavaScript.
// Toggling and deleting a task post to the same endpoints as the plain forms, asking
// for JSON, and update the list in place. No inline handlers: the CSP forbids them.
(function () {
  "use strict";

  const csrfToken = () => document.querySelector('meta[name="csrf-token"]').content;
  const flashes = document.getElementById("flashes");
  const dialog = document.getElementById("confirm-dialog");
  const pending = new WeakSet();

  // Flash messages -----------------------------------------------------------------

  function closeButton() {
    const button = document.createElement("button");
    button.type = "button";
    button.className = "flash-close";
    const glyph = document.createElement("span");
    glyph.setAttribute("aria-hidden", "true");
    glyph.textContent = "×";
    const label = document.createElement("span");
    label.className = "visually-hidden";
    label.textContent = "Dismiss";
    button.append(glyph, label);
    return button;
  }

  function announce(message, category) {
    const flash = document.createElement("div");
    flash.className = "flash flash-" + (category || "success");
    const text = document.createElement("p");
    text.textContent = message;
    flash.append(text, closeButton());
    flashes.replaceChildren(flash);
  }

  // Counts shown in several places (sidebar, summary, "clear completed") -----------

  function updateCounts(counts) {
    document.querySelectorAll("[data-count]").forEach((element) => {
      const value = counts[element.dataset.count];
      if (value !== undefined) element.textContent = String(value);
    });
    document.querySelectorAll("[data-hidden-without]").forEach((element) => {
      element.hidden = !counts[element.dataset.hiddenWithout];
    });
  }

  // Tasks per tag in the sidebar; a tag no task carries any more leaves it. A Map, as
  // tags are any names: one called "constructor" is not Object.prototype's.
  function updateTagCounts(tags) {
    const counts = new Map(Object.entries(tags));
    document.querySelectorAll("[data-tag-count]").forEach((element) => {
      const value = counts.get(element.dataset.tagCount);
      if (value === undefined) element.closest("li").remove();
      else element.textContent = String(value);
    });
  }

  // Talking to the page endpoints --------------------------------------------------

  class NotJson extends Error {}

  async function postForJson(url, body) {
    const response = await fetch(url, {
      method: "POST",
      body: body,
      credentials: "same-origin",
      headers: { "Accept": "application/json", "X-Requested-With": "fetch", "X-CSRFToken": csrfToken() },
    });
    const type = response.headers.get("Content-Type") || "";
    // A redirect to the sign-in page, a 404 page, an error page: let the browser show it.
    if (!response.ok || !type.startsWith("application/json")) throw new NotJson(String(response.status));
    return response.json();
  }

  async function send(url, body, fallback) {
    try {
      return await postForJson(url, body);
    } catch (error) {
      if (error instanceof NotJson) fallback();
      else announce("Could not reach the server. Check your connection and try again.", "error");
      return null;
    }
  }

  // The task list ------------------------------------------------------------------

  function leavesView(list, completed) {
    const status = list ? list.dataset.status : "all";
    return (completed && ["active", "overdue", "today", "upcoming"].includes(status))
      || (status === "completed" && !completed);
  }

  function focusAfterRemoving(row) {
    const neighbour = row.nextElementSibling || row.previousElementSibling;
    const target = neighbour ? neighbour.querySelector(".check") : document.getElementById("list-title");
    if (!neighbour && target) target.setAttribute("tabindex", "-1");
    if (target) target.focus();
  }

  function removeRow(row) {
    const list = row.closest(".task-list");
    if (row.contains(document.activeElement)) focusAfterRemoving(row);
    row.remove();
    if (list && !list.querySelector(".task")) {
      const empty = document.createElement("div");
      empty.className = "card empty-state";
      const text = document.createElement("p");
      const link = document.createElement("a");
      link.href = window.location.href;
      link.textContent = "Refresh the list";
      text.append("Nothing left on this page. ", link);
      empty.append(text);
      list.replaceWith(empty);
    }
  }

  async function toggleTask(form) {
    const row = form.closest(".task");
    if (pending.has(row)) return;
    pending.add(row);
    row.setAttribute("aria-busy", "true");
    const data = await send(form.action, new FormData(form), () => form.submit());
    pending.delete(row);
    row.removeAttribute("aria-busy");
    if (!data) return;
    updateCounts(data.counts);
    announce(data.message);
    const list = row.closest(".task-list");
    if (leavesView(list, data.completed)) {
      removeRow(row);
      return;
    }
    const hadFocus = row.contains(document.activeElement);
    const template = document.createElement("template");
    template.innerHTML = data.html.trim();
    const fresh = template.content.firstElementChild;
    row.replaceWith(fresh);
    if (hadFocus) fresh.querySelector(".check").focus();
  }

  async function deleteTask(link) {
    const row = document.getElementById(link.dataset.remove);
    const url = new URL(link.href, window.location.href);
    const body = new FormData();
    body.append("csrf_token", csrfToken());
    body.append("return_to", url.searchParams.get("return_to") || "/");
    const data = await send(url.pathname, body, () => { window.location.href = link.href; });
    if (!data) return;
    updateCounts(data.counts);
    updateTagCounts(data.tags);
    announce(data.message);
    if (row) removeRow(row);
  }

  // Confirmation: a modal dialog where supported, else the browser's confirm() ----

  function confirmThen(message, buttonLabel, action) {
    if (!dialog || typeof dialog.showModal !== "function") {
      if (window.confirm(message)) action();
      return;
    }
    dialog.querySelector(".dialog-message").textContent = message;
    dialog.querySelector("#confirm-dialog-ok").textContent = buttonLabel || "Delete";
    dialog.returnValue = "";
    dialog.addEventListener("close", () => {
      if (dialog.returnValue === "confirm") action();
    }, { once: true });
    dialog.showModal();
    dialog.querySelector('button[value="cancel"]').focus();
  }

  // Links that lead to a confirmation page without JavaScript: post straight away.
  function postLink(link) {
    const form = document.createElement("form");
    form.method = "post";
    form.action = link.href;
    const token = document.createElement("input");
    token.type = "hidden";
    token.name = "csrf_token";
    token.value = csrfToken();
    form.append(token);
    document.body.append(form);
    form.submit();
  }

  // Wiring -------------------------------------------------------------------------

  document.addEventListener("submit", (event) => {
    const form = event.target;
    if (form.matches(".task-toggle") && !form.closest(".task[data-tree], .task[data-repeats]")) {
      // (A task in a tree posts the form: completing or reopening it carries to others. A
      // recurring one too: the page comes back with its next date and an Undo.)
      event.preventDefault();
      toggleTask(form);
    } else if (form.dataset.confirm) {
      event.preventDefault();
      confirmThen(form.dataset.confirm, form.dataset.confirmButton, () => form.submit());
    }
  });

  document.addEventListener("click", (event) => {
    const link = event.target.closest("a[data-confirm]");
    if (link && event.button === 0 && !(event.metaKey || event.ctrlKey || event.shiftKey || event.altKey)) {
      event.preventDefault();
      confirmThen(link.dataset.confirm, link.dataset.confirmButton,
        () => (link.dataset.remove ? deleteTask(link) : postLink(link)));
      return;
    }
    const close = event.target.closest(".flash-close");
    if (close) {
      close.closest(".flash").remove();
      return;
    }
    const copy = event.target.closest("[data-copy]");
    if (copy) {
      const source = document.getElementById(copy.dataset.copy);
      navigator.clipboard.writeText(source.textContent.trim()).then(
        () => { copy.textContent = "Copied"; },
        () => { copy.textContent = "Select and copy it by hand"; });
    }
  });

  // Quick add: as one types, the server's own parser reads the line (debounced; an
  // answer for text since changed is dropped) and the parts it recognises are marked.
  const addBox = document.querySelector('form.add-task input[name="title"]');
  const preview = document.getElementById("quick-preview");
  let asked = 0;
  let readTimer = null;

  function renderPreview(text, answer) {
    const characters = Array.from(text); // offsets are in code points
    const pieces = [];
    let at = 0;
    for (const part of answer.parts) {
      if (part.start > at) pieces.push(document.createTextNode(characters.slice(at, part.start).join("")));
      const mark = document.createElement("mark");
      mark.className = "part part-" + part.kind;
      mark.title = part.kind;
      mark.textContent = characters.slice(part.start, part.end).join("");
      pieces.push(mark);
      at = part.end;
    }
    if (at < characters.length) pieces.push(document.createTextNode(characters.slice(at).join("")));
    for (const name of answer.unknown_projects) {
      const warning = document.createElement("span");
      warning.className = "quick-warning";
      warning.textContent = "No project is called “" + name + "”: it stays in the title.";
      pieces.push(warning);
    }
    const shown = answer.parts.length > 0 || answer.unknown_projects.length > 0;
    preview.replaceChildren(...(shown ? pieces : []));
    preview.hidden = !shown;
  }

  async function readLine() {
    const text = addBox.value;
    const ticket = ++asked;
    if (!text.trim()) {
      preview.hidden = true;
      return;
    }
    try {
      const response = await fetch("/api/v1/tasks/parse", {
        method: "POST", credentials: "same-origin", body: JSON.stringify({ text: text }),
        headers: { "Content-Type": "application/json", Accept: "application/json", "X-CSRFToken": csrfToken() },
      });
      if (!response.ok) {
        if (ticket === asked) preview.hidden = true; // nothing to show for this text
        return;
      }
      const answer = await response.json();
      if (ticket === asked && addBox.value === text) renderPreview(text, answer);
    } catch (error) {
      // No preview this time: the line is read again on submit all the same.
    }
  }

  if (addBox && preview) {
    addBox.addEventListener("input", () => {
      clearTimeout(readTimer);
      readTimer = setTimeout(readLine, 200);
    });
  }

  // Keyboard: q add, / search, j/k next/previous task, x done, e edit, ? the list of keys.
  // Never while typing in a field, nor with a modifier held, nor over a dialog.
  const keysDialog = document.getElementById("keys-dialog");

  function moveBetweenTasks(step) {
    const rows = Array.from(document.querySelectorAll("li.task"));
    if (!rows.length) return;
    const current = rows.indexOf(document.activeElement.closest("li.task"));
    const next = current === -1 ? (step > 0 ? 0 : rows.length - 1)
      : Math.min(rows.length - 1, Math.max(0, current + step));
    rows[next].focus();
  }

  document.addEventListener("keydown", (event) => {
    if (event.defaultPrevented || event.ctrlKey || event.metaKey || event.altKey) return;
    if (event.target.closest("input, textarea, select, [contenteditable]") || document.querySelector("dialog[open]")) {
      return;
    }
    const row = document.activeElement.closest("li.task");
    const actions = {
      q: () => addBox && addBox.focus(),
      "/": () => { const search = document.querySelector('input[name="q"]'); if (search) search.focus(); },
      j: () => moveBetweenTasks(1),
      k: () => moveBetweenTasks(-1),
      x: () => row && row.querySelector(":scope > .task-toggle .check").click(),
      e: () => row && row.querySelector(":scope > .task-body .task-title").click(),
      "?": () => keysDialog.showModal(),
    };
    const action = actions[event.key];
    if (action) {
      event.preventDefault();
      action();
    }
  });

  document.querySelectorAll(".flash-close").forEach((button) => { button.hidden = false; });
  if (navigator.clipboard) {
    document.querySelectorAll("[data-copy]").forEach((button) => { button.hidden = false; });
  }

  // A refused form: focus its first invalid field, or else its error, so that keyboard
  // and screen-reader users start where the problem is.
  const invalid = document.querySelector('[aria-invalid="true"]') || document.getElementById("form-errors");
  if (invalid) invalid.focus();

  // Import: the upload's own progress, then the server's as it stores the rows (lines of
  // JSON), then its report. Without JavaScript the form posts and the page shows the report.
  const importForm = document.getElementById("import-form");
  if (importForm) {
    const box = document.getElementById("import-progress");
    const bar = document.getElementById("import-progress-bar");
    const label = document.getElementById("import-progress-label");
    const result = document.getElementById("import-result");
    const buttons = importForm.querySelectorAll("button[type=submit]");
    const limitMb = Math.round(Number(importForm.dataset.maxBytes) / (1024 * 1024));
    const show = (text, value, max) => {
      label.textContent = text;
      bar.max = max;
      if (value === null) bar.removeAttribute("value"); else bar.value = value;
    };
    const fail = (message) => {
      box.hidden = true;
      announce(message, "error");
    };
    importForm.addEventListener("submit", (event) => {
      const file = importForm.elements.file.files[0];
      if (!file) return; // the field's own "required" speaks
      event.preventDefault();
      if (file.size > Number(importForm.dataset.maxBytes)) {
        fail(`This file is larger than ${limitMb} MB, the most one import reads.`);
        return;
      }
      const data = new FormData(importForm);
      data.set("dry_run", event.submitter && event.submitter.value === "true" ? "true" : "false");
      const xhr = new XMLHttpRequest();
      xhr.open("POST", importForm.action);
      xhr.setRequestHeader("Accept", "application/x-ndjson");
      xhr.setRequestHeader("X-CSRFToken", csrfToken());
      let read = 0;
      let answered = false; // the report, or an error, came
      const events = () => {
        const end = xhr.responseText.lastIndexOf("\n");
        if (end < read) return [];
        const chunk = xhr.responseText.slice(read, end);
        read = end + 1;
        return chunk.split("\n").filter(Boolean).map((line) => JSON.parse(line));
      };
      const handle = (answer) => {
        if ("stored" in answer) {
          show(`Storing… ${answer.stored.toLocaleString()} of ${answer.total.toLocaleString()} tasks`,
               answer.stored, answer.total || 1);
        } else if ("html" in answer) {
          answered = true;
          box.hidden = true;
          result.innerHTML = answer.html; // rendered (and escaped) by the server
          result.firstElementChild.focus();
        } else if ("code" in answer) {
          answered = true;
          fail(answer.message);
        }
      };
      xhr.upload.addEventListener("progress", (progress) => {
        if (progress.lengthComputable) {
          show(`Uploading… ${Math.round((progress.loaded / progress.total) * 100)}%`, progress.loaded, progress.total);
        }
      });
      xhr.upload.addEventListener("load", () => show("Reading the file…", null, 1));
      xhr.addEventListener("progress", () => { if (xhr.status === 200) events().forEach(handle); });
      xhr.addEventListener("loadend", () => buttons.forEach((button) => { button.disabled = false; }));
      xhr.addEventListener("load", () => {
        if (xhr.status === 200) {
          events().forEach(handle);
          if (!answered) {
            fail("The connection was cut before the import's report came. Reload to see your tasks; " +
                 "importing the file again adds nothing twice.");
          }
          return;
        }
        let message = "The import failed. Nothing was imported; try again.";
        if (xhr.status === 413) {
          message = `This file is larger than ${limitMb} MB, the most one import reads.`;
        } else {
          try {
            const body = JSON.parse(xhr.responseText);
            message = Object.values(body.details || {})[0] || body.message;
          } catch (error) { /* not JSON: the general message */ }
        }
        fail(message);
      });
      xhr.addEventListener("error", () => fail("The upload failed: check your connection and try again."));
      buttons.forEach((button) => { button.disabled = true; });
      result.replaceChildren();
      box.hidden = false;
      show("Uploading…", 0, file.size || 1);
      xhr.send(data);
    });
  }

  // Sign-up: start from the browser's own time zone when the list has it.
  const zoneSelect = document.querySelector("select[data-detect-timezone]");
  if (zoneSelect && zoneSelect.value === "UTC") {
    const zone = Intl.DateTimeFormat().resolvedOptions().timeZone;
    if (zone && Array.from(zoneSelect.options).some((option) => option.value === zone)) zoneSelect.value = zone;
  }
})();
