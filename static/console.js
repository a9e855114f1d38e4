// Copy buttons: <button data-copy="ID"> copies the value of the field with that id.
"use strict";

const FEEDBACK_MS = 2000;
const resetTimers = new WeakMap();

function copyByHand(field) {
  // Without the Clipboard API (an insecure origin, an older browser): select and copy.
  field.focus();
  field.select();
  return document.execCommand("copy");
}

document.addEventListener("click", async (event) => {
  const button = event.target.closest("button[data-copy]");
  if (!button) return;
  // The label as the page rendered it: a second click while "Copied" shows must not
  // take "Copied" for the label to come back to.
  if (!button.dataset.label) button.dataset.label = button.textContent;
  const field = document.getElementById(button.dataset.copy);
  let copied = false;
  try {
    if (navigator.clipboard && window.isSecureContext) {
      await navigator.clipboard.writeText(field.value);
      copied = true;
    }
  } catch (error) {
    copied = false;
  }
  if (!copied) copied = copyByHand(field);
  button.textContent = copied ? "Copied" : "Press Ctrl+C";
  button.classList.toggle("copied", copied);
  // One timer per button: the feedback lasts from the last click.
  clearTimeout(resetTimers.get(button));
  resetTimers.set(
    button,
    setTimeout(() => {
      button.textContent = button.dataset.label;
      button.classList.remove("copied");
    }, FEEDBACK_MS),
  );
});

// Destructive actions ask first: <form data-confirm="question" data-confirm-action="Revoke">
// opens an accessible modal dialog; confirming adds confirmed=yes and submits. Without
// script the server answers with a confirmation page instead (console/confirm.html).
function confirmDialog(question, action) {
  const dialog = document.createElement("dialog");
  dialog.className = "confirm";
  dialog.setAttribute("aria-labelledby", "confirm-title");
  dialog.setAttribute("aria-describedby", "confirm-question");
  const title = document.createElement("h2");
  title.id = "confirm-title";
  title.textContent = "Are you sure?";
  const text = document.createElement("p");
  text.id = "confirm-question";
  text.textContent = question;
  const buttons = document.createElement("div");
  buttons.className = "buttons";
  const confirm = document.createElement("button");
  confirm.type = "button";
  confirm.className = "danger";
  confirm.textContent = action;
  const cancel = document.createElement("button");
  cancel.type = "button";
  cancel.textContent = "Cancel";
  buttons.append(confirm, cancel);
  dialog.append(title, text, buttons);
  document.body.append(dialog);
  return new Promise((resolve) => {
    const close = (answer) => {
      dialog.close();
      dialog.remove();
      resolve(answer);
    };
    confirm.addEventListener("click", () => close(true));
    cancel.addEventListener("click", () => close(false));
    dialog.addEventListener("cancel", (event) => {
      event.preventDefault();
      close(false);
    });
    dialog.showModal();
    cancel.focus();
  });
}

document.addEventListener("submit", async (event) => {
  const form = event.target.closest("form[data-confirm]");
  if (!form || form.querySelector('input[name="confirmed"]')) return;
  event.preventDefault();
  const opener = event.submitter || document.activeElement;
  const action = form.dataset.confirmAction || (event.submitter && event.submitter.textContent) || "Confirm";
  if (await confirmDialog(form.dataset.confirm, action.trim())) {
    const confirmed = document.createElement("input");
    confirmed.type = "hidden";
    confirmed.name = "confirmed";
    confirmed.value = "yes";
    form.append(confirmed);
    form.submit();
  } else if (opener && opener.focus) {
    opener.focus();
  }
});
