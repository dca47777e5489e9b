// Starts Swagger UI on /api/docs (themes/base/templates/api/docs.html) with the document the page names.
// A file of its own rather than an inline script, so that a Content-Security-Policy can forbid inline scripts.
(function () {
  var root = document.getElementById("swagger-ui");
  window.ui = SwaggerUIBundle({url: root.dataset.specUrl, dom_id: "#swagger-ui", deepLinking: true});
})();
