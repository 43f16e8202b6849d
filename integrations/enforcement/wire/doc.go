// Package wire holds the enforcement API's wire types, generated from its OpenAPI document
// (../openapi.yaml) by oapi-codegen: what the client sends and reads, and what the reference
// server (devenv/enforcementapi) reads and answers.
package wire

//go:generate go tool oapi-codegen -config oapi-codegen.yaml ../openapi.yaml
