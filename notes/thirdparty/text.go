package thirdparty

import (
	"regexp"
	"strings"
	"unicode"
	"unicode/utf8"

	"golang.org/x/text/unicode/norm"

	"github.com/council/casefile"
)

// word is one word of a note: letters and digits, with hyphens and
// apostrophes inside it ("Smith-Jones", "O'Brien"). A possessive "'s" is
// left out of it (end is before the apostrophe) and noted.
type word struct {
	start, end int
	fold       string // lower case, without accents
	upper      bool   // starts with a capital
	possessive bool
}

func isWordRune(r rune) bool {
	return unicode.IsLetter(r) || unicode.IsDigit(r) || unicode.Is(unicode.Mn, r)
}

func isJoiner(r rune) bool {
	return r == '-' || r == '\'' || r == '’' || r == '‐' || r == '‑'
}

// split reads text into words.
func split(text string) []word {
	var words []word
	start := -1
	for i := 0; i <= len(text); {
		r, size := rune(0), 1
		if i < len(text) {
			r, size = utf8.DecodeRuneInString(text[i:])
		}
		in := i < len(text) && isWordRune(r)
		if !in && start >= 0 && i < len(text) && isJoiner(r) {
			next, _ := utf8.DecodeRuneInString(text[i+size:])
			in = i+size < len(text) && isWordRune(next)
		}
		switch {
		case in && start < 0:
			start = i
		case !in && start >= 0:
			words = append(words, newWord(text, start, i))
			start = -1
		}
		i += size
	}
	return words
}

func newWord(text string, start, end int) word {
	w := word{start: start}
	s := text[start:end]
	if strings.HasSuffix(s, "s") || strings.HasSuffix(s, "S") {
		if r, n := utf8.DecodeLastRuneInString(s[:len(s)-1]); (r == '\'' || r == '’') && n < len(s)-1 {
			s, w.possessive = s[:len(s)-1-n], true
		}
	}
	w.end = start + len(s)
	first, _ := utf8.DecodeRuneInString(s)
	w.upper = unicode.IsUpper(first)
	w.fold = fold(s)
	return w
}

// fold lowers s and takes off its accents; apostrophes and hyphens become
// ASCII ones.
func fold(s string) string {
	ascii := true
	for i := 0; i < len(s); i++ {
		ascii = ascii && s[i] < utf8.RuneSelf
	}
	if ascii {
		return strings.ToLower(s)
	}
	var b strings.Builder
	for _, r := range norm.NFD.String(s) {
		switch {
		case unicode.Is(unicode.Mn, r):
		case r == '’':
			b.WriteByte('\'')
		case r == '‐' || r == '‑':
			b.WriteByte('-')
		case r == 'ß':
			b.WriteString("ss")
		default:
			b.WriteRune(unicode.ToLower(r))
		}
	}
	return b.String()
}

// nameWords folds a name as it would be read from a note.
func nameWords(name string) []string {
	var out []string
	for _, w := range split(name) {
		out = append(out, w.fold)
	}
	return out
}

// spaces reports whether gap is white space, with at most one line break.
func spaces(gap string) bool {
	return gap != "" && strings.TrimSpace(gap) == "" && strings.Count(gap, "\n") <= 1
}

// comma reports whether gap is a comma with white space around it.
func comma(gap string) bool {
	before, after, ok := strings.Cut(gap, ",")
	return ok && (before == "" || spaces(before)) && spaces(after)
}

// allCaps reports whether s has letters, none of them lower case.
func allCaps(s string) bool { return len(s) > 1 && s == strings.ToUpper(s) && s != strings.ToLower(s) }

// refTokens lists the spans of text that could be references: runs without
// spaces, brackets, quotes or separators, less full stops and dashes around.
func refTokens(text string, any bool) [][2]int {
	var out [][2]int
	if !any {
		return nil
	}
	start := -1
	for i, r := range text + " " {
		if delim := unicode.IsSpace(r) || strings.ContainsRune("()[]{}<>\"'“”‘’,;:#=*|", r); !delim && start < 0 {
			start = i
		} else if delim && start >= 0 {
			s, e := start, i
			for s < e && strings.IndexByte(".-/_!?", text[s]) >= 0 {
				s++
			}
			for e > s && strings.IndexByte(".-/_!?", text[e-1]) >= 0 {
				e--
			}
			if e > s {
				out = append(out, [2]int{s, e})
			}
			start = -1
		}
	}
	return out
}

