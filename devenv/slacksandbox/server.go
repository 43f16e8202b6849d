// Package slacksandbox is a stand-in Slack workspace for abusedesk: the Web API methods the bot uses
// (auth.test, chat.postMessage/update/postEphemeral/getPermalink, conversations.history,
// views.open, users.info, usergroups.users.list, apps.connections.open) with Slack's request
// and response shapes, bearer or form tokens and 429s with Retry-After — and a way to click a
// button or submit a modal as a user, which sends the bot a correctly signed interaction over
// HTTP or an envelope over Socket Mode, as Slack would.
package slacksandbox

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/gorilla/websocket"
)

// User is a workspace member.
type User struct {
	ID       string `json:"id"`
	Name     string `json:"name"`
	RealName string `json:"real_name"`
	Email    string `json:"email"`
}

// Message is a channel message.
type Message struct {
	Type     string          `json:"type"`
	User     string          `json:"user,omitempty"`
	BotID    string          `json:"bot_id,omitempty"`
	Text     string          `json:"text"`
	TS       string          `json:"ts"`
	ThreadTS string          `json:"thread_ts,omitempty"`
	Blocks   json.RawMessage `json:"blocks,omitempty"`
	Metadata json.RawMessage `json:"metadata,omitempty"`
	Edited   *struct {
		User string `json:"user"`
		TS   string `json:"ts"`
	} `json:"edited,omitempty"`
	Channel string `json:"-"`
}

// Ephemeral is a message only one user saw.
type Ephemeral struct {
	Channel string
	User    string
	Text    string
}

// View is a modal that was opened.
type View struct {
	ID        string
	TriggerID string
	User      string
	Raw       json.RawMessage
}

// Server is the fake workspace.
type Server struct {
	BotToken      string
	AppToken      string
	SigningSecret string
	// InteractionURL is the bot's interactivity endpoint (HTTP mode).
	InteractionURL string
	TeamID         string
	Now            func() time.Time

	mu         sync.Mutex
	base       string
	users      map[string]User
	groups     map[string][]string
	channels   map[string]string // name → ID
	messages   map[string][]*Message
	ephemerals []Ephemeral
	views      []View
	triggers   map[string]string // trigger_id → user
	seq        int64
	faults     []fault
	conns      []*socketConn
	requests   map[string]int
	client     *http.Client
}

type fault struct {
	method     string
	retryAfter string
	slackErr   string
	status     int
	delay      time.Duration
}

// New makes a workspace with a bot token and a channel.
func New(botToken, appToken, signingSecret, channelName string) *Server {
	s := &Server{BotToken: botToken, AppToken: appToken, SigningSecret: signingSecret, TeamID: "T0ABUSE", Now: time.Now,
		users: map[string]User{}, groups: map[string][]string{}, channels: map[string]string{channelName: "C0LEADS"},
		messages: map[string][]*Message{}, triggers: map[string]string{}, requests: map[string]int{},
		client: &http.Client{Timeout: 30 * time.Second}}
	return s
}

// AddChannel adds a channel (again: no change).
func (s *Server) AddChannel(name, id string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.channels[strings.TrimPrefix(name, "#")] = id
}

// ChannelID is the ID of a channel given by name.
func (s *Server) ChannelID(name string) string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.channels[strings.TrimPrefix(name, "#")]
}

// AddUser adds a member.
func (s *Server) AddUser(u User) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.users[u.ID] = u
}

// AddGroup sets a user group's members.
func (s *Server) AddGroup(id string, members ...string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.groups[id] = members
}

// Users lists the members.
func (s *Server) Users() []User {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []User
	for _, u := range s.users {
		out = append(out, u)
	}
	slices.SortFunc(out, func(a, b User) int { return strings.Compare(a.ID, b.ID) })
	return out
}

// Inject makes the next call of method answer 429 with Retry-After (retryAfter != "") or
// {"ok": false, "error": slackErr}.
func (s *Server) Inject(method, retryAfter, slackErr string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.faults = append(s.faults, fault{method: method, retryAfter: retryAfter, slackErr: slackErr})
}

// InjectStatus makes the next n calls of method answer an HTTP status (e.g. 503).
func (s *Server) InjectStatus(method string, status, n int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for range n {
		s.faults = append(s.faults, fault{method: method, status: status})
	}
}

// InjectDelay makes the next call of method wait d before answering.
func (s *Server) InjectDelay(method string, d time.Duration) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.faults = append(s.faults, fault{method: method, delay: d})
}

