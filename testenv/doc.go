// Package testenv holds helpers for tests only: in-memory fakes of the activities'
// dependencies (memfake). No production file imports it; the layers test at the module's
// root keeps it so. What `desk dev` runs lives in devenv/.
package testenv
