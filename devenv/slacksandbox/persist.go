package slacksandbox

import (
	"encoding/json"
	"fmt"
)

// state is the workspace's content, for Save and Load: users, groups, channels, messages and
// the modals opened (so a dialog left open survives a restart). Connections and faults are not.
type state struct {
	Users    map[string]User       `json:"users"`
	Groups   map[string][]string   `json:"groups"`
	Channels map[string]string     `json:"channels"`
	Messages map[string][]*Message `json:"messages"`
	Views    []View                `json:"views"`
	Triggers map[string]string     `json:"triggers"`
	Seq      int64                 `json:"seq"`
}

// Save returns the workspace's state as JSON.
func (s *Server) Save() ([]byte, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return json.Marshal(state{Users: s.users, Groups: s.groups, Channels: s.channels, Messages: s.messages,
		Views: s.views, Triggers: s.triggers, Seq: s.seq})
}

// Load replaces the workspace's state with one from Save.
func (s *Server) Load(b []byte) error {
	var st state
	if err := json.Unmarshal(b, &st); err != nil {
		return fmt.Errorf("slack sandbox: state: %w", err)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if st.Users != nil {
		s.users = st.Users
	}
	if st.Groups != nil {
		s.groups = st.Groups
	}
	if st.Channels != nil {
		s.channels = st.Channels
	}
	s.messages = map[string][]*Message{}
	for ch, ms := range st.Messages {
		for _, m := range ms {
			m.Channel = ch
		}
		s.messages[ch] = ms
	}
	s.views, s.seq = st.Views, st.Seq
	if st.Triggers != nil {
		s.triggers = st.Triggers
	}
	return nil
}
