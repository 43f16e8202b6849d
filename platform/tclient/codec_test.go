package tclient

import (
	"bytes"
	"strings"
	"testing"

	commonpb "go.temporal.io/api/common/v1"
	"go.temporal.io/sdk/converter"
)

// TestCodec: a payload is encrypted with the first key and names it; it decodes with any key
// of the set (rotation); a payload written before encryption passes through; a payload whose
// key is gone, or that was tampered with, is an error naming why.
func TestCodec(t *testing.T) {
	old, _ := NewKey("k1")
	cur, _ := NewKey("k2")
	writer, err := ParseKeys(old)
	if err != nil {
		t.Fatal(err)
	}
	dc := DataConverter(writer)
	report := "Phishing page at http://login-bank.example/verify reported by cert@example.org"
	p, err := dc.ToPayload(report)
	if err != nil {
		t.Fatal(err)
	}
	if bytes.Contains(p.Data, []byte("login-bank")) || string(p.Metadata[converter.MetadataEncoding]) != MetadataEncodingEncrypted || string(p.Metadata[MetadataKeyID]) != "k1" {
		t.Fatalf("payload not encrypted with k1: %s %q", p.Metadata, p.Data)
	}
	rotated, err := ParseKeys(cur + "," + old)
	if err != nil {
		t.Fatal(err)
	}
	var got string
	if err := DataConverter(rotated).FromPayload(p, &got); err != nil || got != report {
		t.Fatalf("after rotation: %q %v", got, err)
	}
	clear, _ := converter.GetDefaultDataConverter().ToPayload(report)
	got = ""
	if err := DataConverter(rotated).FromPayload(clear, &got); err != nil || got != report {
		t.Errorf("a payload from before encryption: %q %v", got, err)
	}
	other, _ := ParseKeys(cur)
	if err := DataConverter(other).FromPayload(p, &got); err == nil || !strings.Contains(err.Error(), `no key "k1"`) {
		t.Errorf("a payload whose key is gone: %v", err)
	}
	bad := &commonpb.Payload{Metadata: p.Metadata, Data: append([]byte(nil), p.Data...)}
	bad.Data[len(bad.Data)-1] ^= 1
	if err := DataConverter(writer).FromPayload(bad, &got); err == nil {
		t.Error("a tampered payload decoded")
	}
	for _, bad := range []string{"", "k1", "k1=short", "k1=" + strings.Repeat("A", 44) + ",k1=" + strings.Repeat("A", 44)} {
		if _, err := ParseKeys(bad); err == nil {
			t.Errorf("ParseKeys(%q) took it", bad)
		} else if strings.Contains(err.Error(), strings.Repeat("A", 10)) {
			t.Errorf("ParseKeys(%q) quotes the key material: %v", bad, err)
		}
	}
}

// TestDevKeys: the first call makes the file (0600) with one key; later calls read the same.
func TestDevKeys(t *testing.T) {
	dir := t.TempDir()
	a, err := DevKeys(dir)
	if err != nil {
		t.Fatal(err)
	}
	b, err := DevKeys(dir)
	if err != nil || a != b {
		t.Fatalf("second read %q %v, want the first %q", b, err, a)
	}
	if _, err := ParseKeys(a); err != nil {
		t.Errorf("the dev keys do not parse: %v", err)
	}
}
