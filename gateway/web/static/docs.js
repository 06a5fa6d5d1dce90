// StockGate's /docs page: Swagger UI (served from the fastapi-offline package, nothing from the network)
// started from this file, since the page's Content-Security-Policy allows no inline script.
window.addEventListener("load", function () {
  var root = document.getElementById("swagger-ui");
  window.ui = SwaggerUIBundle({ url: root.dataset.openapiUrl, dom_id: "#swagger-ui", deepLinking: true });
});