// refKey is a reference as looked up, or "" for one too like a word or a
// number to look for.
func refKey(ref string) string {
	ref = strings.ToUpper(strings.TrimSpace(ref))
	digits, letters := 0, 0
	for _, r := range ref {
		switch {
		case unicode.IsDigit(r):
			digits++
		case unicode.IsLetter(r):
			letters++
		}
	}
	if len(ref) < 4 || digits == 0 || (letters == 0 && len(ref) < 6) {
		return ""
	}
	return ref
}

func digitsOnly(s string) string {
	return strings.Map(func(r rune) rune {
		if r < '0' || r > '9' {
			return -1
		}
		return r
	}, s)
}

// validNHS checks an NHS number's Modulus 11 check digit (casefile.NHSNumber).
func validNHS(d string) bool {
	_, ok := casefile.NHSNumber(d)
	return ok && len(d) == 10
}

// nhsShape is an NHS number as written: ten digits, or 3-3-4 spaced by
// spaces or by hyphens.
var nhsShape = regexp.MustCompile(`\d{10}|\d{3} \d{3} \d{4}|\d{3}-\d{3}-\d{4}`)

// nhsNumbers lists spans of text written like an NHS number with a valid
// check digit, standing alone: not next to a letter or digit, nor to a
// separator and a digit ("0121 083 016 6130" is a telephone number).
func nhsNumbers(text string, any bool) [][2]int {
	var out [][2]int
	if !any {
		return nil
	}
	for _, m := range nhsShape.FindAllStringIndex(text, -1) {
		if !joined(text[:m[0]], true) && !joined(text[m[1]:], false) && validNHS(digitsOnly(text[m[0]:m[1]])) {
			out = append(out, [2]int{m[0], m[1]})
		}
	}
	return out
}

// joined reports whether side (the text before a number, or after it) runs
// on into the number: a letter or digit, or a space or hyphen then a digit.
func joined(side string, before bool) bool {
	next := utf8.DecodeRuneInString
	if before {
		next = utf8.DecodeLastRuneInString
	}
	r, n := next(side)
	if before {
		side = side[:len(side)-n]
	} else {
		side = side[n:]
	}
	r2, _ := next(side)
	return n > 0 && (isWordRune(r) || (r == ' ' || r == '-') && unicode.IsDigit(r2))
}

func set(words string) map[string]bool {
	m := map[string]bool{}
	for _, w := range strings.Fields(words) {
		m[w] = true
	}
	return m
}

// commonWords are names that are also English words: in a note they name
// someone only when written with a capital.
var commonWords = set(`will may hope grace joy rose faith april june august summer autumn dawn
	ruby amber crystal holly ivy daisy lily poppy heather iris sky river storm
	brown green white black grey gray baker cook mason miller hunter fisher
	young long little short small rich sharp swift wise bright hill wood woods field
	stone bush moss marsh lake pond brook ford bridge street lane house hall park
	king lord bishop knight page ward bell best price cash gold silver penny
	bird fox wolf lamb crow swan drake hawk finch nightingale
	frank sue pat bill art guy ray rob don drew chase mark sandy rusty gene
	love bliss sterling noble mild gay bond cross holmes north south west east
	shepherd hope sage savage wells ash rowan violet forest jade pearl`)

// placeWords after a name make it a place: "Grace Hill School".
var placeWords = set(`street road lane avenue close drive way crescent court place square
	gardens grove terrace hill park school primary academy college nursery
	surgery practice centre center hospital ward unit house hall estate farm
	clinic library church chapel`)

// titles before an initial mark a professional, not a person on the system.
var titles = set(`dr doctor prof pc dc ds di dci sgt insp cllr rev revd judge hhj nurse sister officer`)