// Calls counts the calls of a Web API method.
func (s *Server) Calls(method string) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.requests[method]
}

// Messages returns a channel's messages (top level and replies), oldest first.
func (s *Server) Messages(channelID string) []Message {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []Message
	for _, m := range s.messages[channelID] {
		out = append(out, *m)
	}
	return out
}

// Ephemerals returns the ephemeral messages sent so far.
func (s *Server) Ephemerals() []Ephemeral {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.ephemerals)
}

// Views returns the modals opened so far.
func (s *Server) Views() []View {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.views)
}

// Handler serves the Web API under /api/ and the Socket Mode websocket under /socket.
func (s *Server) Handler() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s.mu.Lock()
		if s.base == "" {
			s.base = "http://" + r.Host
		}
		s.mu.Unlock()
		switch {
		case r.URL.Path == "/socket":
			s.serveSocket(w, r)
		case strings.HasPrefix(r.URL.Path, "/api/"):
			s.api(w, r, strings.TrimPrefix(r.URL.Path, "/api/"))
		case strings.HasPrefix(r.URL.Path, "/response/"):
			w.WriteHeader(http.StatusOK)
		case strings.HasPrefix(r.URL.Path, "/sandbox/"):
			s.sandbox(w, r)
		case strings.HasPrefix(r.URL.Path, "/archives/") && r.Method == http.MethodGet:
			s.archive(w, r)
		default:
			http.NotFound(w, r)
		}
	})
}

// SetBaseURL tells the fake the URL it is served at.
func (s *Server) SetBaseURL(u string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.base = strings.TrimRight(u, "/")
}

func (s *Server) api(w http.ResponseWriter, r *http.Request, method string) {
	args, token, err := readArgs(r)
	if err != nil {
		reply(w, map[string]any{"ok": false, "error": "invalid_form_data"})
		return
	}
	s.mu.Lock()
	s.requests[method]++
	var f *fault
	for i, x := range s.faults {
		if x.method == method {
			f = &x
			s.faults = slices.Delete(s.faults, i, i+1)
			break
		}
	}
	s.mu.Unlock()
	if f != nil && f.delay > 0 {
		select {
		case <-time.After(f.delay):
		case <-r.Context().Done():
			return
		}
		f = nil
	}
	if f != nil && f.status != 0 {
		w.WriteHeader(f.status)
		_, _ = w.Write([]byte("upstream trouble"))
		return
	}
	if f != nil && f.retryAfter != "" {
		w.Header().Set("Retry-After", f.retryAfter)
		w.WriteHeader(http.StatusTooManyRequests)
		_, _ = w.Write([]byte(`{"ok":false,"error":"ratelimited"}`))
		return
	}
	if f != nil {
		reply(w, map[string]any{"ok": false, "error": f.slackErr})
		return
	}
	want := s.BotToken
	if method == "apps.connections.open" {
		want = s.AppToken
	}
	if token != want {
		reply(w, map[string]any{"ok": false, "error": "invalid_auth"})
		return
	}
	switch method {
	case "auth.test":
		reply(w, map[string]any{"ok": true, "url": "https://abusedesk.slack.test/", "team": "Abuse Desk", "user": "abusedesk", "team_id": s.TeamID, "user_id": "U0BOT", "bot_id": "B0BOT"})
	case "chat.postMessage":
		s.postMessage(w, args)
	case "chat.update":
		s.update(w, args)
	case "chat.postEphemeral":
		s.mu.Lock()
		s.ephemerals = append(s.ephemerals, Ephemeral{Channel: s.resolve(args.Get("channel")), User: args.Get("user"), Text: args.Get("text")})
		s.mu.Unlock()
		reply(w, map[string]any{"ok": true, "message_ts": s.nextTS()})
	case "chat.getPermalink":
		s.mu.Lock()
		base := s.base
		s.mu.Unlock()
		reply(w, map[string]any{"ok": true, "channel": args.Get("channel"), "permalink": fmt.Sprintf("%s/archives/%s/p%s", base, args.Get("channel"), strings.ReplaceAll(args.Get("message_ts"), ".", ""))})
	case "conversations.history":
		s.history(w, args)
	case "views.open":
		s.openView(w, args)
	case "users.info":
		s.mu.Lock()
		u, ok := s.users[args.Get("user")]
		s.mu.Unlock()
		if !ok {
			reply(w, map[string]any{"ok": false, "error": "user_not_found"})
			return
		}
		reply(w, map[string]any{"ok": true, "user": map[string]any{"id": u.ID, "name": u.Name, "real_name": u.RealName, "team_id": s.TeamID,
			"profile": map[string]any{"email": u.Email, "real_name": u.RealName, "display_name": u.Name}}})
	case "usergroups.users.list":
		s.mu.Lock()
		members, ok := s.groups[args.Get("usergroup")]
		s.mu.Unlock()
		if !ok {
			reply(w, map[string]any{"ok": false, "error": "no_such_subteam"})
			return
		}
		reply(w, map[string]any{"ok": true, "users": members})
	case "apps.connections.open":
		ws := strings.Replace(s.base, "http", "ws", 1) + "/socket?ticket=" + strconv.FormatInt(time.Now().UnixNano(), 36)
		reply(w, map[string]any{"ok": true, "url": ws})
	default:
		reply(w, map[string]any{"ok": false, "error": "unknown_method"})
	}
}

