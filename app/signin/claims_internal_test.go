package signin

import "testing"

// TestStrictClaims: email_verified must be the boolean true when present, and a token for
// several audiences must name this desk as its authorised party.
func TestStrictClaims(t *testing.T) {
	s := &SignIn{cfg: Config{ClientID: "desk"}}
	for name, tc := range map[string]struct {
		claims map[string]any
		ok     bool
	}{
		"plain":                        {map[string]any{"aud": "desk"}, true},
		"verified":                     {map[string]any{"aud": "desk", "email_verified": true}, true},
		"not verified":                 {map[string]any{"aud": "desk", "email_verified": false}, false},
		"not verified, as a string":    {map[string]any{"aud": "desk", "email_verified": "false"}, false},
		"verified, as a string":        {map[string]any{"aud": "desk", "email_verified": "true"}, false},
		"two audiences, azp this desk": {map[string]any{"aud": []any{"desk", "other"}, "azp": "desk"}, true},
		"two audiences, no azp":        {map[string]any{"aud": []any{"desk", "other"}}, false},
		"two audiences, azp another":   {map[string]any{"aud": []any{"desk", "other"}, "azp": "other"}, false},
	} {
		if why := s.strictClaims(tc.claims); (why == "") != tc.ok {
			t.Errorf("%s: %q, want accepted=%v", name, why, tc.ok)
		}
	}
}
