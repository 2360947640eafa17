package main

import "testing"

// filled reports whether m holds key with a non-empty string value. A
// presence check written as m[key] == "" cannot fail: a missing key gives
// nil, which is not "".
func filled(m map[string]any, key string) bool {
	v, ok := m[key].(string)
	return ok && v != ""
}

func TestFilledFailsForAMissingField(t *testing.T) {
	m := map[string]any{"recorded_at": "2026-03-02T10:00:00Z", "empty": "", "null": nil, "number": 1.0}
	if !filled(m, "recorded_at") {
		t.Error("a present field is not filled")
	}
	for _, k := range []string{"missing", "empty", "null", "number"} {
		if filled(m, k) {
			t.Errorf("%s counts as filled", k)
		}
	}
	if m["missing"] == "" {
		t.Error("the old check m[k] == \"\" would now catch a missing key") // documents why filled exists
	}
}