// readArgs reads a Web API call's arguments (form or JSON body, or query) and its token.
func readArgs(r *http.Request) (url.Values, string, error) {
	args := r.URL.Query()
	token := strings.TrimPrefix(r.Header.Get("Authorization"), "Bearer ")
	if r.Body != nil {
		body, err := io.ReadAll(io.LimitReader(r.Body, 4<<20))
		if err != nil {
			return nil, "", err
		}
		if strings.HasPrefix(r.Header.Get("Content-Type"), "application/json") {
			var m map[string]any
			if len(body) > 0 {
				if err := json.Unmarshal(body, &m); err != nil {
					return nil, "", err
				}
			}
			for k, v := range m {
				switch x := v.(type) {
				case string:
					args.Set(k, x)
				default:
					b, _ := json.Marshal(x)
					args.Set(k, string(b))
				}
			}
		} else if len(body) > 0 {
			form, err := url.ParseQuery(string(body))
			if err != nil {
				return nil, "", err
			}
			for k, v := range form {
				args[k] = v
			}
		}
	}
	if token == "" {
		token = args.Get("token")
	}
	return args, token, nil
}

func reply(w http.ResponseWriter, v any) {
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	_ = json.NewEncoder(w).Encode(v)
}

func (s *Server) nextTS() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.seq++
	return fmt.Sprintf("%d.%06d", s.Now().Unix(), s.seq)
}

// resolve turns a channel name or ID into the ID ("" when unknown).
func (s *Server) resolve(ch string) string {
	ch = strings.TrimPrefix(ch, "#")
	if id, ok := s.channels[ch]; ok {
		return id
	}
	for _, id := range s.channels {
		if id == ch {
			return id
		}
	}
	return ""
}

func (s *Server) postMessage(w http.ResponseWriter, args url.Values) {
	ts := s.nextTS()
	s.mu.Lock()
	defer s.mu.Unlock()
	ch := s.resolve(args.Get("channel"))
	if ch == "" {
		reply(w, map[string]any{"ok": false, "error": "channel_not_found"})
		return
	}
	if args.Get("text") == "" && args.Get("blocks") == "" {
		reply(w, map[string]any{"ok": false, "error": "no_text"})
		return
	}
	m := &Message{Type: "message", BotID: "B0BOT", Text: args.Get("text"), TS: ts, ThreadTS: args.Get("thread_ts"), Channel: ch}
	if b := args.Get("blocks"); b != "" {
		if !json.Valid([]byte(b)) {
			reply(w, map[string]any{"ok": false, "error": "invalid_blocks"})
			return
		}
		m.Blocks = json.RawMessage(b)
	}
	if md := args.Get("metadata"); md != "" {
		m.Metadata = json.RawMessage(md)
	}
	s.messages[ch] = append(s.messages[ch], m)
	reply(w, map[string]any{"ok": true, "channel": ch, "ts": ts, "message": m})
}

func (s *Server) update(w http.ResponseWriter, args url.Values) {
	s.mu.Lock()
	defer s.mu.Unlock()
	ch := s.resolve(args.Get("channel"))
	for _, m := range s.messages[ch] {
		if m.TS == args.Get("ts") {
			if t := args.Get("text"); t != "" {
				m.Text = t
			}
			if b := args.Get("blocks"); b != "" {
				m.Blocks = json.RawMessage(b)
			}
			m.Edited = &struct {
				User string `json:"user"`
				TS   string `json:"ts"`
			}{"U0BOT", fmt.Sprintf("%d.000000", s.Now().Unix())}
			reply(w, map[string]any{"ok": true, "channel": ch, "ts": m.TS, "text": m.Text})
			return
		}
	}
	reply(w, map[string]any{"ok": false, "error": "message_not_found"})
}

