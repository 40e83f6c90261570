/* The chapters' glue (ch. 3 on): moment.js speaks the page's language (<html lang>: "en" or "zh-CN", moment's
   "zh-cn"), times that htmx swaps in are rendered too, and a form swapped back with an error puts the focus on its
   field. A file, not an inline script: the CSP allows none. */
(function () {
  "use strict";

  if (window.moment) {
    window.moment.locale(document.documentElement.lang.toLowerCase());
  }
  document.addEventListener("htmx:afterSettle", function (event) {
    if (typeof window.flask_moment_render_all === "function") {
      window.flask_moment_render_all();
    }
    // A form swapped back with an error (ch. 4 on): keyboards and screen readers land on the field to correct.
    var invalid = event.detail.elt.querySelector("[aria-invalid='true']");
    if (invalid) {
      invalid.focus();
    }
  });
})();
