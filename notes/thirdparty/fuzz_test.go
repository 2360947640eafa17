package thirdparty

import (
	"strings"
	"testing"
	"unicode/utf8"
)

// FuzzCheck: Check never panics, and every warning's match is a non-empty
// part of the note, for any note, with or without exclusions.
func FuzzCheck(f *testing.F) {
	for _, s := range []string{
		"Jayden Okafor's mum", "OKAFOR, Jayden", "J. Okafor", "NHS 083 016 6130", "0830166130", "LCS-2001.",
		"Zoë Brontë", "Liam O’Brien’s", "SMITH, Mary Jane", "Will Brown Primary", "A.", "'s", "-", "083 016 613",
		"Jayden\nOkafor", "\xff\xfeJayden Okafor\xc3", "ZOË BRONTË", "ß", "Ella Hughes-Wright's",
	} {
		f.Add(s, true)
	}
	ix := NewIndex(people)
	f.Fuzz(func(t *testing.T, text string, exclude bool) {
		var ex []Person
		if exclude {
			ex = subjectAndMum()
		}
		for _, w := range ix.Check(text, ex...) {
			if w.Match == "" || !strings.Contains(text, w.Match) || w.Code != Code || w.PersonID == "" {
				t.Fatalf("bad warning %+v for %q", w, text)
			}
			if utf8.ValidString(text) && !utf8.ValidString(w.Match) {
				t.Fatalf("match %q cuts a character of %q", w.Match, text)
			}
		}
	})
}
