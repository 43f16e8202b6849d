package config

import (
	"strings"
	"testing"
)

// TestOIDCConfig: sign-in needs a client ID, roles that name known roles, and a session key
// long enough; each mistake is named by its variable.
func TestOIDCConfig(t *testing.T) {
	_, err := LoadDesk(MapLookup(map[string]string{"DESK_OIDC_ISSUER": "https://idp.example", "DESK_OIDC_ROLES": "boss=admins", "DESK_SESSION_KEY": "short"}))
	for _, want := range []string{"DESK_OIDC_CLIENT_ID", `DESK_OIDC_ROLES: "boss=admins"`, "DESK_SESSION_KEY"} {
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("error %v does not name %s", err, want)
		}
	}
	d, err := LoadDesk(MapLookup(map[string]string{"DESK_OIDC_ISSUER": "https://idp.example", "DESK_OIDC_CLIENT_ID": "desk",
		"DESK_OIDC_ROLES": "agent=abuse-agents, tier1; lead=abuse-leads", "DESK_SESSION_KEY": strings.Repeat("k", 32)}))
	if err != nil || len(d.OIDC.Roles["agent"]) != 2 || d.OIDC.Roles["lead"][0] != "abuse-leads" || d.OIDC.GroupsClaim != "groups" {
		t.Errorf("%+v %v", d.OIDC, err)
	}
	if d, err := LoadDesk(MapLookup(nil)); err != nil || d.OIDC.Issuer != "" {
		t.Errorf("no sign-in by default: %+v %v", d.OIDC, err)
	}
}
