package ledger

import (
	"encoding/csv"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"time"
)

// The transparency report in the layout of the templates of Commission Implementing Regulation
// (EU) 2024/2835: one CSV a section of its quantitative template that a hosting service fills
// (orders, notices, own-initiative moderation, complaints, automated means), each with the
// reporting period on every row. docs/transparency.md maps every column to its figure.

// EUSections are the files WriteEU writes, in order.
var EUSections = []string{"orders", "notices", "own-initiative", "complaints", "automated-means"}

// WriteEU writes the sections into dir, as eu-2024-2835-<section>.csv; it returns the files.
func (t *Transparency) WriteEU(dir string) ([]string, error) {
	if err := os.MkdirAll(dir, 0o750); err != nil {
		return nil, fmt.Errorf("transparency report: %w", err)
	}
	from, to := t.From.Format(time.DateOnly), t.To.Add(-time.Nanosecond).Format(time.DateOnly)
	period := func(rows [][]string) [][]string {
		for i := range rows {
			if i == 0 {
				rows[i] = append([]string{"period_start", "period_end"}, rows[i]...)
			} else {
				rows[i] = append([]string{from, to}, rows[i]...)
			}
		}
		return rows
	}
	hours := func(d Duration) string {
		return strconv.FormatFloat(time.Duration(d).Hours(), 'f', 2, 64)
	}
	sections := map[string][][]string{}

	o := t.Orders
	sections["orders"] = [][]string{
		{"order_type", "legal_basis", "what_it_asks", "orders_received", "median_time_to_confirm_receipt_hours", "median_time_to_give_effect_hours"},
	}
	for _, k := range sortedKeys(o.ByKind) {
		typ, basis := "order to provide information", "Art. 10"
		switch {
		case k == "not stated":
			typ, basis = "not stated in the order", ""
		case articleNine[k]:
			typ, basis = "order to act against illegal content", "Art. 9"
		}
		sections["orders"] = append(sections["orders"], []string{typ, basis, k, strconv.Itoa(o.ByKind[k]), "", ""})
	}
	sections["orders"] = append(sections["orders"], []string{"all orders", "Art. 9 and 10", "all",
		strconv.Itoa(o.ToAct + o.ForInformation + o.Unclassified), hours(o.MedianTimeToConfirmReceipt), hours(o.MedianTimeToGiveEffect)})

	n, a := t.Notices, t.Actions
	sections["notices"] = [][]string{{"type_of_alleged_illegal_content", "notices_received", "notices_from_trusted_flaggers",
		"actions_taken", "actions_on_legal_ground", "actions_on_terms_and_conditions", "notices_processed_by_automated_means", "median_time_to_take_action_hours"}}
	cats := map[string]bool{}
	for k := range n.ByCategory {
		cats[k] = true
	}
	for k := range a.ByCategory {
		cats[k] = true
	}
	for _, k := range sortedKeys(cats) {
		law, terms := 0, 0
		if a.ByCategory[k] > 0 {
			// Every action in a category rests on the same ground.
			if t.lawCategory(k) {
				law = a.ByCategory[k] - a.OwnInitiativeByCategory[k]
			} else {
				terms = a.ByCategory[k] - a.OwnInitiativeByCategory[k]
			}
		}
		sections["notices"] = append(sections["notices"], []string{k, strconv.Itoa(n.ByCategory[k]), strconv.Itoa(n.TrustedByCategory[k]),
			strconv.Itoa(law + terms), strconv.Itoa(law), strconv.Itoa(terms), "", ""})
	}
	onNotices := a.Taken - a.OwnInitiative
	sections["notices"] = append(sections["notices"], []string{"all", strconv.Itoa(n.Received), strconv.Itoa(n.FromTrustedFlaggers),
		strconv.Itoa(onNotices), strconv.Itoa(a.ByGround["law"] - t.ownOn("law")), strconv.Itoa(a.ByGround["terms"] - t.ownOn("terms")),
		strconv.Itoa(n.ProcessedAutomatically), hours(a.MedianTimeToAction)})

	sections["own-initiative"] = [][]string{{"type_of_violation", "measures_taken", "detected_by_automated_means"}}
	for _, k := range sortedKeys(a.OwnInitiativeByCategory) {
		sections["own-initiative"] = append(sections["own-initiative"], []string{k, strconv.Itoa(a.OwnInitiativeByCategory[k]), strconv.Itoa(a.OwnInitiativeByCategory[k])})
	}
	sections["own-initiative"] = append(sections["own-initiative"], []string{"all", strconv.Itoa(a.OwnInitiative), strconv.Itoa(a.OwnInitiative)})

	c := t.Complaints
	sections["complaints"] = [][]string{{"basis_of_complaint", "complaints_received", "refused_as_late", "decisions_taken",
		"decisions_upheld", "decisions_reversed", "median_time_to_decide_hours"}}
	for _, k := range sortedKeys(c.ByBasis) {
		sections["complaints"] = append(sections["complaints"], []string{k, strconv.Itoa(c.ByBasis[k]), "", "", "", "", ""})
	}
	sections["complaints"] = append(sections["complaints"], []string{"all", strconv.Itoa(c.Received), strconv.Itoa(c.RefusedLate),
		strconv.Itoa(c.Decided), strconv.Itoa(c.Decided - c.Reversed), strconv.Itoa(c.Reversed), hours(c.MedianDecisionTime)})

	sections["automated-means"] = [][]string{{"indicator", "value"},
		{"decisions_taken_by_automated_means", strconv.Itoa(a.Automated)},
		{"automated_decisions_overturned_on_complaint", strconv.Itoa(a.AutomatedOverturned)},
		{"error_rate_of_automated_decisions", strconv.FormatFloat(a.AutomatedErrorRate, 'f', 4, 64)},
		{"notices_processed_by_automated_means", strconv.Itoa(n.ProcessedAutomatically)},
	}

	var files []string
	for _, name := range EUSections {
		path := filepath.Join(dir, "eu-2024-2835-"+name+".csv")
		if err := writeCSV(path, period(sections[name])); err != nil {
			return files, err
		}
		files = append(files, path)
	}
	return files, nil
}

// lawCategory says whether the actions in category k rest on the law (as counted).
func (t *Transparency) lawCategory(k string) bool { return t.laws[k] }

// ownOn is how many own-initiative actions rest on the ground.
func (t *Transparency) ownOn(ground string) int {
	n := 0
	for k, v := range t.Actions.OwnInitiativeByCategory {
		if t.laws[k] == (ground == "law") {
			n += v
		}
	}
	return n
}

func writeCSV(path string, rows [][]string) error {
	f, err := os.Create(path)
	if err != nil {
		return fmt.Errorf("transparency report: %w", err)
	}
	w := csv.NewWriter(f)
	if err := w.WriteAll(rows); err != nil {
		_ = f.Close()
		return fmt.Errorf("transparency report %s: %w", path, err)
	}
	if err := f.Close(); err != nil {
		return fmt.Errorf("transparency report %s: %w", path, err)
	}
	return nil
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}
