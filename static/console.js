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
