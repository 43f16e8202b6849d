package enforcementapi

import (
	"encoding/json"
	"fmt"
	"time"
)

// state is what the API holds, for Save and Load. Idempotency keys are kept, so a retried
// request after a restart still finds its action.
type state struct {
	Accounts map[string]*Account  `json:"accounts"`
	Actions  map[string]*Action   `json:"actions"`
	Order    []string             `json:"order"`
	Keys     map[string][2]string `json:"idempotency_keys"`
	Lifting  map[string]time.Time `json:"lifting,omitempty"`
}

// Save returns the API's state as JSON.
func (s *Server) Save() ([]byte, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	st := state{Accounts: s.accounts, Actions: s.actions, Order: s.order, Keys: map[string][2]string{}, Lifting: map[string]time.Time{}}
	for k, v := range s.keys {
		st.Keys[k] = [2]string{v.hash, v.actionID}
	}
	for id, a := range s.actions {
		if !a.liftRequested.IsZero() {
			st.Lifting[id] = a.liftRequested
		}
	}
	return json.Marshal(st)
}

// Load replaces the API's state with one from Save.
func (s *Server) Load(b []byte) error {
	var st state
	if err := json.Unmarshal(b, &st); err != nil {
		return fmt.Errorf("enforcementapi: state: %w", err)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.accounts, s.actions, s.order, s.index = map[string]*Account{}, map[string]*Action{}, st.Order, nil
	for k, v := range st.Accounts {
		s.accounts[k] = v
	}
	for k, v := range st.Actions {
		v.liftRequested = st.Lifting[k]
		s.actions[k] = v
	}
	s.keys = map[string]idem{}
	for k, v := range st.Keys {
		s.keys[k] = idem{hash: v[0], actionID: v[1]}
	}
	return nil
}
