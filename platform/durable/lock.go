package durable

// LockedError says another process holds a data dir.
type LockedError struct {
	Dir string
	// Holder is the process ID the holder wrote ("" when unknown).
	Holder string
}

func (e *LockedError) Error() string {
	who := "another process"
	if e.Holder != "" {
		who = "process " + e.Holder
	}
	return "the data dir " + e.Dir + " is in use by " + who + " (another desk dev?): stop it, or give this one another --data-dir"
}
