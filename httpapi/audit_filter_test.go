package httpapi

import (
	"context"
	"encoding/json"
	"net/http/httptest"
	"testing"

	"github.com/council/casefile"
	"github.com/council/casefile/internal/testenv"
)

// The audit filter takes actions of any number of parts
// (note.refused_pasted_email, retention.run.approve) and families of them
// (retention.run.*), and still refuses what is not an action.
func TestAuditFilterTakesActionsOfAnyLength(t *testing.T) {
	db := testenv.Postgres(t)
	ctx := casefile.WithActor(context.Background(), casefile.Actor{Name: "tester", Role: casefile.RoleAdmin})
	for _, a := range []string{"note.refused_pasted_email", "retention.run.approve", "retention.run.reject", "retention.sweep", "note.create"} {
		if err := db.RecordEvent(ctx, &casefile.AuditEvent{Action: a, TargetType: "test", TargetID: a}); err != nil {
			t.Fatal(err)
		}
	}
	s := New(Config{Tokens: roleTokens{}, Audit: db, Access: db})
	get := func(action string) (int, []string) {
		rec := httptest.NewRecorder()
		req := httptest.NewRequest("GET", "/v1/audit?limit=500&action="+action, nil)
		req.Header.Set("Authorization", "Bearer token-auditor")
		s.ServeHTTP(rec, req)
		var body struct {
			Items []casefile.AuditEvent `json:"items"`
		}
		_ = json.Unmarshal(rec.Body.Bytes(), &body)
		var got []string
		for _, e := range body.Items {
			got = append(got, e.Action)
		}
		return rec.Code, got
	}
	for action, want := range map[string][]string{
		"note.refused_pasted_email": {"note.refused_pasted_email"},
		"retention.run.approve":     {"retention.run.approve"},
		"retention.run.*":           {"retention.run.approve", "retention.run.reject"},
		"note.*":                    {"note.refused_pasted_email", "note.create"},
	} {
		code, got := get(action)
		if code != 200 || len(got) != len(want) {
			t.Errorf("action=%s: %d %v, want %v", action, code, got, want)
			continue
		}
		for i := range want {
			if got[i] != want[i] {
				t.Errorf("action=%s: %v, want %v", action, got, want)
			}
		}
	}
	for _, bad := range []string{"Note.Create", "note..create", "note.*.create", "note.", ".note", "note%20drop"} {
		if code, _ := get(bad); code != 400 {
			t.Errorf("action=%s: %d, want 400 invalid_action", bad, code)
		}
	}
}
