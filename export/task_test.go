package export_test

import (
	"context"
	"errors"
	"io"
	"strings"
	"testing"

	"github.com/council/casefile"
	"github.com/council/casefile/export"
	"github.com/council/casefile/internal/testenv"
)

// An export whose bundle cannot be stored is retried while the store is
// down, and recorded failed, saying why, on its last attempt: it does not
// stay running for ever.
func TestExportFailedOnItsLastAttempt(t *testing.T) {
	db := testenv.Postgres(t)
	ctx := casefile.WithActor(context.Background(), casefile.Actor{Name: "officer", Role: casefile.RoleRecordsOfficer})
	p := &casefile.Person{ExternalRef: "EXP-1", GivenName: "Amy", FamilyName: "Pond"}
	if err := db.CreatePerson(ctx, p); err != nil {
		t.Fatal(err)
	}
	e, err := db.CreateExport(ctx, p.ID)
	if err != nil {
		t.Fatal(err)
	}
	last := false
	svc := &export.Service{Exports: db,
		Builder: &export.Builder{Source: db, Open: func(context.Context, string) (io.ReadCloser, error) { return nil, errors.New("no objects") }},
		Put: func(context.Context, string, io.Reader) error {
			return casefile.Unavailable("S3", errors.New("connection refused"))
		},
		FinalAttempt: func(context.Context) bool { return last }}
	payload := []byte(`{"export_id":"` + e.ID + `"}`)
	if err := svc.Handle(ctx, payload); casefile.ErrorKind(err) != casefile.EUnavailable {
		t.Fatalf("an attempt with S3 down: %v, want it handed back to be retried", err)
	}
	if got, _ := db.Export(ctx, e.ID); got.State != "running" {
		t.Fatalf("after an attempt that will be retried: %s", got.State)
	}
	last = true
	if err := svc.Handle(ctx, payload); err != nil {
		t.Fatalf("the last attempt: %v", err)
	}
	got, _ := db.Export(ctx, e.ID)
	if got.State != "failed" || !strings.Contains(got.Error, "gave up after repeated attempts") || !strings.Contains(got.Error, "S3") {
		t.Fatalf("after the last attempt: %s %q", got.State, got.Error)
	}
}
