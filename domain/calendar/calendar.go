// Package calendar is a team's working time — time zone, working days and hours, holidays — and
// the arithmetic of an SLA on it: "4 working hours from Friday 16:00" is Monday 12:00. The
// arithmetic is pure and needs no time zone database: a calendar carries its zone's UTC offsets
// (computed by Resolve when the policy is loaded), so workflow code can use it and replay it.
package calendar

import (
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"
)

// Calendar is a team's working time.
type Calendar struct {
	// Zone is the IANA time zone (for people; Offsets hold what the arithmetic needs).
	Zone string `json:"zone"`
	// Days are the working weekdays; Open and Close the working hours, in minutes after local
	// midnight (Close after Open).
	Days  []time.Weekday `json:"days"`
	Open  int            `json:"open"`
	Close int            `json:"close"`
	// Holidays are local dates (2026-12-25) with no working time.
	Holidays []string `json:"holidays,omitempty"`
	// Offsets are the zone's offsets from UTC, each from its Unix second on, sorted.
	Offsets []Offset `json:"offsets"`
}

// Offset is a zone's offset from UTC (seconds east) from a Unix second on.
type Offset struct {
	From    int64 `json:"from"`
	Seconds int   `json:"s"`
}

// Resolve fills the zone's offsets for the years around now (from a year before to ten after);
// it is the only part that reads the time zone database.
func (c *Calendar) Resolve(now time.Time) error {
	loc, err := time.LoadLocation(c.Zone)
	if err != nil {
		return fmt.Errorf("time zone %q: %w", c.Zone, err)
	}
	from, until := now.AddDate(-1, 0, 0), now.AddDate(10, 0, 0)
	c.Offsets = nil
	for t := from; t.Before(until); {
		_, off := t.In(loc).Zone()
		c.Offsets = append(c.Offsets, Offset{From: t.Unix(), Seconds: off})
		_, end := t.In(loc).ZoneBounds()
		if end.IsZero() || !end.After(t) {
			break // no more transitions
		}
		t = end
	}
	c.Offsets[0].From = -1 << 62 // before the first one: the same offset
	return nil
}

// offset is the zone's offset at an instant.
func (c Calendar) offset(t time.Time) time.Duration {
	u := t.Unix()
	i, _ := slices.BinarySearchFunc(c.Offsets, u, func(o Offset, u int64) int {
		switch {
		case o.From < u:
			return -1
		case o.From > u:
			return 1
		}
		return 0
	})
	if i < len(c.Offsets) && c.Offsets[i].From == u {
		return time.Duration(c.Offsets[i].Seconds) * time.Second
	}
	if i == 0 {
		return 0
	}
	return time.Duration(c.Offsets[i-1].Seconds) * time.Second
}

// local is the wall clock at t, as a time in UTC reading the same.
func (c Calendar) local(t time.Time) time.Time { return t.UTC().Add(c.offset(t)) }

// instant is the moment the wall clock reads wall (given as a time in UTC reading the same).
func (c Calendar) instant(wall time.Time) time.Time {
	guess := wall.Add(-c.offset(wall))
	return wall.Add(-c.offset(guess))
}

func (c Calendar) working(day time.Time) bool {
	return slices.Contains(c.Days, day.Weekday()) && !slices.Contains(c.Holidays, day.Format(time.DateOnly))
}

// Add is the moment d of working time after from: time outside the working hours, on days off
// and on holidays does not count. A calendar without working time adds wall-clock time.
func (c Calendar) Add(from time.Time, d time.Duration) time.Time {
	if len(c.Days) == 0 || c.Close <= c.Open || len(c.Offsets) == 0 {
		return from.Add(d)
	}
	wall := c.local(from)
	day := time.Date(wall.Year(), wall.Month(), wall.Day(), 0, 0, 0, 0, time.UTC)
	for range 3660 { // ten years of days at most
		if c.working(day) {
			open, close := day.Add(time.Duration(c.Open)*time.Minute), day.Add(time.Duration(c.Close)*time.Minute)
			start := later(open, wall)
			if start.Before(close) {
				if left := close.Sub(start); d <= left {
					return c.instant(start.Add(d))
				} else {
					d -= left
				}
			}
		}
		day = day.AddDate(0, 0, 1)
		wall = day
	}
	return from.Add(d) // no working time for ten years: a broken calendar; wall clock then
}

// later is the later of two times.
func later(a, b time.Time) time.Time {
	if b.After(a) {
		return b
	}
	return a
}

// ParseHours reads "09:00-17:30" into minutes after midnight.
func ParseHours(s string) (open, close int, err error) {
	a, b, ok := strings.Cut(strings.TrimSpace(s), "-")
	if !ok {
		return 0, 0, fmt.Errorf("%q: want opening and closing like 09:00-17:00", s)
	}
	clock := func(x string) (int, error) {
		h, m, ok := strings.Cut(strings.TrimSpace(x), ":")
		hh, err1 := strconv.Atoi(h)
		mm, err2 := strconv.Atoi(m)
		if !ok || err1 != nil || err2 != nil || hh < 0 || hh > 24 || mm < 0 || mm > 59 || hh*60+mm > 24*60 {
			return 0, fmt.Errorf("%q is not a time like 09:00", x)
		}
		return hh*60 + mm, nil
	}
	if open, err = clock(a); err != nil {
		return 0, 0, err
	}
	if close, err = clock(b); err != nil {
		return 0, 0, err
	}
	if close <= open {
		return 0, 0, fmt.Errorf("%q: closes before it opens", s)
	}
	return open, close, nil
}

// ParseDay reads a weekday: mon, monday, Mon, …
func ParseDay(s string) (time.Weekday, error) {
	s = strings.ToLower(strings.TrimSpace(s))
	for d := time.Sunday; d <= time.Saturday; d++ {
		name := strings.ToLower(d.String())
		if s == name || (len(s) == 3 && strings.HasPrefix(name, s)) {
			return d, nil
		}
	}
	return 0, fmt.Errorf("%q is not a weekday (mon … sun)", s)
}
