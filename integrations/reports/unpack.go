package reports

import (
	"archive/zip"
	"bytes"
	"compress/gzip"
	"fmt"
	"io"
	"path"
	"strings"
)

// Unpacking: the first stage. Feeds and CERTs send their lists zipped or gzipped (a daily
// notification as report.csv.gz, a DMARC aggregate report as .xml.gz or .zip). An archive part
// is replaced by the files in it, read under bounds so that no archive — a zip bomb included —
// costs more memory than the bounds allow: each bound, when passed, makes the message
// unparseable with the bound named, and the message goes to a person.

// archiveKind says whether a part is an archive we open: "zip", "gzip" or "".
func archiveKind(pt *part) string {
	name := strings.ToLower(pt.filename)
	switch {
	case pt.mediaType == "application/zip" || pt.mediaType == "application/x-zip-compressed" || strings.HasSuffix(name, ".zip"):
		return "zip"
	case pt.mediaType == "application/gzip" || pt.mediaType == "application/x-gzip" || strings.HasSuffix(name, ".gz") || strings.HasSuffix(name, ".gzip"):
		return "gzip"
	case len(pt.body) > 4 && bytes.HasPrefix(pt.body, []byte("PK\x03\x04")) && (pt.mediaType == "application/octet-stream" || pt.mediaType == ""):
		return "zip"
	case len(pt.body) > 2 && pt.body[0] == 0x1f && pt.body[1] == 0x8b && (pt.mediaType == "application/octet-stream" || pt.mediaType == ""):
		return "gzip"
	}
	return ""
}

// unpacker opens archives within the message's bounds.
type unpacker struct {
	// left is how many unpacked bytes the message may still have; entries how many files.
	left    int64
	entries int
	opts    Options
}

// unpack replaces every archive among parts by the files in it (an archive inside an archive
// is opened once more, no deeper).
func (u *unpacker) unpack(parts []part) ([]part, error) {
	return u.unpackLevel(parts, 0)
}

func (u *unpacker) unpackLevel(parts []part, level int) ([]part, error) {
	var out []part
	for i := range parts {
		pt := &parts[i]
		kind := archiveKind(pt)
		if kind == "" {
			out = append(out, *pt)
			continue
		}
		if level >= 2 {
			return nil, errLimit{fmt.Sprintf("archive %q is nested more than twice", pt.filename)}
		}
		var inner []part
		var err error
		switch kind {
		case "zip":
			inner, err = u.zip(pt)
		case "gzip":
			inner, err = u.gzip(pt)
		}
		if err != nil {
			return nil, err
		}
		inner, err = u.unpackLevel(inner, level+1)
		if err != nil {
			return nil, err
		}
		out = append(out, inner...)
	}
	return out, nil
}

// read reads one unpacked file under the bounds: the bytes the message has left, and a ratio
// to the compressed size.
func (u *unpacker) read(r io.Reader, name string, compressed int64) ([]byte, error) {
	limit := u.left
	if byRatio := max(compressed, 1) * int64(u.opts.MaxRatio); byRatio < limit {
		limit = byRatio
	}
	b, err := io.ReadAll(io.LimitReader(r, limit+1))
	if err != nil {
		return nil, errLimit{fmt.Sprintf("archive member %q cannot be read: %v", name, err)}
	}
	if int64(len(b)) > limit {
		if limit < u.left {
			return nil, errLimit{fmt.Sprintf("archive member %q unpacks to more than %d times its compressed size (the limit against zip bombs)", name, u.opts.MaxRatio)}
		}
		return nil, errLimit{fmt.Sprintf("archives unpack to more than %d bytes in one message (the limit)", u.opts.MaxUnpacked)}
	}
	u.left -= int64(len(b))
	u.entries++
	if u.entries > u.opts.MaxEntries {
		return nil, errLimit{fmt.Sprintf("archives hold more than %d files in one message (the limit)", u.opts.MaxEntries)}
	}
	return b, nil
}

func (u *unpacker) zip(pt *part) ([]part, error) {
	zr, err := zip.NewReader(bytes.NewReader(pt.body), int64(len(pt.body)))
	if err != nil {
		return nil, errLimit{fmt.Sprintf("zip attachment %q cannot be read: %v", pt.filename, err)}
	}
	var out []part
	for _, f := range zr.File {
		if f.FileInfo().IsDir() {
			continue
		}
		if len(out) >= u.opts.MaxEntries {
			return nil, errLimit{fmt.Sprintf("zip attachment %q holds more than %d files (the limit)", pt.filename, u.opts.MaxEntries)}
		}
		rc, err := f.Open()
		if err != nil {
			return nil, errLimit{fmt.Sprintf("zip member %q cannot be opened: %v", f.Name, err)}
		}
		b, err := u.read(rc, f.Name, int64(f.CompressedSize64))
		_ = rc.Close()
		if err != nil {
			return nil, err
		}
		out = append(out, unpackedPart(path.Base(f.Name), b, pt.depth+1))
	}
	return out, nil
}

func (u *unpacker) gzip(pt *part) ([]part, error) {
	zr, err := gzip.NewReader(bytes.NewReader(pt.body))
	if err != nil {
		return nil, errLimit{fmt.Sprintf("gzip attachment %q cannot be read: %v", pt.filename, err)}
	}
	defer zr.Close()
	name := zr.Name
	if name == "" {
		name = strings.TrimSuffix(strings.TrimSuffix(pt.filename, ".gz"), ".gzip")
	}
	b, err := u.read(zr, name, int64(len(pt.body)))
	if err != nil {
		return nil, err
	}
	return []part{unpackedPart(path.Base(name), b, pt.depth+1)}, nil
}

// unpackedPart is a file from an archive, typed by its name.
func unpackedPart(name string, body []byte, depth int) part {
	mt := "application/octet-stream"
	switch strings.ToLower(path.Ext(name)) {
	case ".csv":
		mt = "text/csv"
	case ".json":
		mt = "application/json"
	case ".xml":
		mt = "application/xml"
	case ".txt", ".log":
		mt = "text/plain"
	case ".html", ".htm":
		mt = "text/html"
	case ".zip":
		mt = "application/zip"
	case ".gz":
		mt = "application/gzip"
	}
	return part{mediaType: mt, filename: name, body: body, depth: depth, params: map[string]string{}}
}