func (s *Server) history(w http.ResponseWriter, args url.Values) {
	s.mu.Lock()
	defer s.mu.Unlock()
	ch := s.resolve(args.Get("channel"))
	if ch == "" {
		reply(w, map[string]any{"ok": false, "error": "channel_not_found"})
		return
	}
	limit, _ := strconv.Atoi(args.Get("limit"))
	if limit <= 0 || limit > 999 {
		limit = 100
	}
	withMeta := args.Get("include_all_metadata") == "true" || args.Get("include_all_metadata") == "1"
	var out []Message
	all := s.messages[ch]
	for i := len(all) - 1; i >= 0 && len(out) < limit; i-- {
		if all[i].ThreadTS != "" && all[i].ThreadTS != all[i].TS {
			continue // replies are not in the channel history
		}
		m := *all[i]
		if !withMeta {
			m.Metadata = nil
		}
		out = append(out, m)
	}
	reply(w, map[string]any{"ok": true, "messages": out, "has_more": false})
}

func (s *Server) openView(w http.ResponseWriter, args url.Values) {
	s.mu.Lock()
	defer s.mu.Unlock()
	trig := args.Get("trigger_id")
	user, ok := s.triggers[trig]
	if !ok {
		reply(w, map[string]any{"ok": false, "error": "invalid_trigger_id"})
		return
	}
	delete(s.triggers, trig)
	s.seq++
	v := View{ID: fmt.Sprintf("V%06d", s.seq), TriggerID: trig, User: user, Raw: json.RawMessage(args.Get("view"))}
	s.views = append(s.views, v)
	reply(w, map[string]any{"ok": true, "view": map[string]any{"id": v.ID}})
}

// ---- clicking as a user ----------------------------------------------------------------------

// ErrNoButton means the message has no button with that action ID (e.g. it was already decided).
var ErrNoButton = errors.New("slack sandbox: the message has no such button")

// Click makes user click the button actionID on the message ts in channel: the bot receives a
// block_actions interaction (HTTP, signed, or over Socket Mode when a bot is connected).
// It returns the bot's response.
func (s *Server) Click(channelID, ts, actionID, user string) (*Response, error) {
	s.mu.Lock()
	if id := s.resolve(channelID); id != "" {
		channelID = id // a channel's name works too
	}
	var msg *Message
	for _, m := range s.messages[channelID] {
		if m.TS == ts {
			msg = m
		}
	}
	if msg == nil {
		s.mu.Unlock()
		return nil, fmt.Errorf("slack sandbox: no message %s in %s", ts, channelID)
	}
	value, blockID, ok := findButton(msg.Blocks, actionID)
	if !ok {
		s.mu.Unlock()
		return nil, ErrNoButton
	}
	s.seq++
	trigger := fmt.Sprintf("%d.%d.trig", s.Now().Unix(), s.seq)
	s.triggers[trigger] = user
	u := s.users[user]
	payload := map[string]any{
		"type":         "block_actions",
		"team":         map[string]any{"id": s.TeamID, "domain": "abusedesk"},
		"user":         map[string]any{"id": user, "username": u.Name, "name": u.Name, "team_id": s.TeamID},
		"api_app_id":   "A0DESK",
		"token":        "verification-token-unused",
		"container":    map[string]any{"type": "message", "message_ts": ts, "channel_id": channelID, "is_ephemeral": false},
		"trigger_id":   trigger,
		"channel":      map[string]any{"id": channelID, "name": "abuse-leads"},
		"message":      map[string]any{"type": "message", "ts": ts, "text": msg.Text, "blocks": msg.Blocks},
		"response_url": s.base + "/response/" + trigger,
		"actions": []map[string]any{{
			"action_id": actionID, "block_id": blockID, "value": value, "type": "button",
			"action_ts": fmt.Sprintf("%d.%06d", s.Now().Unix(), s.seq),
		}},
	}
	s.mu.Unlock()
	return s.send(payload)
}

