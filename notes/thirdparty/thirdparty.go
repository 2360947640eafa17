// Package thirdparty warns the author of a case note that it names another
// person on the system. The case-notes policy (Appendix A, section 2) says
// notes "SHOULD NOT INCLUDE CONFIDENTIAL INFORMATION about other persons":
// a note naming an unrelated child is disclosed with this child's record.
//
// An Index is built once from the persons who may be named. Check reports
// each person a note names, once, at the first place, in the order of the
// text; Warning.Match is always a substring of the note as written. The note
// is read once into words looked up in maps: the cost grows with the note,
// not with the number of persons. A person is named by:
//
//   - full name: given name(s) then family name, or first given name then
//     family name; or family name first as records write it ("OKAFOR
//     Jayden", "Okafor, Jayden") but not inside a list ("Mrs Okafor, Jayden",
//     "Kelly Okafor, Jayden Lee"). Case and accents are ignored; the last
//     word may be possessive ("Okafor's"); the words are separated by spaces
//     alone (one line break at most), never by punctuation.
//   - initial and family name ("J. Okafor", "J Okafor") only when unambiguous:
//     exactly one person in the index has them, nobody excluded has that
//     family name, the family name is not a common word, and no professional
//     title comes first ("Dr J. Okafor"). "A" and "I" need their full stop.
//   - external reference as a whole word, case ignored; one shorter than 4
//     characters, without a digit, or all digits and shorter than 6 is never
//     looked for (it would match words and numbers).
//   - NHS number: 10 digits, together or spaced 3-3-4 (spaces or hyphens),
//     standing alone, with a valid Modulus 11 check digit.
//
// It never matches a given or family name alone, a name inside another word
// ("Smithson", "Ann Smith-Jones" for Ann Smith), a name before a place word
// ("Will Brown Primary"), nor a name word that is also a common word ("will",
// "may", "hope", "brown", "green", "baker") unless written with a capital.
// Whatever names an excluded person (the subject, their relatives), and any
// shorter name inside it, is not reported: "Mary Jane Smith", the subject,
// does not name an unrelated "Jane Smith".
package thirdparty

import (
	"cmp"
	"slices"
	"strings"
	"unicode/utf8"

	"github.com/council/casefile"
)

// Code is the warning code of every Warning.
const Code = "third_party"

// Person is someone who may be named in a note. NHSNumber is optional; it
// may be written with spaces.
type Person struct {
	ID          string
	GivenName   string
	FamilyName  string
	ExternalRef string
	NHSNumber   string
}

// PersonOf is the Person to look for from a person's record. A destroyed
// record has no names, reference or NHS number left.
func PersonOf(p *casefile.Person) Person {
	return Person{ID: p.ID, GivenName: p.GivenName, FamilyName: p.FamilyName, ExternalRef: p.ExternalRef, NHSNumber: p.NHSNumber}
}

// Warning says that a note names a person: Match is the text that named them.
type Warning struct {
	Code     string `json:"code"`
	PersonID string `json:"person_id"`
	Match    string `json:"match"`
}

// form is one way of writing a person's name, as folded words.
type form struct {
	words  []string
	split  int // index of the first given-name word in a family-first form; 0 if given first
	person int32
}

// Index finds persons in notes. It is safe for concurrent use once built.
type Index struct {
	persons []Person
	names   map[[2]string][]form // first two folded words → forms starting with them
	refs    map[string][]int32
	nhs     map[string][]int32
	initial map[string][]int32 // "j smith" → persons with that initial and family name
	family  map[string]bool    // folded family names, for excluded persons' initials rule
}

// NewIndex indexes persons. Persons with no usable name, reference or NHS
// number are simply never found.
func NewIndex(persons []Person) *Index {
	ix := &Index{
		persons: slices.Clone(persons),
		names:   map[[2]string][]form{},
		refs:    map[string][]int32{},
		nhs:     map[string][]int32{},
		initial: map[string][]int32{},
		family:  map[string]bool{},
	}
	for i, p := range persons {
		n := int32(i)
		given, family := nameWords(p.GivenName), nameWords(p.FamilyName)
		if len(given) > 0 && len(family) > 0 {
			ix.family[strings.Join(family, " ")] = true
			ix.add(form{words: concat(given, family), person: n})
			ix.add(form{words: concat(family, given), split: len(family), person: n})
			if len(given) > 1 {
				ix.add(form{words: concat(given[:1], family), person: n})
				ix.add(form{words: concat(family, given[:1]), split: len(family), person: n})
			}
			if first := []rune(given[0]); len(first) > 0 {
				key := string(first[0]) + " " + strings.Join(family, " ")
				if !slices.Contains(ix.initial[key], n) {
					ix.initial[key] = append(ix.initial[key], n)
				}
			}
		}
		if r := refKey(p.ExternalRef); r != "" {
			ix.refs[r] = append(ix.refs[r], n)
		}
		if d := digitsOnly(p.NHSNumber); validNHS(d) {
			ix.nhs[d] = append(ix.nhs[d], n)
		}
	}
	return ix
}

func (ix *Index) add(f form) {
	key := [2]string{f.words[0], f.words[1]}
	for _, g := range ix.names[key] {
		if g.person == f.person && slices.Equal(g.words, f.words) {
			return
		}
	}
	ix.names[key] = append(ix.names[key], f)
}

func concat(a, b []string) []string { return append(slices.Clip(a), b...) }

// Check is NewIndex(candidates).Check(text, exclude...), for one note.
func Check(text string, candidates []Person, exclude ...Person) []Warning {
	return NewIndex(candidates).Check(text, exclude...)
}

// hit is one place the text names one person of an index; shield marks an
// excluded person's.
type hit struct {
	start, end int
	person     int32
	shield     bool
}

