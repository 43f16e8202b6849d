package calendar

import (
	"testing"
	"time"
)

func berlin(t *testing.T) Calendar {
	t.Helper()
	open, close, err := ParseHours("09:00-17:00")
	if err != nil {
		t.Fatal(err)
	}
	c := Calendar{Zone: "Europe/Berlin", Days: []time.Weekday{time.Monday, time.Tuesday, time.Wednesday, time.Thursday, time.Friday},
		Open: open, Close: close, Holidays: []string{"2026-12-25", "2026-12-28"}}
	if err := c.Resolve(time.Date(2026, 11, 28, 0, 0, 0, 0, time.UTC)); err != nil {
		t.Fatal(err)
	}
	return c
}

// TestAddWorkingTime: 4 working hours on Mon–Fri 09:00–17:00 Berlin time, across a weekend, a
// holiday, evenings, and the change to summer time.
func TestAddWorkingTime(t *testing.T) {
	c := berlin(t)
	loc, _ := time.LoadLocation("Europe/Berlin")
	at := func(s string) time.Time {
		v, err := time.ParseInLocation("2006-01-02 15:04", s, loc)
		if err != nil {
			t.Fatal(err)
		}
		return v
	}
	for _, tc := range []struct {
		from string
		d    time.Duration
		want string
	}{
		{"2026-12-02 10:00", 4 * time.Hour, "2026-12-02 14:00"},  // within a day
		{"2026-12-02 15:00", 4 * time.Hour, "2026-12-03 11:00"},  // over the evening
		{"2026-12-04 16:00", 4 * time.Hour, "2026-12-07 12:00"},  // Friday over the weekend
		{"2026-12-05 11:00", time.Hour, "2026-12-07 10:00"},      // from a Saturday
		{"2026-12-02 20:00", time.Hour, "2026-12-03 10:00"},      // from an evening
		{"2026-12-24 15:00", 4 * time.Hour, "2026-12-29 11:00"},  // over Christmas, a weekend and a holiday Monday
		{"2026-12-02 09:00", 16 * time.Hour, "2026-12-03 17:00"}, // two whole days end at closing
		{"2027-03-26 16:00", 2 * time.Hour, "2027-03-29 10:00"},  // over the change to summer time
		{"2026-12-02 10:00", 0, "2026-12-02 10:00"},
	} {
		got := c.Add(at(tc.from), tc.d)
		if want := at(tc.want); !got.Equal(want) {
			t.Errorf("%s + %s = %s, want %s", tc.from, tc.d, got.In(loc).Format("2006-01-02 15:04 MST"), want.Format("2006-01-02 15:04 MST"))
		}
	}
	// No working days: wall-clock time.
	if got := (Calendar{}).Add(at("2026-12-05 11:00"), time.Hour); !got.Equal(at("2026-12-05 12:00")) {
		t.Errorf("an empty calendar: %s", got)
	}
}

func TestParse(t *testing.T) {
	for _, bad := range []string{"9-17", "17:00-09:00", "09:00-25:00", "09:60-10:00"} {
		if _, _, err := ParseHours(bad); err == nil {
			t.Errorf("ParseHours(%q) took it", bad)
		}
	}
	if d, err := ParseDay("Sat"); err != nil || d != time.Saturday {
		t.Errorf("sat: %v %v", d, err)
	}
	if _, err := ParseDay("someday"); err == nil {
		t.Error("someday taken")
	}
	if err := (&Calendar{Zone: "Mars/Olympus"}).Resolve(time.Now()); err == nil {
		t.Error("an unknown zone resolved")
	}
}
