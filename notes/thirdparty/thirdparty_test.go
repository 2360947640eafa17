package thirdparty

import (
	"fmt"
	"strings"
	"testing"

	"github.com/council/casefile"
	"github.com/google/go-cmp/cmp"
)

// people is the system in the table tests. p-subject is the note's subject
// and p-mum their mother; everyone else is unrelated to them.
var people = []Person{
	{ID: "p-subject", GivenName: "Mary Jane", FamilyName: "Smith", ExternalRef: "LCS-1001", NHSNumber: "943 476 5919"},
	{ID: "p-mum", GivenName: "Karen", FamilyName: "Smith", ExternalRef: "LCS-1002"},
	{ID: "p-jayden", GivenName: "Jayden", FamilyName: "Okafor", ExternalRef: "LCS-2001", NHSNumber: "0830166130"},
	{ID: "p-zoe", GivenName: "Zoë", FamilyName: "Brontë", ExternalRef: "LCS-2002"},
	{ID: "p-will", GivenName: "Will", FamilyName: "Brown", ExternalRef: "LCS-2003"},
	{ID: "p-hope", GivenName: "Hope", FamilyName: "Baker", ExternalRef: "LCS-2004"},
	{ID: "p-may", GivenName: "May", FamilyName: "Green", ExternalRef: "LCS-2005"},
	{ID: "p-jane", GivenName: "Jane", FamilyName: "Smith", ExternalRef: "LCS-2006"},
	{ID: "p-liam", GivenName: "Liam", FamilyName: "O'Brien", ExternalRef: "LCS-2007", NHSNumber: "1860913903"},
	{ID: "p-ann", GivenName: "Ann", FamilyName: "Patel", ExternalRef: "LCS-2008"},
	{ID: "p-anne", GivenName: "Anne", FamilyName: "Patel", ExternalRef: "LCS-2009"},
	{ID: "p-ella", GivenName: "Ella", FamilyName: "Hughes-Wright", ExternalRef: "LCS-2010"},
	{ID: "p-bad-nhs", GivenName: "Tom", FamilyName: "Quayle", NHSNumber: "9434765918"},
	{ID: "p-short", GivenName: "Kai", FamilyName: "Lund", ExternalRef: "R1"},
	{ID: "p-num", GivenName: "Ola", FamilyName: "Nowak", ExternalRef: "123456"},
}

func subjectAndMum() []Person { return people[:2] }

func warn(id, match string) Warning { return Warning{Code: Code, PersonID: id, Match: match} }

