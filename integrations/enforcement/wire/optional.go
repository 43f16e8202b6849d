package wire

// The generated types write an optional field as a pointer: nil leaves it out.

// Optional is a pointer to v, nil for the zero value: an optional field left out.
func Optional[T comparable](v T) *T {
	var zero T
	if v == zero {
		return nil
	}
	return &v
}

// Value is *p, or the zero value for an optional field left out.
func Value[T any](p *T) T {
	var zero T
	if p == nil {
		return zero
	}
	return *p
}
