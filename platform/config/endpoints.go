package config

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"time"
)

// Endpoints is the content of <data-dir>/endpoints.json: every address the process listens on,
// so scripts and tests find them.
type Endpoints struct {
	PID      int              `json:"pid"`
	Started  time.Time        `json:"started"`
	HTTP     string           `json:"http,omitempty"`
	API      *APIEndpoint     `json:"api,omitempty"`
	Temporal *TemporalAddress `json:"temporal,omitempty"`
	UI       string           `json:"ui,omitempty"`
	Sandbox  map[string]any   `json:"sandbox,omitempty"`
	// MetricsToken is the bearer token /metrics asks for ("": none).
	MetricsToken string `json:"metrics_token,omitempty"`
}

// APIEndpoint is the reports API and its token.
type APIEndpoint struct {
	URL   string `json:"url"`
	Token string `json:"token,omitempty"`
}

// TemporalAddress is the Temporal frontend and namespace.
type TemporalAddress struct {
	Address   string `json:"address"`
	Namespace string `json:"namespace"`
}

// ReadEndpoints reads the endpoints.json a desk running on dataDir wrote.
func ReadEndpoints(dataDir string) (Endpoints, error) {
	path := filepath.Join(dataDir, "endpoints.json")
	var ep Endpoints
	b, err := os.ReadFile(path)
	if err != nil {
		return ep, fmt.Errorf("%w (is a desk running on %s?)", err, dataDir)
	}
	if err := json.Unmarshal(b, &ep); err != nil {
		return ep, fmt.Errorf("%s: %w", path, err)
	}
	return ep, nil
}
