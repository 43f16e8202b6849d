package tclient

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"fmt"
	"path/filepath"
	"strings"

	commonpb "go.temporal.io/api/common/v1"
	"go.temporal.io/sdk/converter"
	"go.temporal.io/sdk/temporal"

	"abusedesk/platform/config"
	"abusedesk/platform/durable"
)

// Payload encryption: every workflow and activity input and result, query answer, signal and
// update, memo and failure message leaves the desk encrypted with AES-256-GCM, so Temporal's
// database and its Web UI hold no report text, customer data or legal matter in clear. The
// metadata names the key (rotation: the first key encrypts, every key decrypts), and payloads
// written before encryption decode as they are, so older histories still replay.
const (
	// MetadataEncodingEncrypted marks an encrypted payload.
	MetadataEncodingEncrypted = "binary/encrypted"
	// MetadataKeyID names the key that encrypted a payload.
	MetadataKeyID = "encryption-key-id"
)

// Keys are the payload keys by ID; the first encrypts.
type Keys struct {
	ids   []string
	aeads map[string]cipher.AEAD
}

// ParseKeys reads "id=base64key" entries separated by commas, semicolons or newlines (lines
// starting with # are comments). Each key is 32 bytes (AES-256), in standard or URL base64.
func ParseKeys(s string) (*Keys, error) {
	k := &Keys{aeads: map[string]cipher.AEAD{}}
	var entries []string
	for _, line := range strings.Split(s, "\n") {
		if strings.HasPrefix(strings.TrimSpace(line), "#") {
			continue
		}
		entries = append(entries, strings.FieldsFunc(line, func(r rune) bool { return r == ',' || r == ';' })...)
	}
	for _, entry := range entries {
		entry = strings.TrimSpace(entry)
		if entry == "" {
			continue
		}
		id, b64, ok := strings.Cut(entry, "=")
		id = strings.TrimSpace(id)
		if !ok || id == "" {
			return nil, fmt.Errorf("payload key %q: want id=base64key", redactKey(entry))
		}
		raw, err := decodeKey(strings.TrimSpace(b64))
		if err != nil || len(raw) != 32 {
			return nil, fmt.Errorf("payload key %q: want 32 bytes in base64 (AES-256)", id)
		}
		if _, dup := k.aeads[id]; dup {
			return nil, fmt.Errorf("payload key %q is given twice", id)
		}
		block, err := aes.NewCipher(raw)
		if err != nil {
			return nil, fmt.Errorf("payload key %q: %w", id, err)
		}
		aead, err := cipher.NewGCM(block)
		if err != nil {
			return nil, fmt.Errorf("payload key %q: %w", id, err)
		}
		k.ids, k.aeads[id] = append(k.ids, id), aead
	}
	if len(k.ids) == 0 {
		return nil, errors.New("no payload key given")
	}
	return k, nil
}

func decodeKey(s string) ([]byte, error) {
	for _, enc := range []*base64.Encoding{base64.StdEncoding, base64.RawStdEncoding, base64.URLEncoding, base64.RawURLEncoding} {
		if b, err := enc.DecodeString(s); err == nil {
			return b, nil
		}
	}
	return nil, errors.New("not base64")
}

// redactKey keeps an entry's ID and drops its key material from an error.
func redactKey(entry string) string {
	id, _, _ := strings.Cut(entry, "=")
	return id + "=…"
}

// Current is the ID of the key that encrypts.
func (k *Keys) Current() string { return k.ids[0] }

// NewKey returns a new key entry "id=base64key" with a random key.
func NewKey(id string) (string, error) {
	raw := make([]byte, 32)
	if _, err := rand.Read(raw); err != nil {
		return "", err
	}
	return id + "=" + base64.StdEncoding.EncodeToString(raw), nil
}

// PayloadKeys are the keys a desk dev encrypts its payloads with, and those the commands that
// read its cases decrypt with: DESK_PAYLOAD_KEYS when set, else the data dir's own (DevKeys).
func PayloadKeys(lookup config.Lookup, dataDir string) (string, error) {
	if v, ok := lookup("DESK_PAYLOAD_KEYS"); ok && strings.TrimSpace(v) != "" {
		return strings.TrimSpace(v), nil
	}
	return DevKeys(dataDir)
}

