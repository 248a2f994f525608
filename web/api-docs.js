// api-docs.html: the hub's OpenAPI document in Swagger UI, served by the hub itself (no CDN:
// a government LAN has no internet, and nothing third-party runs beside a signed-in token).
"use strict";
window.ui = SwaggerUIBundle({
  url: "/api/openapi.json",
  dom_id: "#swagger-ui",
  deepLinking: true,
  persistAuthorization: false,
});
