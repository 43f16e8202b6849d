package config

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
)

// policyInUseFile, in a data dir, names the policy file the last desk dev on it ran under
// ("" for the embedded default), so that `desk policy simulate` compares against it.
const policyInUseFile = "policy-in-use"

// RecordPolicyInUse records the policy file a desk dev runs under in its data dir.
func RecordPolicyInUse(dataDir, policyFile string) error {
	if dataDir == "" {
		return nil
	}
	if policyFile != "" {
		if abs, err := filepath.Abs(policyFile); err == nil {
			policyFile = abs
		}
	}
	if err := os.WriteFile(filepath.Join(dataDir, policyInUseFile), []byte(policyFile+"\n"), 0o600); err != nil {
		return fmt.Errorf("record the policy in use: %w", err)
	}
	return nil
}

// PolicyInUse is the policy file the last desk dev on dataDir ran under ("": the embedded
// default, or no record).
func PolicyInUse(dataDir string) string {
	if dataDir == "" {
		return ""
	}
	b, err := os.ReadFile(filepath.Join(dataDir, policyInUseFile))
	if err != nil {
		return ""
	}
	return strings.TrimSpace(string(b))
}