// SubmitView submits the modal with view ID as its user, with the given input values
// (block ID → action ID → value).
func (s *Server) SubmitView(viewID string, values map[string]map[string]string) (*Response, error) {
	s.mu.Lock()
	var v *View
	for i := range s.views {
		if s.views[i].ID == viewID {
			v = &s.views[i]
		}
	}
	if v == nil {
		s.mu.Unlock()
		return nil, fmt.Errorf("slack sandbox: no view %s", viewID)
	}
	var req struct {
		CallbackID      string `json:"callback_id"`
		PrivateMetadata string `json:"private_metadata"`
	}
	_ = json.Unmarshal(v.Raw, &req)
	state := map[string]any{}
	for block, actions := range values {
		m := map[string]any{}
		for action, val := range actions {
			m[action] = map[string]any{"type": "plain_text_input", "value": val}
		}
		state[block] = m
	}
	u := s.users[v.User]
	payload := map[string]any{
		"type":       "view_submission",
		"team":       map[string]any{"id": s.TeamID, "domain": "abusedesk"},
		"user":       map[string]any{"id": v.User, "username": u.Name, "name": u.Name, "team_id": s.TeamID},
		"api_app_id": "A0DESK",
		"view": map[string]any{"id": v.ID, "type": "modal", "callback_id": req.CallbackID, "private_metadata": req.PrivateMetadata,
			"state": map[string]any{"values": state}},
	}
	s.mu.Unlock()
	return s.send(payload)
}

// Response is what the bot answered to an interaction.
type Response struct {
	Status int
	Body   []byte
}

// send delivers an interaction: over Socket Mode when a bot is connected, else signed HTTP.
func (s *Server) send(payload map[string]any) (*Response, error) {
	b, err := json.Marshal(payload)
	if err != nil {
		return nil, err
	}
	if c := s.socket(); c != nil {
		return c.deliver(b)
	}
	if s.InteractionURL == "" {
		return nil, errors.New("slack sandbox: no bot endpoint and no socket connection")
	}
	body := url.Values{"payload": {string(b)}}.Encode()
	req, err := http.NewRequest(http.MethodPost, s.InteractionURL, strings.NewReader(body))
	if err != nil {
		return nil, err
	}
	ts := strconv.FormatInt(s.Now().Unix(), 10)
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("X-Slack-Request-Timestamp", ts)
	req.Header.Set("X-Slack-Signature", Sign(s.SigningSecret, ts, []byte(body)))
	resp, err := s.client.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	rb, _ := io.ReadAll(resp.Body)
	return &Response{Status: resp.StatusCode, Body: rb}, nil
}

// Sign computes Slack's request signature: v0=hex(HMAC-SHA256(secret, "v0:ts:body")).
func Sign(secret, ts string, body []byte) string {
	m := hmac.New(sha256.New, []byte(secret))
	m.Write([]byte("v0:" + ts + ":"))
	m.Write(body)
	return "v0=" + hex.EncodeToString(m.Sum(nil))
}

// findButton finds a button by action ID in a message's blocks.
func findButton(blocks json.RawMessage, actionID string) (value, blockID string, ok bool) {
	var bs []struct {
		Type     string `json:"type"`
		BlockID  string `json:"block_id"`
		Elements []struct {
			Type     string `json:"type"`
			ActionID string `json:"action_id"`
			Value    string `json:"value"`
		} `json:"elements"`
	}
	if json.Unmarshal(blocks, &bs) != nil {
		return "", "", false
	}
	for _, b := range bs {
		if b.Type != "actions" {
			continue
		}
		for _, e := range b.Elements {
			if e.Type == "button" && e.ActionID == actionID {
				return e.Value, b.BlockID, true
			}
		}
	}
	return "", "", false
}

// ---- socket mode ------------------------------------------------------------------------------

type socketConn struct {
	ws   *websocket.Conn
	mu   sync.Mutex
	acks map[string]chan []byte
	done chan struct{}
}

var upgrader = websocket.Upgrader{CheckOrigin: func(*http.Request) bool { return true }}

func (s *Server) serveSocket(w http.ResponseWriter, r *http.Request) {
	ws, err := upgrader.Upgrade(w, r, nil)
	if err != nil {
		return
	}
	c := &socketConn{ws: ws, acks: map[string]chan []byte{}, done: make(chan struct{})}
	s.mu.Lock()
	s.conns = append(s.conns, c)
	s.mu.Unlock()
	hello := map[string]any{"type": "hello", "num_connections": 1,
		"debug_info":      map[string]any{"host": "slacksandbox", "approximate_connection_time": 18060},
		"connection_info": map[string]any{"app_id": "A0DESK"}}
	c.write(hello)
	defer func() {
		close(c.done)
		_ = ws.Close()
		s.mu.Lock()
		s.conns = slices.DeleteFunc(s.conns, func(x *socketConn) bool { return x == c })
		s.mu.Unlock()
	}()
	for {
		_, data, err := ws.ReadMessage()
		if err != nil {
			return
		}
		var ack struct {
			EnvelopeID string          `json:"envelope_id"`
			Payload    json.RawMessage `json:"payload"`
		}
		if json.Unmarshal(data, &ack) == nil && ack.EnvelopeID != "" {
			c.mu.Lock()
			ch := c.acks[ack.EnvelopeID]
			delete(c.acks, ack.EnvelopeID)
			c.mu.Unlock()
			if ch != nil {
				ch <- ack.Payload
			}
		}
	}
}

