// Package config reads abusedesk's configuration from environment variables, one struct per
// component, and validates it at start with messages naming the variable and what is wrong.
//
// Every variable is declared once in Vars (name, default, meaning); docs/configuration.md's table and
// `desk help env` are made from the same list, and a test keeps them in step. A secret variable
// NAME may instead be given as NAME_FILE, the path of a file holding it, so secrets never need
// to sit in the environment of a process listing.
package config

import (
	"errors"
	"fmt"
	"net"
	"net/url"
	"os"
	"sort"
	"strconv"
	"strings"
	"time"
)

// Var documents one environment variable.
type Var struct {
	Name      string
	Default   string
	Component string
	Help      string
	// Secret variables may be given as NAME_FILE and are never printed.
	Secret bool
}

// Lookup reads one variable; os.LookupEnv in production, a map in tests.
type Lookup func(name string) (string, bool)

// MapLookup turns a map into a Lookup, for tests.
func MapLookup(m map[string]string) Lookup {
	return func(name string) (string, bool) {
		v, ok := m[name]
		return v, ok
	}
}

// reader collects every problem instead of stopping at the first, so one start shows them all.
type reader struct {
	lookup Lookup
	errs   []error
}

func (r *reader) fail(name, format string, args ...any) {
	r.errs = append(r.errs, fmt.Errorf("%s: %s", name, fmt.Sprintf(format, args...)))
}

func (r *reader) err() error { return errors.Join(r.errs...) }

func mustVar(name string) Var {
	for _, v := range Vars {
		if v.Name == name {
			return v
		}
	}
	panic("config: variable " + name + " is not declared in Vars")
}

// raw returns the value or the declared default, and whether it was set.
func (r *reader) raw(name string) (string, bool) {
	v := mustVar(name)
	if s, ok := r.lookup(name); ok && strings.TrimSpace(s) != "" {
		return strings.TrimSpace(s), true
	}
	return v.Default, false
}

func (r *reader) str(name string) string {
	s, _ := r.raw(name)
	return s
}

// secret reads NAME, or the file named by NAME_FILE; giving both is an error.
func (r *reader) secret(name string) string {
	if !mustVar(name).Secret {
		panic("config: " + name + " is not declared secret")
	}
	direct, hasDirect := r.raw(name)
	path, hasFile := r.lookup(name + "_FILE")
	path = strings.TrimSpace(path)
	switch {
	case hasDirect && hasFile && path != "":
		r.fail(name, "set either %s or %s_FILE, not both", name, name)
		return ""
	case hasFile && path != "":
		b, err := os.ReadFile(path)
		if err != nil {
			r.fail(name+"_FILE", "cannot read the secret file: %v", err)
			return ""
		}
		s := strings.TrimSpace(string(b))
		if s == "" {
			r.fail(name+"_FILE", "the secret file %s is empty", path)
		}
		return s
	default:
		return direct
	}
}

func (r *reader) duration(name string) time.Duration {
	s, _ := r.raw(name)
	if s == "" {
		return 0
	}
	d, err := time.ParseDuration(s)
	if err != nil || d < 0 {
		r.fail(name, "%q is not a duration like 30s, 5m or 2h", s)
		return 0
	}
	return d
}

// size reads a byte count: a whole number with an optional unit (KiB, MiB, GiB; KB, MB, GB).
func (r *reader) size(name string) int64 {
	s, _ := r.raw(name)
	if s == "" {
		return 0
	}
	num, mult := s, int64(1)
	for _, u := range []struct {
		suffix string
		mult   int64
	}{{"KiB", 1 << 10}, {"MiB", 1 << 20}, {"GiB", 1 << 30}, {"KB", 1e3}, {"MB", 1e6}, {"GB", 1e9}, {"B", 1}} {
		if strings.HasSuffix(s, u.suffix) {
			num, mult = strings.TrimSpace(strings.TrimSuffix(s, u.suffix)), u.mult
			break
		}
	}
	n, err := strconv.ParseInt(num, 10, 64)
	if err != nil || n < 0 || n > (1<<50)/mult {
		r.fail(name, "%q is not a size like 768MiB or 2GiB", s)
		return 0
	}
	return n * mult
}

func (r *reader) integer(name string, min, max int) int {
	s, _ := r.raw(name)
	if s == "" {
		return 0
	}
	n, err := strconv.Atoi(s)
	if err != nil || n < min || n > max {
		r.fail(name, "%q is not a whole number between %d and %d", s, min, max)
		return 0
	}
	return n
}

func (r *reader) boolean(name string) bool {
	s, _ := r.raw(name)
	if s == "" {
		return false
	}
	b, err := strconv.ParseBool(s)
	if err != nil {
		r.fail(name, "%q is not true or false", s)
	}
	return b
}

func (r *reader) oneOf(name string, allowed ...string) string {
	s, _ := r.raw(name)
	s = strings.ToLower(s)
	for _, a := range allowed {
		if s == a {
			return s
		}
	}
	r.fail(name, "%q is not one of %s", s, strings.Join(allowed, ", "))
	return ""
}

func (r *reader) hostPort(name string) string {
	s, _ := r.raw(name)
	if s == "" {
		return ""
	}
	if _, port, err := net.SplitHostPort(s); err != nil || port == "" {
		r.fail(name, "%q is not host:port", s)
	}
	return s
}

func (r *reader) httpURL(name string) string {
	s, _ := r.raw(name)
	if s == "" {
		return ""
	}
	u, err := url.Parse(s)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		r.fail(name, "%q is not an http(s) URL", s)
		return ""
	}
	return strings.TrimRight(s, "/")
}

func (r *reader) list(name string) []string {
	s, _ := r.raw(name)
	return strings.FieldsFunc(s, func(c rune) bool { return c == ',' || c == ' ' })
}

// Table renders Vars as a Markdown table (docs/configuration.md's table).
func Table() string {
	var b strings.Builder
	b.WriteString("| variable | default | used by | meaning |\n|---|---|---|---|\n")
	for _, v := range sortedVars() {
		def := v.Default
		if def == "" {
			def = "—"
		} else {
			def = "`" + def + "`"
		}
		name := "`" + v.Name + "`"
		if v.Secret {
			name += " (or `" + v.Name + "_FILE`)"
		}
		fmt.Fprintf(&b, "| %s | %s | %s | %s |\n", name, def, v.Component, v.Help)
	}
	return b.String()
}

// Text renders Vars for a terminal (`desk help env`).
func Text() string {
	var b strings.Builder
	comp := ""
	for _, v := range sortedVars() {
		if v.Component != comp {
			comp = v.Component
			fmt.Fprintf(&b, "\n%s:\n", comp)
		}
		def := ""
		if v.Default != "" {
			def = " (default " + v.Default + ")"
		}
		file := ""
		if v.Secret {
			file = " [or " + v.Name + "_FILE]"
		}
		fmt.Fprintf(&b, "  %-28s %s%s%s\n", v.Name, v.Help, def, file)
	}
	return b.String()
}

func sortedVars() []Var {
	vs := append([]Var(nil), Vars...)
	sort.SliceStable(vs, func(i, j int) bool { return componentOrder(vs[i].Component) < componentOrder(vs[j].Component) })
	return vs
}

func componentOrder(c string) int {
	for i, name := range componentNames {
		if name == c {
			return i
		}
	}
	return len(componentNames)
}