func (h hit) rank() int {
	if h.shield {
		return 0
	}
	return 1
}

// Check returns a warning for each person in the index that text names,
// other than the excluded persons (the note's subject and anyone related to
// them) and other than where the text names an excluded person. It returns
// nil when there is nothing to warn about.
func (ix *Index) Check(text string, exclude ...Person) []Warning {
	words := split(text)
	ex := NewIndex(exclude)
	hits := ix.find(text, words, ex)
	for _, h := range ex.find(text, words, nil) {
		h.shield = true
		hits = append(hits, h)
	}
	// In text order, longer first, an excluded person's before others' on
	// the same span: then one sweep finds the hits inside another.
	slices.SortFunc(hits, func(a, b hit) int {
		return cmp.Or(a.start-b.start, b.end-a.end, a.rank()-b.rank())
	})
	excludedID := map[string]bool{}
	for _, p := range exclude {
		excludedID[p.ID] = true
	}
	var out []Warning
	seen := map[int32]bool{}
	outer, shielded := -1, -1 // furthest end of the spans before this one; of excluded persons' names so far
	for i, h := range hits {
		if i > 0 && (h.start != hits[i-1].start || h.end != hits[i-1].end) {
			outer = max(outer, hits[i-1].end)
		}
		if h.shield {
			shielded = max(shielded, h.end)
			continue
		}
		p := ix.persons[h.person]
		if outer >= h.end || shielded >= h.end || seen[h.person] || excludedID[p.ID] {
			continue
		}
		seen[h.person] = true
		out = append(out, Warning{Code: Code, PersonID: p.ID, Match: text[h.start:h.end]})
	}
	return out
}

// find lists every place the text names someone in ix. ex, when not nil,
// holds the excluded persons, for the initials rule.
func (ix *Index) find(text string, words []word, ex *Index) []hit {
	var hits []hit
	for i, w := range words {
		if i+1 == len(words) {
			break
		}
		for _, f := range ix.names[[2]string{w.fold, words[i+1].fold}] {
			if end, ok := matchForm(text, words, i, f); ok {
				hits = append(hits, hit{start: w.start, end: end, person: f.person})
			}
		}
		hits = ix.findInitial(text, words, i, ex, hits)
	}
	for _, t := range refTokens(text, len(ix.refs) > 0) {
		for _, n := range ix.refs[refKey(text[t[0]:t[1]])] {
			hits = append(hits, hit{start: t[0], end: t[1], person: n})
		}
	}
	for _, t := range nhsNumbers(text, len(ix.nhs) > 0) {
		for _, n := range ix.nhs[digitsOnly(text[t[0]:t[1]])] {
			hits = append(hits, hit{start: t[0], end: t[1], person: n})
		}
	}
	return hits
}

// matchForm matches f at words[i:], returning the end of the match.
func matchForm(text string, words []word, i int, f form) (int, bool) {
	n := len(f.words)
	if i+n > len(words) {
		return 0, false
	}
	ws := words[i : i+n]
	for k, fw := range f.words {
		w := ws[k]
		if w.fold != fw || (commonWords[fw] && !w.upper) || (w.possessive && k < n-1) {
			return 0, false
		}
		if k > 0 {
			gap := text[ws[k-1].end:w.start]
			if !spaces(gap) && !(k == f.split && comma(gap)) {
				return 0, false
			}
		}
	}
	end := ws[n-1].end
	if i+n < len(words) && spaces(text[end:words[i+n].start]) && placeWords[words[i+n].fold] && words[i+n].upper {
		return 0, false
	}
	if f.split > 0 { // family name first: a record's "SMITH John" or "Smith, John"
		commaGap := comma(text[ws[f.split-1].end:ws[f.split].start])
		if !commaGap && !allCaps(text[ws[0].start:ws[f.split-1].end]) {
			return 0, false
		}
		// In a list ("Mrs Smith, John", "Kelly Smith, John Brown") the words
		// belong to two people.
		if i > 0 && words[i-1].upper && spaces(text[words[i-1].end:ws[0].start]) {
			return 0, false
		}
		if i+n < len(words) && words[i+n].upper && spaces(text[end:words[i+n].start]) {
			return 0, false
		}
	}
	return end, true
}

// findInitial matches "J. Smith" or "J Smith" at words[i].
func (ix *Index) findInitial(text string, words []word, i int, ex *Index, hits []hit) []hit {
	w := words[i]
	if i+1 >= len(words) || !w.upper || utf8.RuneCountInString(w.fold) != 1 || w.possessive {
		return hits
	}
	gap := text[w.end:words[i+1].start]
	dotted := strings.HasPrefix(gap, ".") && spaces(gap[1:])
	if !dotted && (!spaces(gap) || w.fold == "a" || w.fold == "i") {
		return hits
	}
	if i > 0 && titles[words[i-1].fold] && words[i-1].upper {
		return hits
	}
	for n := 1; n <= 3 && i+1+n <= len(words); n++ {
		fam := words[i+1 : i+1+n]
		var fold []string
		ok := true
		for k, f := range fam {
			ok = ok && f.upper && !commonWords[f.fold] && (!f.possessive || k == n-1)
			if k > 0 {
				ok = ok && spaces(text[fam[k-1].end:f.start])
			}
			fold = append(fold, f.fold)
		}
		if !ok {
			return hits
		}
		family := strings.Join(fold, " ")
		ps := ix.initial[w.fold+" "+family]
		if len(ps) == 0 || (ex != nil && (len(ps) > 1 || ex.family[family])) {
			continue
		}
		for _, p := range ps {
			hits = append(hits, hit{start: w.start, end: fam[n-1].end, person: p})
		}
	}
	return hits
}
