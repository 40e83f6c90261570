/* Flasky's small glue between htmx, Flask-Moment, Bootstrap's validation styles and assistive technology. */
(function () {
  "use strict";

  function renderTimes() {
    if (typeof window.flask_moment_render_all === "function") {
      window.flask_moment_render_all();
    }
  }

  // Inline validation swaps only the message: mirror it onto the field's style and ARIA state.
  function syncFieldValidity() {
    document.querySelectorAll(".invalid-feedback[data-field]").forEach(function (feedback) {
      var field = document.getElementById(feedback.dataset.field);
      if (!field) {
        return;
      }
      var invalid = feedback.textContent.trim() !== "";
      field.classList.toggle("is-invalid", invalid);
      field.setAttribute("aria-invalid", invalid ? "true" : "false");
    });
  }

  function showAlert(text) {
    var region = document.getElementById("flashes");
    if (!region) {
      return;
    }
    var alert = document.createElement("div");
    alert.className = "alert alert-danger mt-3 mb-0";
    alert.textContent = text;
    region.replaceChildren(alert);
  }

  document.addEventListener("htmx:afterSettle", function (event) {
    renderTimes();
    syncFieldValidity();
    if (event.detail.boosted) {
      // A boosted navigation replaced the page: start screen readers and keyboards at its heading.
      var heading = document.querySelector("main h1");
      if (heading) {
        heading.focus({ preventScroll: true });
      }
    }
  });

  // A page restored from htmx's history cache holds already-rendered times: render them again so they tick.
  document.addEventListener("htmx:historyRestore", function () {
    document.querySelectorAll("[data-timestamp]").forEach(function (elem) {
      elem.classList.add("flask-moment");
    });
    renderTimes();
  });

  // A flash is news once: keep it out of the snapshot that Back restores.
  document.addEventListener("htmx:beforeHistorySave", function () {
    var region = document.getElementById("flashes");
    if (region) {
      region.replaceChildren();
    }
  });

  document.addEventListener("htmx:beforeRequest", function (event) {
    if (event.detail.target) {
      event.detail.target.setAttribute("aria-busy", "true");
    }
  });

  document.addEventListener("htmx:afterRequest", function (event) {
    if (event.detail.target) {
      event.detail.target.removeAttribute("aria-busy");
    }
  });

  document.addEventListener("htmx:sendError", function () {
    showAlert("The server could not be reached. Please check your connection and try again.");
  });
})();