func (s *Server) socket() *socketConn {
	s.mu.Lock()
	defer s.mu.Unlock()
	if len(s.conns) == 0 {
		return nil
	}
	return s.conns[len(s.conns)-1]
}

// Connected reports whether a bot is connected over Socket Mode.
func (s *Server) Connected() bool { return s.socket() != nil }

func (c *socketConn) write(v any) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.ws.WriteJSON(v)
}

func (c *socketConn) deliver(payload []byte) (*Response, error) {
	id := fmt.Sprintf("env-%d", time.Now().UnixNano())
	ch := make(chan []byte, 1)
	c.mu.Lock()
	c.acks[id] = ch
	c.mu.Unlock()
	env := map[string]any{"envelope_id": id, "type": "interactive", "accepts_response_payload": true, "payload": json.RawMessage(payload)}
	if err := c.write(env); err != nil {
		return nil, err
	}
	select {
	case p := <-ch:
		return &Response{Status: http.StatusOK, Body: p}, nil
	case <-c.done:
		return nil, errors.New("slack sandbox: the bot disconnected before acknowledging")
	case <-time.After(30 * time.Second):
		return nil, errors.New("slack sandbox: the bot did not acknowledge within 30s")
	}
}

// ---- sandbox controls ------------------------------------------------------------------------

// sandbox serves the controls a person (or a test) uses to act as a Slack user: click a
// button, submit a modal, list modals. They produce the same interactions a real click would.
//
//	POST /sandbox/click   {"channel": "C…", "ts": "…", "action_id": "…", "user": "U…"}
//	POST /sandbox/submit  {"view_id": "V…", "values": {"block": {"action": "text"}}}
//	GET  /sandbox/views   the modals opened so far
//	GET  /sandbox/ephemerals  the messages only one user saw (the desk's answers to a click)
//	GET  /sandbox/            the channels (a page), and /sandbox/channels/{name} each one's messages
func (s *Server) sandbox(w http.ResponseWriter, r *http.Request) {
	var resp *Response
	var err error
	switch r.URL.Path {
	case "/sandbox/", "/sandbox":
		if r.Method == http.MethodGet {
			s.channelsPage(w, r)
			return
		}
	}
	if ch, ok := strings.CutPrefix(r.URL.Path, "/sandbox/channels/"); ok && r.Method == http.MethodGet {
		s.channelPage(w, r, ch)
		return
	}
	switch r.URL.Path {
	case "/sandbox/click":
		var in struct {
			Channel, TS, User string
			ActionID          string `json:"action_id"`
		}
		if err = json.NewDecoder(r.Body).Decode(&in); err == nil {
			resp, err = s.Click(in.Channel, in.TS, in.ActionID, in.User)
		}
	case "/sandbox/submit":
		var in struct {
			ViewID string                       `json:"view_id"`
			Values map[string]map[string]string `json:"values"`
		}
		if err = json.NewDecoder(r.Body).Decode(&in); err == nil {
			resp, err = s.SubmitView(in.ViewID, in.Values)
		}
	case "/sandbox/ephemerals":
		var out []map[string]any
		for _, e := range s.Ephemerals() {
			out = append(out, map[string]any{"channel": e.Channel, "user": e.User, "text": e.Text})
		}
		reply(w, map[string]any{"ephemerals": out})
		return
	case "/sandbox/views":
		var out []map[string]any
		for _, v := range s.Views() {
			out = append(out, map[string]any{"id": v.ID, "user": v.User, "view": v.Raw})
		}
		reply(w, map[string]any{"views": out})
		return
	default:
		http.NotFound(w, r)
		return
	}
	if err != nil {
		w.WriteHeader(http.StatusConflict)
		reply(w, map[string]any{"ok": false, "error": err.Error()})
		return
	}
	reply(w, map[string]any{"ok": true, "status": resp.Status, "body": string(resp.Body)})
}
