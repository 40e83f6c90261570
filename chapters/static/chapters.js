/* The chapters' glue (ch. 3 on): moment.js speaks the page's language (<html lang>: "en" or "zh-CN", moment's
   "zh-cn"), and times that htmx swaps in are rendered too. A file, not an inline script: the CSP allows none. */
(function () {
  "use strict";

  if (window.moment) {
    window.moment.locale(document.documentElement.lang.toLowerCase());
  }
  document.addEventListener("htmx:afterSettle", function () {
    if (typeof window.flask_moment_render_all === "function") {
      window.flask_moment_render_all();
    }
  });
})();
