package tclient

import (
	"fmt"

	"abusedesk/platform/config"
)

// ConfigFor is TEMPORAL_ADDRESS's cluster, or else the embedded server of a desk dev running
// in dataDir.
func ConfigFor(lookup config.Lookup, dataDir string) (config.Temporal, error) {
	if _, set := lookup("TEMPORAL_ADDRESS"); set {
		t, err := config.LoadTemporal(lookup)
		if err != nil {
			return t, fmt.Errorf("configuration:\n%w", err)
		}
		return t, nil
	}
	ep, err := config.ReadEndpoints(dataDir)
	if err != nil {
		return config.Temporal{}, fmt.Errorf("no Temporal to read cases from: set TEMPORAL_ADDRESS, or run `desk dev` on %s (%w)", dataDir, err)
	}
	if ep.Temporal == nil {
		return config.Temporal{}, fmt.Errorf("%s/endpoints.json has no Temporal address", dataDir)
	}
	keys, err := PayloadKeys(lookup, dataDir)
	if err != nil {
		return config.Temporal{}, err
	}
	return config.Temporal{Address: ep.Temporal.Address, Namespace: ep.Temporal.Namespace, PayloadKeys: keys}, nil
}