func TestCheckRules(t *testing.T) {
	ix := NewIndex(people)
	tests := []struct {
		rule, text string
		want       []Warning
	}{
		// full names
		{"full name", "Jayden Okafor was at the contact centre.", []Warning{warn("p-jayden", "Jayden Okafor")}},
		{"lower case", "saw jayden okafor in the corridor", []Warning{warn("p-jayden", "jayden okafor")}},
		{"capitals", "JAYDEN OKAFOR", []Warning{warn("p-jayden", "JAYDEN OKAFOR")}},
		{"accents ignored in the note", "Zoe Bronte visited.", []Warning{warn("p-zoe", "Zoe Bronte")}},
		{"accents kept in the note", "Zoë Brontë visited.", []Warning{warn("p-zoe", "Zoë Brontë")}},
		{"possessive", "Jayden Okafor's mum rang.", []Warning{warn("p-jayden", "Jayden Okafor")}},
		{"curly possessive", "at Jayden Okafor’s house", []Warning{warn("p-jayden", "Jayden Okafor")}},
		{"apostrophe in name", "Liam O'Brien's coat", []Warning{warn("p-liam", "Liam O'Brien")}},
		{"curly apostrophe in name", "Liam O’Brien came", []Warning{warn("p-liam", "Liam O’Brien")}},
		{"hyphenated family name", "Ella Hughes-Wright", []Warning{warn("p-ella", "Ella Hughes-Wright")}},
		{"line break between words", "spoke to Jayden\nOkafor", []Warning{warn("p-jayden", "Jayden\nOkafor")}},
		{"family first in capitals", "OKAFOR Jayden (LAC)", []Warning{warn("p-jayden", "OKAFOR Jayden")}},
		{"family first with comma", "Okafor, Jayden - review", []Warning{warn("p-jayden", "Okafor, Jayden")}},
		{"named twice, warned once", "Jayden Okafor and later Jayden Okafor again", []Warning{warn("p-jayden", "Jayden Okafor")}},
		{"in order of the text", "Liam O'Brien then Jayden Okafor", []Warning{warn("p-liam", "Liam O'Brien"), warn("p-jayden", "Jayden Okafor")}},
		{"common words with capitals", "Will Brown and Hope Baker and May Green", []Warning{
			warn("p-will", "Will Brown"), warn("p-hope", "Hope Baker"), warn("p-may", "May Green")}},
		// not full names
		{"given name alone", "Jayden was upset.", nil},
		{"family name alone", "Mrs Okafor was upset.", nil},
		{"full stop between", "Told Jayden. Okafor family not home.", nil},
		{"comma in given-first order", "Jayden, Okafor", nil},
		{"inside a longer word", "Jayden Okaforson", nil},
		{"names in other words", "XJayden Okafor", nil},
		{"common words in lower case", "mum said she will brown the mince; we hope baker's is open in may green week", nil},
		{"reversed without capitals or comma", "Okafor Jayden", nil},
		{"reversed in a list after a title", "Mrs Okafor, Jayden and Amy were seen", nil},
		{"reversed in a list of full names", "Kelly Okafor, Jayden Smith attended", nil},
		{"reversed before another name", "Present: Okafor, Jayden Lee", nil},
		{"followed by a place word", "walked to Will Brown Primary", nil},
		{"possessive not on the last word", "Jayden's Okafor", nil},
		{"blank line between", "Jayden\n\nOkafor", nil},
		{"hyphenated name is another person", "Ella Hughes is not Ella Hughes-Wright's sister", []Warning{warn("p-ella", "Ella Hughes-Wright")}},
		// excluded persons
		{"subject's own name", "Mary Jane Smith was seen at home.", nil},
		{"subject by first given name", "Mary Smith was seen.", nil},
		{"longer excluded name shields a shorter one", "SMITH, Mary Jane", nil},
		{"relative's name", "Karen Smith answered the door.", nil},
		{"unrelated person with a shorter name", "Jane Smith, a school friend", []Warning{warn("p-jane", "Jane Smith")}},
		// initials
		{"initial with full stop", "letter to J. Okafor", []Warning{warn("p-jayden", "J. Okafor")}},
		{"initial without full stop", "letter to J Okafor", []Warning{warn("p-jayden", "J Okafor")}},
		{"initial and possessive", "J. Okafor's school", []Warning{warn("p-jayden", "J. Okafor")}},
		{"ambiguous initial", "A. Patel was there", nil},
		{"initial in lower case", "j okafor", nil},
		{"initial after a professional title", "Dr J. Okafor, GP", nil},
		{"initial shares the subject's family name", "J. Smith attended", nil},
		{"initial with a common-word family name", "W. Brown attended", nil},
		{"article is not an initial", "A Patel was there", nil},
		// references
		{"reference", "see LCS-2001 for the assessment", []Warning{warn("p-jayden", "LCS-2001")}},
		{"reference any case, in brackets", "(lcs-2001).", []Warning{warn("p-jayden", "lcs-2001")}},
		{"reference with a colon before", "ref:LCS-2007", []Warning{warn("p-liam", "LCS-2007")}},
		{"reference inside another", "LCS-20011 and XLCS-2001", nil},
		{"subject's reference", "LCS-1001", nil},
		{"short references are not looked for", "R1 and r1", nil},
		{"all-digit references of 6 digits", "ref 123456", []Warning{warn("p-num", "123456")}},
		{"all-digit reference inside a number", "1234567", nil},
		// NHS numbers
		{"NHS number together", "NHS no 0830166130.", []Warning{warn("p-jayden", "0830166130")}},
		{"NHS number spaced", "NHS 083 016 6130", []Warning{warn("p-jayden", "083 016 6130")}},
		{"NHS number hyphens", "NHS 186-091-3903", []Warning{warn("p-liam", "186-091-3903")}},
		{"NHS number mixed separators", "NHS 083 016-6130", nil},
		{"NHS number wrong check digit", "NHS 083 016 6131", nil},
		{"NHS number with invalid check stored", "NHS 943 476 5918", nil},
		{"NHS number in a longer number", "tel 0121 083 016 6130 or 108301661301", nil},
		{"NHS number after letters", "NHS0830166130", nil},
		{"subject's NHS number", "NHS 9434765919", nil},
	}
	for _, tt := range tests {
		t.Run(tt.rule, func(t *testing.T) {
			got := ix.Check(tt.text, subjectAndMum()...)
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("Check(%q) (-want +got):\n%s", tt.text, diff)
			}
		})
	}
}