// DevKeys reads the payload keys `desk dev` keeps in its data dir, making the file (mode 0600)
// with a new key the first time.
func DevKeys(dataDir string) (string, error) {
	keys, err := durable.KeptFile(filepath.Join(dataDir, "payload-keys"), func() (string, error) {
		entry, err := NewKey("dev-1")
		return "# abusedesk payload keys (desk dev): the first encrypts, all decrypt. Keep this file: without it\n# the cases in this data dir cannot be read.\n" + entry + "\n", err
	})
	if err != nil {
		return "", fmt.Errorf("payload keys: %w", err)
	}
	return keys, nil
}

// Codec is the payload codec: AES-256-GCM with the key ID in the metadata.
type Codec struct{ Keys *Keys }

// NewCodec is the codec of DESK_PAYLOAD_KEYS' value: nil for "" or "off" (payloads in clear).
func NewCodec(keys string) (*Codec, error) {
	if keys == "" || keys == "off" {
		return nil, nil
	}
	k, err := ParseKeys(keys)
	if err != nil {
		return nil, fmt.Errorf("DESK_PAYLOAD_KEYS: %w", err)
	}
	return &Codec{Keys: k}, nil
}

var _ converter.PayloadCodec = (*Codec)(nil)

// Encode encrypts each payload (its metadata and data, marshalled) with the current key.
func (c *Codec) Encode(payloads []*commonpb.Payload) ([]*commonpb.Payload, error) {
	id := c.Keys.Current()
	aead := c.Keys.aeads[id]
	out := make([]*commonpb.Payload, len(payloads))
	for i, p := range payloads {
		plain, err := p.Marshal()
		if err != nil {
			return nil, fmt.Errorf("encrypt a payload: %w", err)
		}
		nonce := make([]byte, aead.NonceSize())
		if _, err := rand.Read(nonce); err != nil {
			return nil, fmt.Errorf("encrypt a payload: %w", err)
		}
		out[i] = &commonpb.Payload{
			Metadata: map[string][]byte{converter.MetadataEncoding: []byte(MetadataEncodingEncrypted), MetadataKeyID: []byte(id)},
			Data:     aead.Seal(nonce, nonce, plain, []byte(id)),
		}
	}
	return out, nil
}

// Decode decrypts encrypted payloads with the key they name and passes any other through.
func (c *Codec) Decode(payloads []*commonpb.Payload) ([]*commonpb.Payload, error) {
	out := make([]*commonpb.Payload, len(payloads))
	for i, p := range payloads {
		if string(p.GetMetadata()[converter.MetadataEncoding]) != MetadataEncodingEncrypted {
			out[i] = p
			continue
		}
		id := string(p.GetMetadata()[MetadataKeyID])
		aead, ok := c.Keys.aeads[id]
		if !ok {
			return nil, fmt.Errorf("decrypt a payload: no key %q (DESK_PAYLOAD_KEYS lists %s)", id, strings.Join(c.Keys.ids, ", "))
		}
		data := p.GetData()
		if len(data) < aead.NonceSize() {
			return nil, errors.New("decrypt a payload: too short")
		}
		plain, err := aead.Open(nil, data[:aead.NonceSize()], data[aead.NonceSize():], []byte(id))
		if err != nil {
			return nil, fmt.Errorf("decrypt a payload with key %q: %w", id, err)
		}
		var dp commonpb.Payload
		if err := dp.Unmarshal(plain); err != nil {
			return nil, fmt.Errorf("decrypt a payload: %w", err)
		}
		out[i] = &dp
	}
	return out, nil
}

// DataConverter is the SDK's default converter with the codec (nil keys: no encryption).
func DataConverter(k *Keys) converter.DataConverter {
	if k == nil {
		return converter.GetDefaultDataConverter()
	}
	return converter.NewCodecDataConverter(converter.GetDefaultDataConverter(), &Codec{Keys: k})
}

// FailureConverter encodes failures' messages and stack traces with the data converter, so an
// error quoting a report is not in clear either.
func FailureConverter(dc converter.DataConverter) converter.FailureConverter {
	return temporal.NewDefaultFailureConverter(temporal.DefaultFailureConverterOptions{DataConverter: dc, EncodeCommonAttributes: true})
}
