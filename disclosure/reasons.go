package disclosure

import (
	"fmt"
	"strings"
	"unicode"
)

// Reason is one reason a span may be redacted or a document withheld: Code
// is what is stored and audited, Label what the bundle's boxes say.
type Reason struct {
	Code  string `json:"code"`
	Label string `json:"label"`
}

// DefaultReasons are the ICO's usual grounds, as CASEFILE_DISCLOSURE_REASONS
// would list them.
const DefaultReasons = "third party, serious harm, legal privilege, court material, outside the request"

// ParseReasons reads a comma-separated list of reason labels; each code is
// its label in lower case with underscores for spaces ("third_party").
func ParseReasons(list string) ([]Reason, error) {
	var out []Reason
	seen := map[string]bool{}
	for _, l := range strings.Split(list, ",") {
		l = strings.Join(strings.Fields(l), " ")
		if l == "" {
			continue
		}
		if len(l) > 60 {
			return nil, fmt.Errorf("reason %q is longer than 60 characters", l)
		}
		var b strings.Builder
		for _, r := range strings.ToLower(l) {
			switch {
			case r < 128 && (unicode.IsLetter(r) || unicode.IsDigit(r)):
				b.WriteRune(r)
			case r == ' ' || r == '-' || r == '_':
				b.WriteByte('_')
			default:
				return nil, fmt.Errorf("reason %q: use letters, digits, spaces and hyphens only", l)
			}
		}
		code := b.String()
		if seen[code] {
			return nil, fmt.Errorf("reason %q is listed twice", l)
		}
		seen[code] = true
		out = append(out, Reason{Code: code, Label: l})
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("no reasons listed")
	}
	return out, nil
}

// MustReasons is ParseReasons for a list known to be good.
func MustReasons(list string) []Reason {
	r, err := ParseReasons(list)
	if err != nil {
		panic(err)
	}
	return r
}
