package reports

import (
	"encoding/asn1"
	"errors"
	"strings"
)

// oidSignedData is CMS SignedData (RFC 5652, 5.1); oidData its usual content type.
var oidSignedData = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 7, 2}

// isOpaqueSigned says a part is an S/MIME message signed with its content inside
// (application/pkcs7-mime; smime-type=signed-data, RFC 8551), not an encrypted one.
func isOpaqueSigned(mediaType string, params map[string]string, name string) bool {
	switch strings.ToLower(mediaType) {
	case "application/pkcs7-mime", "application/x-pkcs7-mime":
	default:
		return false
	}
	t := strings.ToLower(params["smime-type"])
	return t == "signed-data" || t == "" && strings.HasSuffix(strings.ToLower(name), ".p7m")
}

// smimeContent returns the content a CMS SignedData carries (DER): the MIME entity that was
// signed. It reads the structure only; the signature is not checked.
func smimeContent(der []byte) ([]byte, error) {
	var ci struct {
		ContentType asn1.ObjectIdentifier
		Content     asn1.RawValue `asn1:"explicit,tag:0"`
	}
	if _, err := asn1.Unmarshal(der, &ci); err != nil {
		return nil, err
	}
	if !ci.ContentType.Equal(oidSignedData) {
		return nil, errors.New("not CMS signed data")
	}
	var sd asn1.RawValue // SignedData ::= SEQUENCE { version, digestAlgorithms, encapContentInfo, … }
	if _, err := asn1.Unmarshal(ci.Content.Bytes, &sd); err != nil {
		return nil, err
	}
	rest := sd.Bytes
	for range 2 { // version, digestAlgorithms
		var skip asn1.RawValue
		var err error
		if rest, err = asn1.Unmarshal(rest, &skip); err != nil {
			return nil, err
		}
	}
	var encap struct {
		EContentType asn1.ObjectIdentifier
		EContent     asn1.RawValue `asn1:"explicit,optional,tag:0"`
	}
	if _, err := asn1.Unmarshal(rest, &encap); err != nil {
		return nil, err
	}
	if len(encap.EContent.Bytes) == 0 {
		return nil, errors.New("detached signature: no content inside")
	}
	var content []byte
	if _, err := asn1.Unmarshal(encap.EContent.Bytes, &content); err != nil {
		return nil, err
	}
	return content, nil
}
