// The API explorer: Swagger UI over /api/openapi.json, pre-authorized with the token the page
// minted for it. The app's wasm loads this file on demand and calls
// `patdeskExplorer.open(container, token)`; Swagger UI itself is vendored under
// /vendor/swagger-ui (see scripts/ensure-tools.sh), so nothing comes from a CDN.
(function () {
  "use strict";

  const VENDOR = "/vendor/swagger-ui";
  let loading = null;

  function load(tag, attributes) {
    return new Promise(function (resolve, reject) {
      const element = document.createElement(tag);
      Object.assign(element, attributes);
      element.onload = resolve;
      element.onerror = function () {
        reject(new Error("could not load " + (attributes.src || attributes.href)));
      };
      document.head.appendChild(element);
    });
  }

  function swaggerUi() {
    if (!loading) {
      loading = Promise.all([
        load("link", { rel: "stylesheet", href: VENDOR + "/swagger-ui.css" }),
        load("script", { src: VENDOR + "/swagger-ui-bundle.js" }),
      ]);
    }
    return loading;
  }

  // Swagger UI draws its operations (and schemas) in <main> elements of its own, inside the
  // page's <main>: a page has one main landmark. Each is made a labelled region as it is drawn
  // (its vendored code stays as shipped).
  function keepOneMainLandmark(root) {
    function demote() {
      root.querySelectorAll("main:not([role])").forEach(function (main) {
        main.setAttribute("role", "region");
        if (!main.hasAttribute("aria-label")) main.setAttribute("aria-label", "API operations");
      });
    }
    new MutationObserver(demote).observe(root, { childList: true, subtree: true });
    demote();
  }

  window.patdeskExplorer = {
    // Resolves once the API document is loaded and the token is in place.
    open: async function (container, token) {
      await swaggerUi();
      // A fresh node each time: a new team's token starts a new Swagger UI.
      const node = document.createElement("div");
      container.replaceChildren(node);
      keepOneMainLandmark(node);
      await new Promise(function (resolve) {
        const ui = window.SwaggerUIBundle({
          domNode: node,
          url: "/api/openapi.json",
          // The default sends the document to validator.swagger.io.
          validatorUrl: null,
          deepLinking: false,
          persistAuthorization: false,
          displayRequestDuration: true,
          onComplete: function () {
            ui.preauthorizeApiKey("bearer", token);
            resolve();
          },
        });
      });
    },
  };
})();
