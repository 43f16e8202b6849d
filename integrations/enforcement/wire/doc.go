// Package wire holds the enforcement API's wire types and request builders, generated from its
// OpenAPI document (../openapi.yaml) by oapi-codegen: the client builds every request with
// them (paths, parameters, bodies) and reads the answers into them; the reference server
// (devenv/enforcementapi) reads and answers the same types. The transport — the token, retries,
// fault classes — is the client's own.
package wire

//go:generate go tool oapi-codegen -config oapi-codegen.yaml ../openapi.yaml
