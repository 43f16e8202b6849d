package slacksandbox

import (
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
)

func TestMrkdwn(t *testing.T) {
	names := func(id string) string { return map[string]string{"ULEAD1": "Lee Lead", "SLEADS": "leads"}[id] }
	for in, want := range map[string]string{
		"*Approve?* <https://desk.example/cases/TS-1|TS-1> for <@ULEAD1> and <!subteam^SLEADS>": `<b>Approve?</b> <a href="https://desk.example/cases/TS-1">TS-1</a> for <b class="mention">@Lee Lead</b> and <b class="mention">@leads</b>`,
		"status pending_approval, _due_ in ~2h~ `now`":                                          `status pending_approval, <i>due</i> in <s>2h</s> <code>now</code>`,
		"a <script>alert(1)</script> & <https://x.example>":                                     `a &lt;script&gt;alert(1)&lt;/script&gt; &amp; <a href="https://x.example">https://x.example</a>`,
		"3 * 4 * 5": "3 * 4 * 5",
	} {
		if got := string(mrkdwn(in, names)); got != want {
			t.Errorf("mrkdwn(%q)\n got  %s\n want %s", in, got, want)
		}
	}
}

// TestArchiveRendersMrkdwn: a message's permalink shows its links, mentions and bold as Slack
// would, not its raw markup.
func TestArchiveRendersMrkdwn(t *testing.T) {
	s := New("xoxb-test", "", "secret", "abuse-leads")
	s.AddUser(User{ID: "ULEAD1", Name: "lee", RealName: "Lee Lead"})
	srv := httptest.NewServer(s.Handler())
	defer srv.Close()
	blocks := `[{"type":"section","text":{"type":"mrkdwn","text":"*Approve TS-1?* <https://desk.example/cases/TS-1|TS-1> — <@ULEAD1>"}}]`
	resp, err := http.PostForm(srv.URL+"/api/chat.postMessage", url.Values{"token": {"xoxb-test"}, "channel": {"abuse-leads"}, "text": {"x"}, "blocks": {blocks}})
	if err != nil {
		t.Fatal(err)
	}
	var posted struct {
		OK bool   `json:"ok"`
		TS string `json:"ts"`
	}
	_ = json.NewDecoder(resp.Body).Decode(&posted)
	resp.Body.Close()
	if !posted.OK {
		t.Fatal("not posted")
	}
	page, err := http.Get(srv.URL + "/archives/C0LEADS/p" + strings.ReplaceAll(posted.TS, ".", ""))
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(page.Body)
	page.Body.Close()
	body := string(b)
	for _, want := range []string{`<b>Approve TS-1?</b>`, `<a href="https://desk.example/cases/TS-1">TS-1</a>`, `@Lee Lead`} {
		if !strings.Contains(body, want) {
			t.Errorf("the permalink page lacks %s:\n%s", want, body)
		}
	}
	if strings.Contains(body, "|TS-1&gt;") || strings.Contains(body, "*Approve") {
		t.Errorf("raw markup shows:\n%s", body)
	}
	// The channels can be browsed: a list, and each channel's messages; on a phone too.
	get := func(path string) (int, string) {
		resp, err := http.Get(srv.URL + path)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(b)
	}
	if code, list := get("/sandbox/"); code != 200 || !strings.Contains(list, `<a href="/sandbox/channels/abuse-leads">#abuse-leads</a>`) || !strings.Contains(list, "1 message(s)") {
		t.Errorf("the channel list: HTTP %d\n%s", code, list)
	}
	if code, ch := get("/sandbox/channels/abuse-leads"); code != 200 || !strings.Contains(ch, `<b>Approve TS-1?</b>`) || !strings.Contains(ch, `name="viewport"`) {
		t.Errorf("the channel page: HTTP %d\n%s", code, ch)
	}
	if code, _ := get("/sandbox/channels/nowhere"); code != http.StatusNotFound {
		t.Errorf("an unknown channel: HTTP %d, want 404", code)
	}
}
