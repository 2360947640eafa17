package main

import (
	"context"
	"errors"

	"github.com/council/casefile/notes"
	"github.com/council/casefile/storage/postgres"
)

// raiseRemovalTicket raises a removal ticket for a scan finding; it returns
// the ticket id and whether it was new.
func raiseRemovalTicket(ctx context.Context, db *postgres.DB, f notes.Finding) (string, bool, error) {
	return "", false, errors.New("raising tickets is not available yet")
}
