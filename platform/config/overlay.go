package config

// Overlay is lookup with some variables set.
func Overlay(lookup Lookup, set map[string]string) Lookup {
	return func(name string) (string, bool) {
		if v, ok := set[name]; ok {
			return v, true
		}
		return lookup(name)
	}
}
