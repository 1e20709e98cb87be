// The API's /docs: Swagger UI served by Orchestra itself, loading /openapi.json with the
// server's token. The page holds no data; the description and every route want the token,
// asked for here, kept in this tab's session storage, sent to this origin only.
(function () {
  "use strict";
  var KEY = "orchestra-api-token";
  var form = document.getElementById("token-form");
  var input = document.getElementById("token");
  var error = document.getElementById("token-error");
  var specUrl = new URL("openapi.json", document.baseURI).href;

  function sameOrigin(url) {
    return new URL(url, document.baseURI).origin === window.location.origin;
  }

  function load(token) {
    var headers = token ? { Authorization: "Bearer " + token } : {};
    return fetch(specUrl, { headers: headers }).then(function (response) {
      if (response.status === 401) {
        throw new Error(token ? "The server refused this token." : "");
      }
      if (!response.ok) {
        throw new Error("The API description could not be loaded (HTTP " + response.status + ").");
      }
      return response.json();
    }).then(function (spec) {
      show(spec, token);
    });
  }

  function show(spec, token) {
    form.hidden = true;
    window.ui = SwaggerUIBundle({
      spec: spec,
      dom_id: "#swagger-ui",
      deepLinking: true,
      validatorUrl: null, // Swagger UI's default badge asks a validator on the internet
      requestInterceptor: function (request) {
        if (token && sameOrigin(request.url) && !request.headers.Authorization) {
          request.headers.Authorization = "Bearer " + token;
        }
        return request;
      },
    });
  }

  function ask(message) {
    form.hidden = false;
    error.textContent = message;
    input.focus();
  }

  form.addEventListener("submit", function (event) {
    event.preventDefault();
    var token = input.value.trim();
    load(token).then(function () {
      sessionStorage.setItem(KEY, token);
      input.value = "";
    }, function (failure) {
      ask(failure.message);
    });
  });

  load(sessionStorage.getItem(KEY) || "").catch(function (failure) {
    sessionStorage.removeItem(KEY);
    ask(failure.message);
  });
})();