func TestPersonOf(t *testing.T) {
	rec := &casefile.Person{ID: "p1", ExternalRef: "LCS-9", GivenName: "Ann", FamilyName: "Lee", Status: "active"}
	want := Person{ID: "p1", GivenName: "Ann", FamilyName: "Lee", ExternalRef: "LCS-9"}
	if diff := cmp.Diff(want, PersonOf(rec)); diff != "" {
		t.Error(diff)
	}
}

func TestExcludedByID(t *testing.T) {
	got := Check("Jayden Okafor", people, Person{ID: "p-jayden"})
	if got != nil {
		t.Errorf("an excluded id was reported: %v", got)
	}
}

func TestDuplicateNamesWarnForEach(t *testing.T) {
	ps := []Person{{ID: "a", GivenName: "Sam", FamilyName: "Kerr"}, {ID: "b", GivenName: "Sam", FamilyName: "Kerr"}}
	want := []Warning{warn("a", "Sam Kerr"), warn("b", "Sam Kerr")}
	if diff := cmp.Diff(want, Check("Sam Kerr rang", ps)); diff != "" {
		t.Error(diff)
	}
	// Two candidates with one initial and family name: the initial is ambiguous.
	if got := Check("S. Kerr rang", ps); got != nil {
		t.Errorf("ambiguous initial matched: %v", got)
	}
}

// TestLargeNote checks a note of 1 MiB naming the same persons thousands
// of times: one warning each, the subject's longer name still shielding the
// shorter one inside it, and the sweep over hits staying linear enough for
// the test to finish (no time is asserted).
func TestLargeNote(t *testing.T) {
	unit := "Mary Jane Smith saw Jayden Okafor (LCS-2001, NHS 083 016 6130); "
	text := strings.Repeat(unit, (1<<20)/len(unit)) + "Jane Smith came later."
	want := []Warning{warn("p-jayden", "Jayden Okafor"), warn("p-jane", "Jane Smith")}
	if diff := cmp.Diff(want, NewIndex(people).Check(text, subjectAndMum()...)); diff != "" {
		t.Error(diff)
	}
}

func TestValidNHS(t *testing.T) {
	for d, want := range map[string]bool{
		"9434765919": true, "0830166130": true, "9434765918": false, "943476591": false,
		"94347659190": false, "0000000000": true,
		"1234567890": false, // remainder gives 10: never valid
	} {
		if got := validNHS(d); got != want {
			t.Errorf("validNHS(%s) = %v, want %v", d, got, want)
		}
	}
}

func TestUnusableEntriesAreIgnored(t *testing.T) {
	ix := NewIndex([]Person{{ID: "x"}, {ID: "y", GivenName: "Solo"}, {ID: "z", FamilyName: "-", ExternalRef: " "}})
	if got := ix.Check("Solo - x y z"); got != nil {
		t.Errorf("got %v", got)
	}
}

// synthetic builds n persons with distinct names, references and NHS numbers.
func synthetic(n int) []Person {
	given := strings.Fields("Aaron Bella Callum Daisy Ethan Freya Gabriel Harriet Isaac Jasmine Kieran Leah Mason Nadia Oscar Phoebe Quentin Rosa Samuel Tia")
	family := strings.Fields("Abbott Bamford Chowdhury Dolan Evans Fitzgerald Gallagher Hussain Ingram Jennings Kowalski Lindqvist Mahmood Nwosu Osei Pearce Quinn Rahman Sutcliffe Thornton Underwood Vance Whitfield Yilmaz Zielinski")
	ps := make([]Person, n)
	for i := range ps {
		d := fmt.Sprintf("%09d", i*7919%1000000000)
		for c := 0; ; c++ {
			if cand := d + fmt.Sprint(c); validNHS(cand) {
				d = cand
				break
			}
			if c == 9 {
				d = ""
				break
			}
		}
		ps[i] = Person{
			ID:          fmt.Sprintf("p%d", i),
			GivenName:   given[i%len(given)] + fmt.Sprint(i/len(given)/len(family)),
			FamilyName:  family[(i/len(given))%len(family)],
			ExternalRef: fmt.Sprintf("LCS-%06d", i),
			NHSNumber:   d,
		}
	}
	return ps
}

func BenchmarkCheck(b *testing.B) {
	ix := NewIndex(synthetic(5000))
	note := strings.Repeat("Home visit. Mum and Jayden seen; kitchen clean. Spoke to Mrs Kowalski next door about LCS-000123 and "+
		"Aaron0 Abbott's school. NHS 943 476 5919 on the letter. Will Brown may hope to attend. ", 4)
	exclude := []Person{{ID: "s", GivenName: "Jayden", FamilyName: "Okafor"}}
	b.SetBytes(int64(len(note)))
	for b.Loop() {
		ix.Check(note, exclude...)
	}
}
