package api

import _ "embed"

// OpenAPI is the service's OpenAPI 3.1 document: this API's routes and
// the ones every service serves (messaging/service.Routes). The service
// serves it at GET /openapi.json.
//
//go:embed openapi.json
var OpenAPI []byte
