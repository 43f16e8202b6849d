package zendesksandbox

import "testing"

// TestStripHTML: an html_body becomes the plain body Zendesk shows: text with its entities
// decoded, a line per block and <br>, no script or style.
func TestStripHTML(t *testing.T) {
	for in, want := range map[string]string{
		`<p>Hello &amp; welcome</p><p>Line&nbsp;two<br>three</p>`:                 "Hello & welcome\nLine\u00a0two\nthree",
		`<style>p{color:red}</style><div>a &lt;b&gt; c</div><script>x()</script>`: "a <b> c",
		`plain text, no tags`: "plain text, no tags",
		`<p>unclosed <b>bold`: "unclosed bold",
	} {
		if got := stripHTML(in); got != want {
			t.Errorf("stripHTML(%q) = %q, want %q", in, got, want)
		}
	}
}
