package thirdparty

import (
	"encoding/json"
	"fmt"
	"os"
	"testing"
)

type labelledSet struct {
	Persons []struct {
		ID          string `json:"id"`
		GivenName   string `json:"given_name"`
		FamilyName  string `json:"family_name"`
		ExternalRef string `json:"external_ref"`
		NHSNumber   string `json:"nhs_number"`
	} `json:"persons"`
	Notes []struct {
		ID      string    `json:"id"`
		Subject string    `json:"subject"`
		Related []string  `json:"related"`
		Text    string    `json:"text"`
		Expect  []Warning `json:"expect"`
	} `json:"notes"`
}

// TestLabelledPrecisionRecall measures Check on testdata/labelled.json: our
// own case notes (relatives and professionals named, surnames that are
// common words, near-misses such as a given name alone, "Smithson" for
// Smith, invalid NHS numbers, references), each with the persons it names.
// The index holds everyone on the system; each note excludes its subject and
// their relatives, as the note service will. A warning counts as right only
// when both the person and the matched text are as labelled. A false
// positive nags a social worker over nothing; a false negative lets another
// child's details into this child's record: both must be at least 0.9.
func TestLabelledPrecisionRecall(t *testing.T) {
	raw, err := os.ReadFile("testdata/labelled.json")
	if err != nil {
		t.Fatal(err)
	}
	var set labelledSet
	if err := json.Unmarshal(raw, &set); err != nil {
		t.Fatal(err)
	}
	byID := map[string]Person{}
	var persons []Person
	for _, p := range set.Persons {
		q := Person{ID: p.ID, GivenName: p.GivenName, FamilyName: p.FamilyName, ExternalRef: p.ExternalRef, NHSNumber: p.NHSNumber}
		byID[p.ID] = q
		persons = append(persons, q)
	}
	ix := NewIndex(persons)
	var tp, fp, fn int
	for _, n := range set.Notes {
		exclude := []Person{byID[n.Subject]}
		for _, r := range n.Related {
			exclude = append(exclude, byID[r])
		}
		want := map[Warning]bool{}
		for _, w := range n.Expect {
			w.Code = Code
			want[w] = true
		}
		got := map[Warning]bool{}
		for _, w := range ix.Check(n.Text, exclude...) {
			got[w] = true
			if want[w] {
				tp++
			} else {
				fp++
				t.Logf("false positive %s: %s %q in %q", n.ID, w.PersonID, w.Match, n.Text)
			}
		}
		for w := range want {
			if !got[w] {
				fn++
				t.Logf("false negative %s: %s %q in %q", n.ID, w.PersonID, w.Match, n.Text)
			}
		}
	}
	if len(set.Notes) < 200 {
		t.Fatalf("the labelled set has %d notes; it needs at least 200", len(set.Notes))
	}
	precision := float64(tp) / float64(tp+fp)
	recall := float64(tp) / float64(tp+fn)
	line := fmt.Sprintf("third-party detection: precision %.3f recall %.3f over %d notes (tp %d, fp %d, fn %d)",
		precision, recall, len(set.Notes), tp, fp, fn)
	t.Log(line)
	if testing.Verbose() {
		fmt.Println(line)
	}
	if precision < 0.9 || recall < 0.9 {
		t.Fatalf("precision %.3f, recall %.3f: both must be at least 0.9", precision, recall)
	}
}
